/** What the documentation says about the code, checked against the code: catalogues and README figures. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import schema from '../schemas/playbook.schema.json' with { type: 'json' };
import { DIAGNOSTIC_CODES } from '../src/plan/diagnostic-codes.js';
import { CONFIG_CODES } from '../src/stack/config-codes.js';
import { STEP_KINDS } from '../src/plan/steps/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

/** The first cells of a markdown table's rows, under the heading `title`. */
function tableKeys(markdown: string, title: string): string[] {
  const section = markdown.split(/^## /m).find((part) => part.startsWith(title));
  if (!section) throw new Error(`no section '## ${title}'`);
  return [...section.matchAll(/^\| `?([A-Za-z0-9_.-]+)`? \|/gm)].map((match) => match[1]!).filter((key) => !['code', 'type', '---'].includes(key));
}

describe('diagnostic codes', () => {
  it('are exactly those docs/playbook-language.md lists', () => {
    expect(tableKeys(read('docs/playbook-language.md'), 'Diagnostic codes').sort()).toEqual(Object.keys(DIAGNOSTIC_CODES).sort());
  });
});

describe('configuration codes', () => {
  it('are exactly those docs/configuration.md lists', () => {
    expect(tableKeys(read('docs/configuration.md'), 'Configuration codes').sort()).toEqual(Object.keys(CONFIG_CODES).sort());
  });
});

describe('step kinds', () => {
  const actions = Object.keys(schema.$defs.step.properties).filter((name) => !['id', 'next', 'description', 'compensate'].includes(name));

  it('are exactly the actions the playbook schema allows', () => {
    expect(Object.keys(STEP_KINDS).sort()).toEqual(actions.sort());
  });

  it.each(Object.values(STEP_KINDS).map((kind) => [kind.kind, kind.schema]))('%s points at its schema fragment', (kind, pointer) => {
    const fragment = pointer
      .slice(2)
      .split('/')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], schema);
    expect(fragment, pointer).toMatchObject({ title: expect.any(String) });
    expect(pointer.endsWith(`/${kind}`)).toBe(true);
  });
});

describe('README figures', () => {
  const readme = read('README.md');
  const figure = (pattern: RegExp) => Number(pattern.exec(readme)?.[1]);

  it('counts the invalid-playbook corpus', () => {
    expect(figure(/a corpus of (\d+) invalid playbooks/)).toBe(readdirSync(`${ROOT}test/playbook/invalid`).filter((f) => f.endsWith('.yaml')).length);
  });

  it('counts the playbook scenarios', () => {
    const scenarios = readdirSync(`${ROOT}playbooks`)
      .filter((f) => f.endsWith('.test.yaml'))
      .reduce((sum, file) => sum + (parse(read(`playbooks/${file}`)) as { scenarios: unknown[] }).scenarios.length, 0);
    expect(figure(/the (\d+) playbook scenarios/)).toBe(scenarios);
  });

  it('counts the bad API requests', () => {
    const block = read('test/api/api.test.ts').split("describe('bad requests'")[1]!.split('];')[0]!;
    // One entry per line, or spread over lines from a line holding only its opening bracket.
    expect(figure(/(\d+) bad requests/)).toBe(block.match(/^\s+\[(?:'|$)/gm)!.length);
  });
});
