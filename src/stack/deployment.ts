/**
 * The deployment configuration: one YAML file (CASEBOOK_CONFIG) binding each side effect to a connector.
 * Read with the playbooks' position-keeping reader, checked against schemas/deployment.schema.json and
 * then for meaning (bindings that name what exists, no secret in the file, no private destination not
 * allowed by name); every problem is reported at its line and column with a code from CONFIG_CODES.
 * Without CASEBOOK_CONFIG, everything runs on the local connectors.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import schema from '../../schemas/deployment.schema.json' with { type: 'json' };
import {
  CHANNELS,
  type ConnectorBinding,
  type ConnectorConfig,
  type Destination,
  type InboundSource,
  isPrivateAddress,
  LOCAL_CONNECTORS,
  type MailServer,
} from '../connectors/config.js';
import type { Diagnostic } from '../playbook/diagnostics.js';
import { closest } from '../playbook/hints.js';
import { shapeChecker } from '../playbook/schema-check.js';
import { type JsonPath, type PlaybookSource, readPlaybook, type Span } from '../playbook/source.js';
import type { DiagnosticCode } from '../plan/diagnostic-codes.js';
import { parseDuration } from '../plan/duration.js';
import type { Channel } from '../plan/plan.js';
import type { ConfigCode } from './config-codes.js';
import { MAX_ATTEMPT_MS } from '../connectors/webhooks/sender.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 65_536;
/** An attempt is made within its activity's 30 s start-to-close timeout (src/connectors/webhooks/sender.ts). */
const TIMEOUT_RANGE_MS = [100, MAX_ATTEMPT_MS] as const;

export interface ConfigProblem extends Span {
  file: string;
  code: ConfigCode;
  message: string;
  hint?: string;
}

/** `file:line:column: error CODE: message`, the format of the playbook diagnostics. */
export function formatConfigProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: error ${p.code}: ${p.message}${p.hint ? ` (hint: ${p.hint})` : ''}`;
}

/** A configuration that cannot run; the message holds one line per problem. */
export class DeploymentConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `the configuration ${file} (CASEBOOK_CONFIG) has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map(formatConfigProblem).join('\n')}`,
    );
    this.name = 'DeploymentConfigError';
  }
}

/** The connectors the environment configures: CASEBOOK_CONFIG's file, or all local without it. Throws DeploymentConfigError. */
export function connectorsFromEnv(env: NodeJS.ProcessEnv): ConnectorConfig {
  const file = env.CASEBOOK_CONFIG;
  return file ? loadDeployment(file) : LOCAL_CONNECTORS;
}

/** Reads and checks a configuration file. Throws DeploymentConfigError naming every problem. */
export function loadDeployment(file: string): ConnectorConfig {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such file' : `it cannot be read (${(error as Error).message})`;
    throw new DeploymentConfigError(file, [{ file, line: 1, column: 1, endLine: 1, endColumn: 1, code: 'CFG001', message: why }]);
  }
  const { config, problems } = readDeployment(bytes, file);
  if (!config) throw new DeploymentConfigError(file, problems);
  return config;
}

const checkShape = shapeChecker(schema as Record<string, unknown>, 'the configuration');

/** The codes of the shared reader and schema check, as this catalogue names them. */
const FROM_PLAYBOOK_CODES: Partial<Record<DiagnosticCode, ConfigCode>> = {
  YAML013: 'CFG003',
  SCHEMA001: 'CFG010',
  SCHEMA002: 'CFG011',
  SCHEMA003: 'CFG012',
  SCHEMA004: 'CFG013',
  SCHEMA005: 'CFG014',
  SCHEMA009: 'CFG014',
};

/** A configuration's text checked; `config` only when there is no problem. Pure. */
export function readDeployment(input: string | Uint8Array, file: string): { config?: ConnectorConfig; problems: ConfigProblem[] } {
  const read = readPlaybook(input, file);
  const fromShared = (d: Diagnostic): ConfigProblem => ({
    file,
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    code: FROM_PLAYBOOK_CODES[d.code] ?? (d.code.startsWith('SCHEMA') ? 'CFG015' : 'CFG002'),
    message: d.code === 'YAML013' ? 'the configuration is empty' : d.message,
    ...(d.code === 'YAML013'
      ? { hint: 'start from config/casebook.example.yaml, or unset CASEBOOK_CONFIG to run on the local connectors' }
      : d.hint
        ? { hint: d.hint }
        : {}),
  });
  if (!read.source) return { problems: read.diagnostics.map(fromShared) };
  const checker = new Checker(read.source);
  checker.secrets(read.source.value, []);
  const config = checker.meaning();
  // Where a secret or a variable name is written, the schema's message could repeat the value: only ours is kept.
  const shape = checkShape(read.source).filter((d) => !checker.guarded(d));
  const problems = sortProblems(dedupe([...shape.map(fromShared), ...checker.problems]));
  return problems.length === 0 && config ? { config: deepFreeze(config), problems: [] } : { problems };
}

/** Checked once, then frozen: nothing changes the configuration while Casebook runs. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}:${p.column}:${p.code}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
}

/** Keys that hold a secret when they hold a value; `secrets`, `password_env` and the like name variables instead. */
const SECRET_KEY = /^(?:.*[_-])?(?:secret|password|passwd|pass|token|api[_-]?key|apikey|private[_-]?key|credentials?)$/i;
/** Values that look like a secret whatever their key: Standard Webhooks secrets, common API keys, PEM keys. */
const SECRET_VALUE = /^(?:whsec_|sk_live_|sk_test_|rk_live_|xox[abpr]-|ghp_|github_pat_|-----BEGIN )/;
const VARIABLE = /^[A-Z_][A-Z0-9_]{0,127}$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a binding is for: a channel, or one of the other side effects. */
type Slot = { channel: Channel } | { effect: 'payments' | 'order_system' | 'notifications' | 'integrations' };

class Checker {
  readonly problems: ConfigProblem[] = [];
  private readonly guardedSpans = new Set<string>();

  constructor(private readonly source: PlaybookSource) {}

  guarded(d: Diagnostic): boolean {
    return this.guardedSpans.has(`${d.line}:${d.column}`);
  }

  private report(code: ConfigCode, message: string, path: JsonPath, options: { key?: boolean; hint?: string } = {}): void {
    const span = this.source.locate(path, { key: options.key });
    this.problems.push({ file: this.source.file, ...span, code, message, ...(options.hint ? { hint: options.hint } : {}) });
  }

  private guard(path: JsonPath, key = false): void {
    const span = this.source.locate(path, { key });
    this.guardedSpans.add(`${span.line}:${span.column}`);
  }

  /** Secrets written anywhere in the file: never repeated in a message. */
  secrets(value: unknown, path: JsonPath): void {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        this.secrets(item, [...path, i]);
      });
    } else if (isObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        const at = [...path, key];
        if (SECRET_KEY.test(key) && item !== null && item !== '' && !isObject(item) && !Array.isArray(item)) {
          this.guard(at, true);
          this.guard(at);
          this.report('CFG030', `'${key}' holds a secret written in the file (${describe(at)})`, at, { key: true, hint: SECRET_HINT });
        } else {
          this.secrets(item, at);
        }
      }
    } else if (typeof value === 'string' && SECRET_VALUE.test(value.trim())) {
      this.guard(path);
      this.report('CFG030', `${describe(path)} holds what looks like a secret, written in the file`, path, { hint: SECRET_HINT });
    }
  }

  /** The checks of meaning, each on whatever part has the right shape; the configuration when everything passed. */
  meaning(): ConnectorConfig | undefined {
    const root = this.source.value;
    if (!isObject(root)) return undefined;
    const destinations = this.destinations(root.destinations);
    const mailServers = this.mailServers(root.mail_servers);
    const inbound = this.inbound(root.inbound);
    const bind = (value: unknown, path: JsonPath, slot: Slot) => this.binding(value, path, slot, destinations, mailServers);
    const channels = { ...LOCAL_CONNECTORS.channels };
    if (isObject(root.channels)) {
      for (const [name, value] of Object.entries(root.channels)) {
        if (!(CHANNELS as readonly string[]).includes(name)) {
          const suggestion = closest(name, [...CHANNELS]);
          this.report('CFG020', `unknown channel '${name}'`, ['channels', name], {
            key: true,
            hint: suggestion ? `did you mean '${suggestion}'?` : `the channels are ${CHANNELS.join(', ')}`,
          });
          continue;
        }
        const binding = bind(value, ['channels', name], { channel: name as Channel });
        if (binding) channels[name as Channel] = binding;
      }
    }
    const effect = (key: 'payments' | 'order_system' | 'notifications') => (root[key] === undefined ? undefined : bind(root[key], [key], { effect: key }));
    const payments = effect('payments') ?? LOCAL_CONNECTORS.payments;
    const orderSystem = effect('order_system') ?? LOCAL_CONNECTORS.orderSystem;
    const notifications = effect('notifications');
    const integrations: Record<string, ConnectorBinding> = { ...LOCAL_CONNECTORS.integrations };
    if (isObject(root.integrations)) {
      for (const [name, value] of Object.entries(root.integrations)) {
        const binding = bind(value, ['integrations', name], { effect: 'integrations' });
        if (binding) integrations[name] = binding;
      }
    }
    if (!destinations || !mailServers || !inbound) return undefined;
    return {
      file: this.source.file,
      destinations,
      mailServers,
      channels,
      payments,
      orderSystem,
      ...(notifications ? { notifications } : {}),
      integrations,
      inbound,
    };
  }

  private binding(
    value: unknown,
    path: JsonPath,
    slot: Slot,
    destinations: Record<string, Destination> | undefined,
    mailServers: Record<string, MailServer> | undefined,
  ): ConnectorBinding | undefined {
    if (!isObject(value) || typeof value.connector !== 'string') return undefined;
    const where = describe(path);
    const has = (key: string) => value[key] !== undefined;
    switch (value.connector) {
      case 'local':
        for (const key of ['destination', 'server'].filter(has)) {
          this.report('CFG023', `${where}: the local connector takes no '${key}'`, [...path, key], { key: true, hint: `remove '${key}'` });
        }
        return { connector: 'local' };
      case 'webhook': {
        if (has('server')) this.report('CFG023', `${where}: the webhook connector takes a destination, not a server`, [...path, 'server'], { key: true });
        const name = value.destination;
        if (typeof name !== 'string') {
          if (!has('destination')) this.report('CFG023', `${where}: the webhook connector needs a 'destination'`, path, { key: path.length > 0 });
          return undefined;
        }
        const declared = isObject(this.source.value) && isObject(this.source.value.destinations) ? Object.keys(this.source.value.destinations) : [];
        if (!declared.includes(name)) {
          const suggestion = closest(name, declared);
          this.report('CFG021', `${where}: no destination named '${name}'`, [...path, 'destination'], {
            hint: suggestion ? `did you mean '${suggestion}'?` : 'declare it under destinations:',
          });
          return undefined;
        }
        return destinations ? { connector: 'webhook', destination: name } : undefined;
      }
      case 'smtp': {
        if (has('destination'))
          this.report('CFG023', `${where}: the smtp connector takes a server, not a destination`, [...path, 'destination'], { key: true });
        if (!('channel' in slot && slot.channel === 'email')) {
          this.report('CFG024', `${where}: the smtp connector carries only the email channel`, [...path, 'connector'], { hint: 'use webhook or local here' });
          return undefined;
        }
        const name = value.server;
        if (typeof name !== 'string') {
          if (!has('server')) this.report('CFG023', `${where}: the smtp connector needs a 'server' (a name under mail_servers:)`, path, { key: true });
          return undefined;
        }
        const declared = isObject(this.source.value) && isObject(this.source.value.mail_servers) ? Object.keys(this.source.value.mail_servers) : [];
        if (!declared.includes(name)) {
          const suggestion = closest(name, declared);
          this.report('CFG022', `${where}: no mail server named '${name}'`, [...path, 'server'], {
            hint: suggestion ? `did you mean '${suggestion}'?` : 'declare it under mail_servers:',
          });
          return undefined;
        }
        return mailServers ? { connector: 'smtp', server: name } : undefined;
      }
      default:
        return undefined; // not among the allowed values: reported by the schema
    }
  }

  /** Checks every variable name of `list` (at `path`), without ever repeating a value that is not one. */
  private variables(list: unknown, path: JsonPath): string[] | undefined {
    if (!Array.isArray(list)) return undefined;
    let ok = true;
    list.forEach((item, i) => {
      if (typeof item === 'string' && !VARIABLE.test(item)) {
        ok = false;
        this.variableProblem(item, [...path, i]);
      }
    });
    return ok && list.every((item) => typeof item === 'string') ? (list as string[]) : undefined;
  }

  private variableProblem(item: string, path: JsonPath): void {
    if (SECRET_VALUE.test(item.trim())) return; // reported as a secret already
    this.guard(path);
    this.report('CFG014', `${describe(path)} is not the name of an environment variable (upper case letters, digits and _)`, path, {
      hint: 'name the variable that holds the secret; if this is the secret itself, take it out of the file',
    });
  }

  private destinations(value: unknown): Record<string, Destination> | undefined {
    if (value === undefined) return {};
    if (!isObject(value)) return undefined;
    const out: Record<string, Destination> = {};
    let ok = true;
    for (const [name, raw] of Object.entries(value)) {
      const destination = isObject(raw) ? this.destination(name, raw) : undefined;
      if (destination) out[name] = destination;
      else ok = false;
    }
    return ok ? out : undefined;
  }

  private destination(name: string, raw: Json): Destination | undefined {
    const path = ['destinations', name];
    const allowPrivateAddress = raw.allow_private_address === true;
    const url = typeof raw.url === 'string' ? this.url(raw.url, [...path, 'url'], allowPrivateAddress) : undefined;
    const secretVariables = this.variables(raw.secrets, [...path, 'secrets']);
    const timeoutMs = raw.timeout === undefined ? DEFAULT_TIMEOUT_MS : this.duration(raw.timeout, [...path, 'timeout'], TIMEOUT_RANGE_MS);
    const maxResponseBytes = raw.max_response_bytes === undefined ? DEFAULT_MAX_RESPONSE_BYTES : raw.max_response_bytes;
    if (url === undefined || !secretVariables || timeoutMs === undefined || typeof maxResponseBytes !== 'number') return undefined;
    return { name, url, secretVariables, timeoutMs, maxResponseBytes, allowPrivateAddress };
  }

  /** An absolute https URL with no credentials, on a public host unless allowed by name. */
  private url(text: string, path: JsonPath, allowPrivate: boolean): string | undefined {
    const where = describe(path);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      this.report('CFG040', `${where} is not an absolute URL`, path, { hint: 'write it as https://host/path' });
      return undefined;
    }
    if (url.username || url.password) {
      this.guard(path);
      this.report('CFG030', `${where} carries credentials (user:password@) written in the file`, path, { hint: SECRET_HINT });
      return undefined;
    }
    const secretParameter = [...url.searchParams.keys()].find((key) => SECRET_KEY.test(key));
    if (secretParameter) {
      this.guard(path);
      this.report('CFG030', `${where} carries a secret in its query ('${secretParameter}=')`, path, { hint: SECRET_HINT });
      return undefined;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      this.report('CFG040', `${where} must be an https:// URL, not ${url.protocol}//`, path);
      return undefined;
    }
    if (url.hash) {
      this.report('CFG040', `${where} has a fragment (#...), which is never sent`, path, { hint: 'remove the #... part' });
      return undefined;
    }
    let ok = true;
    if (url.protocol === 'http:' && !allowPrivate) {
      ok = false;
      this.report('CFG041', `${where} is http://: signed requests go over https:// only`, path, {
        hint: 'use https://, or for a receiver on this machine or network add allow_private_address: true to this destination',
      });
    }
    const host = url.hostname
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '')
      .toLowerCase();
    const local = host === 'localhost' || host.endsWith('.localhost');
    if (!allowPrivate && (local || (isIP(host) !== 0 && isPrivateAddress(host)))) {
      ok = false;
      this.report('CFG042', `${where} is on ${local ? 'localhost' : `${host}, a loopback, private or link-local address`}`, path, {
        hint: 'Casebook refuses private addresses unless a destination allows them: add allow_private_address: true to it if this is meant',
      });
    }
    return ok ? url.href : undefined;
  }

  private duration(value: unknown, path: JsonPath, [min, max]: readonly [number, number]): number | undefined {
    const ms = typeof value === 'string' ? parseTimeout(value) : undefined;
    if (typeof value === 'string' && ms === undefined) {
      this.report('CFG050', `${describe(path)}: '${value}' is not a duration`, path, { hint: 'write it as 500ms, 10s, 2m, 1m30s or `2 minutes`' });
      return undefined;
    }
    if (ms === undefined) return undefined; // not a string: reported by the schema
    if (ms < min || ms > max) {
      this.report('CFG050', `${describe(path)} must be from ${min} ms to ${max / 60_000} minutes`, path);
      return undefined;
    }
    return ms;
  }

  private mailServers(value: unknown): Record<string, MailServer> | undefined {
    if (value === undefined) return {};
    if (!isObject(value)) return undefined;
    const out: Record<string, MailServer> = {};
    let ok = true;
    for (const [name, raw] of Object.entries(value)) {
      if (!isObject(raw) || typeof raw.host !== 'string' || typeof raw.from !== 'string') {
        ok = false;
        continue;
      }
      const path = ['mail_servers', name];
      const user = raw.user_env;
      const password = raw.password_env;
      for (const key of ['user_env', 'password_env'] as const) {
        const variable = raw[key];
        if (typeof variable === 'string' && !VARIABLE.test(variable)) {
          ok = false;
          this.variableProblem(variable, [...path, key]);
        }
      }
      if ((user === undefined) !== (password === undefined)) {
        ok = false;
        const [given, missing] = user === undefined ? ['password_env', 'user_env'] : ['user_env', 'password_env'];
        this.report('CFG051', `${describe(path)} has ${given} but no ${missing}`, [...path, given], { key: true, hint: 'give both or neither' });
      }
      const secure = typeof raw.secure === 'boolean' ? raw.secure : raw.port === 465;
      const port = typeof raw.port === 'number' ? raw.port : secure ? 465 : 587;
      out[name] = {
        name,
        host: raw.host,
        port,
        secure,
        ...(typeof user === 'string' ? { userVariable: user } : {}),
        ...(typeof password === 'string' ? { passwordVariable: password } : {}),
        from: raw.from,
      };
    }
    return ok ? out : undefined;
  }

  private inbound(value: unknown): Record<string, InboundSource> | undefined {
    if (value === undefined) return {};
    if (!isObject(value)) return undefined;
    const out: Record<string, InboundSource> = {};
    let ok = true;
    for (const [name, raw] of Object.entries(value)) {
      const secretVariables = isObject(raw) ? this.variables(raw.secrets, ['inbound', name, 'secrets']) : undefined;
      if (secretVariables) out[name] = { name, secretVariables };
      else ok = false;
    }
    return ok ? out : undefined;
  }
}

const SECRET_HINT = 'put the secret in an environment variable and name the variable here (secrets: [NAME], password_env: NAME)';

/** `500ms`, `10s`, `1m30s`, `2 minutes`, `1 hour`: milliseconds, or undefined. */
export function parseTimeout(text: string): number | undefined {
  const words = /^([0-9]{1,7})\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)$/.exec(text.trim());
  if (words) {
    const unit = words[2]!;
    const size = unit.startsWith('ms') || unit.startsWith('milli') ? 1 : unit.startsWith('s') ? 1_000 : unit.startsWith('m') ? 60_000 : 3_600_000;
    return Number(words[1]) * size;
  }
  return parseDuration(text.trim());
}

function describe(path: JsonPath): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
      .join('')
      .slice(1) || 'the configuration'
  );
}
