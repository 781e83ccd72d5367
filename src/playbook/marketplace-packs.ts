/**
 * Marketplace rule packs (marketplaces/<name>.yaml, schemas/marketplace.schema.json): read with
 * positions and checked like playbooks, and playbooks validated against them. Pure: the callers read the
 * files and pass their contents.
 */
import schema from '../../schemas/marketplace.schema.json' with { type: 'json' };
import { parseDuration } from '../plan/duration.js';
import { hasErrors, Reporter, sortDiagnostics, type Diagnostic, type Severity } from './diagnostics.js';
import { validatePlaybook, type CompileOptions, type ValidationResult } from './index.js';
import { checkMarketplaceRules } from './marketplace.js';
import { shapeChecker } from './schema-check.js';
import { readPlaybook } from './source.js';

export type RuleLimits = 'deadline' | 'guarantee';

export interface MarketplaceRule {
  id: string;
  title: string;
  /** deadline: a bound playbook deadline may be at most `limitMs`; guarantee: a bound window at least. */
  limits: RuleLimits;
  /** As the pack writes it (48h), for messages. */
  limit: string;
  limitMs: number;
  countsFrom: string;
  then?: string;
  severity: Severity;
  source: string;
}

export interface MarketplacePack {
  name: string;
  version: number;
  file: string;
  rules: Record<string, MarketplaceRule>;
}

/** The packs by marketplace name, and the names whose pack file has errors (they check nothing). */
export interface MarketplacePacks {
  packs: Record<string, MarketplacePack>;
  broken: Record<string, string>;
}

export const NO_MARKETPLACE_PACKS: MarketplacePacks = { packs: {}, broken: {} };

interface RawRule {
  title: string;
  limits: RuleLimits;
  limit: string;
  counts_from: string;
  then?: string;
  severity: Severity;
  source: string;
}

interface RawPack {
  marketplace: string;
  version: number;
  sources: Record<string, unknown>;
  rules: Record<string, RawRule>;
}

const checkPackShape = shapeChecker(schema as Record<string, unknown>);

/** One pack file: the pack, or the diagnostics (file:line:col) saying why it is not one. */
export function readMarketplacePack(text: string | Uint8Array, file: string): { pack?: MarketplacePack; name?: string; diagnostics: Diagnostic[] } {
  const read = readPlaybook(text, file);
  if (!read.source) return { diagnostics: read.diagnostics };
  const value = read.source.value as Partial<RawPack> | null;
  const name = typeof value?.marketplace === 'string' ? value.marketplace : undefined;
  const shape = checkPackShape(read.source);
  if (shape.length > 0) return { ...(name ? { name } : {}), diagnostics: sortDiagnostics(shape) };
  const raw = value as RawPack;
  const report = new Reporter(read.source);
  const rules: Record<string, MarketplaceRule> = {};
  for (const [id, rule] of Object.entries(raw.rules)) {
    if (!(rule.source in raw.sources)) {
      report.error('PB156', `rule '${id}' names the source '${rule.source}', which is not under sources`, ['rules', id, 'source'], {
        hint: `sources: ${Object.keys(raw.sources).join(', ')}`,
      });
    }
    const limitMs = parseDuration(rule.limit);
    if (limitMs === undefined || limitMs === 0) {
      report.error('PB156', `rule '${id}' has no usable limit: '${rule.limit}'`, ['rules', id, 'limit'], { hint: 'durations are written 30m, 24h, 7d' });
      continue;
    }
    rules[id] = {
      id,
      title: rule.title,
      limits: rule.limits,
      limit: rule.limit,
      limitMs,
      countsFrom: rule.counts_from,
      severity: rule.severity,
      source: rule.source,
      // biome-ignore lint/suspicious/noThenProperty: a rule's `then` is the marketplace's next rule, never awaited
      ...(rule.then ? { then: rule.then } : {}),
    };
  }
  if (report.diagnostics.length > 0) return { name: raw.marketplace, diagnostics: sortDiagnostics(report.diagnostics) };
  return { name: raw.marketplace, pack: { name: raw.marketplace, version: raw.version, file, rules }, diagnostics: [] };
}

/** All the pack files a caller found (e.g. marketplaces/*.yaml), by marketplace name. */
export function readMarketplacePacks(files: { file: string; text: string | Uint8Array }[]): MarketplacePacks & { diagnostics: Diagnostic[] } {
  const packs: Record<string, MarketplacePack> = {};
  const broken: Record<string, string> = {};
  const diagnostics: Diagnostic[] = [];
  for (const { file, text } of files) {
    const read = readMarketplacePack(text, file);
    diagnostics.push(...read.diagnostics);
    if (read.pack && !packs[read.pack.name] && !broken[read.pack.name]) packs[read.pack.name] = read.pack;
    else if (read.pack) {
      const first = packs[read.pack.name]?.file ?? broken[read.pack.name];
      diagnostics.push({
        severity: 'error',
        code: 'PB156',
        message: `a second pack for marketplace '${read.pack.name}' (the first is ${first})`,
        file,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        hint: 'keep one file per marketplace',
      });
    } else if (read.name && !packs[read.name]) broken[read.name] = file;
  }
  return { packs, broken, diagnostics };
}

/**
 * validatePlaybook, then the marketplace's rules: an error among them withholds the plan (publish refuses it).
 * Business durations are judged over the calendar from `checkedAt` (default now) for 400 days.
 */
export function validateWithMarketplace(
  source: string | Uint8Array,
  file: string,
  options: CompileOptions & { marketplaces: MarketplacePacks; checkedAt?: number },
): ValidationResult {
  const { marketplaces, checkedAt = Date.now(), ...compileOptions } = options;
  const result = validatePlaybook(source, file, compileOptions);
  if (!result.plan?.plan.marketplace) return result;
  const read = readPlaybook(source, file);
  if (!read.source) return result;
  const found = checkMarketplaceRules(read.source, result.plan.plan, marketplaces, checkedAt);
  if (found.length === 0) return result;
  const diagnostics = sortDiagnostics([...result.diagnostics, ...found]);
  return hasErrors(found) ? { diagnostics } : { diagnostics, plan: result.plan };
}
