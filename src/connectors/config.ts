/**
 * What the deployment configuration (CASEBOOK_CONFIG, read and checked by src/stack/deployment.ts) says
 * about the connectors: which connector carries each side effect, and where. Types and pure helpers only:
 * connectors read these, never the file.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Channel } from '../plan/plan.js';

/** The channels a playbook can send on, in the order the configuration documents them. */
export const CHANNELS: readonly Channel[] = ['chat', 'inbox', 'sms', 'email', 'phone'];

export type ConnectorBinding = { connector: 'local' } | { connector: 'webhook'; destination: string } | { connector: 'smtp'; server: string };

/** An outbound HTTP endpoint; nothing else is ever called. */
export interface Destination {
  name: string;
  url: string;
  /** Names of the environment variables holding the signing secrets (two during a rotation). */
  secretVariables: string[];
  timeoutMs: number;
  maxResponseBytes: number;
  /** Loopback, private and link-local addresses are refused unless this is true. */
  allowPrivateAddress: boolean;
}

export interface MailServer {
  name: string;
  host: string;
  port: number;
  secure: boolean;
  userVariable?: string;
  passwordVariable?: string;
  from: string;
}

/** A system that posts signed events to POST /v1/inbound/{name}. */
export interface InboundSource {
  name: string;
  secretVariables: string[];
}

export interface ConnectorConfig {
  /** The file it was read from; absent for the built-in local configuration. */
  file?: string;
  destinations: Record<string, Destination>;
  mailServers: Record<string, MailServer>;
  channels: Record<Channel, ConnectorBinding>;
  payments: ConnectorBinding;
  orderSystem: ConnectorBinding;
  /** Tasks and escalations opened; absent: nobody is told. */
  notifications?: ConnectorBinding;
  /** By the integration name playbooks declare; always has `default`. */
  integrations: Record<string, ConnectorBinding>;
  inbound: Record<string, InboundSource>;
}

const LOCAL: ConnectorBinding = Object.freeze({ connector: 'local' });

/** The default without CASEBOOK_CONFIG: every side effect on the local connectors, no inbound source. */
export const LOCAL_CONNECTORS: ConnectorConfig = Object.freeze({
  destinations: Object.freeze({}),
  mailServers: Object.freeze({}),
  channels: Object.freeze({ chat: LOCAL, inbox: LOCAL, sms: LOCAL, email: LOCAL, phone: LOCAL }),
  payments: LOCAL,
  orderSystem: LOCAL,
  integrations: Object.freeze({ default: LOCAL }),
  inbound: Object.freeze({}),
});

/** A secret's variable is unset or empty. Names the variable, never a value. */
export class MissingSecretError extends Error {
  constructor(readonly variable: string) {
    super(`the environment variable ${variable} is not set`);
    this.name = 'MissingSecretError';
  }
}

/**
 * Secret values by variable name, read at each use (so a restart with a new variable rotates it).
 * Throws naming the VARIABLE, never a value.
 */
export function secretsOf(variables: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return variables.map((variable) => {
    const value = env[variable];
    if (value === undefined || value === '') throw new MissingSecretError(variable);
    return value;
  });
}

/** IPv4 ranges not reachable as a public host, as [first octets as a 32-bit number, prefix length]. */
const PRIVATE_V4: ReadonlyArray<readonly [number, number]> = [
  [v4('0.0.0.0'), 8], // unspecified, "this network"
  [v4('10.0.0.0'), 8], // RFC 1918
  [v4('100.64.0.0'), 10], // carrier-grade NAT
  [v4('127.0.0.0'), 8], // loopback
  [v4('169.254.0.0'), 16], // link-local (cloud metadata services)
  [v4('172.16.0.0'), 12], // RFC 1918
  [v4('192.0.0.0'), 24], // IETF protocol assignments
  [v4('192.168.0.0'), 16], // RFC 1918
  [v4('198.18.0.0'), 15], // benchmarking
  [v4('224.0.0.0'), 4], // multicast
  [v4('240.0.0.0'), 4], // reserved, broadcast
];

/**
 * Whether an IP address is loopback, private (RFC 1918, fc00::/7), link-local, unspecified, CGNAT,
 * multicast or reserved, or an IPv4-mapped (or NAT64) form of one of those. Anything that is not an IP
 * address counts as private: a caller deciding whether to connect should refuse what it cannot place.
 */
export function isPrivateAddress(ip: string): boolean {
  const address = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIPv4(address)) return privateV4(v4(address));
  const unzoned = address.split('%')[0] ?? '';
  if (!isIPv6(unzoned)) return true;
  const groups = v6(unzoned);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const embedded = ((g6 << 16) | g7) >>> 0;
  const zeroTo = (n: number): boolean => groups.slice(0, n).every((g) => g === 0);
  if (zeroTo(8)) return true; // ::
  if (zeroTo(7) && g7 === 1) return true; // ::1
  if (zeroTo(5) && g5 === 0xffff) return privateV4(embedded); // ::ffff:a.b.c.d
  if (zeroTo(6)) return privateV4(embedded); // ::a.b.c.d (deprecated IPv4-compatible)
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return privateV4(embedded); // NAT64
  if ((g0 & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g0 & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g0 & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((g0 & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return true; // documentation
  return false;
}

function privateV4(address: number): boolean {
  return PRIVATE_V4.some(([network, prefix]) => address >>> (32 - prefix) === network >>> (32 - prefix));
}

function v4(address: string): number {
  return address.split('.').reduce((sum, octet) => ((sum << 8) | Number(octet)) >>> 0, 0);
}

/** Eight 16-bit groups of a valid IPv6 address (with `::` expanded and a dotted IPv4 tail split in two). */
function v6(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const tail = v4(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
