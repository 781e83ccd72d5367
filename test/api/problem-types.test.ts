/** The closed catalogues of problem types (src/api/problems.ts) and failure types (src/plan/failures.ts) match docs/api.md. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROBLEM_BASE, PROBLEM_TYPES, problem } from '../../src/api/problems.js';
import { FAILURE_TYPES } from '../../src/plan/failures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const API_DOC = readFileSync(`${ROOT}docs/api.md`, 'utf8');

/** The rows of the first table under `heading`: the backticked name in the first cell, and the second cell. */
function documentedRows(heading: string): Map<string, string> {
  const start = API_DOC.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`docs/api.md has no section '${heading}'`);
  const section = API_DOC.slice(start + heading.length).split(/\n#{1,3} /)[0]!;
  return new Map([...section.matchAll(/^\|\s*`([^`]+)`\s*\|([^|]*)\|/gm)].map((m) => [m[1]!, m[2]!.trim()]));
}

describe('problem types', () => {
  const documented = documentedRows('### Problem types');
  const catalogued = Object.keys(PROBLEM_TYPES);

  it('docs/api.md lists exactly the catalogued types', () => {
    expect({
      missingFromDoc: catalogued.filter((type) => !documented.has(type)),
      notInCatalogue: [...documented.keys()].filter((type) => !catalogued.includes(type)),
    }).toEqual({ missingFromDoc: [], notInCatalogue: [] });
  });

  it('with the statuses each type is sent with', () => {
    const statuses = Object.fromEntries(Object.entries(PROBLEM_TYPES).map(([type, { status }]) => [type, status.join(', ')]));
    expect(Object.fromEntries(catalogued.map((type) => [type, documented.get(type)]))).toEqual(statuses);
  });

  it('a problem carries its type URL, status and the status title', () => {
    expect(problem('unknown-playbook', 'no playbook named x is published')).toEqual({
      type: `${PROBLEM_BASE}unknown-playbook`,
      title: 'Unprocessable content',
      status: 422,
      detail: 'no playbook named x is published',
    });
    expect(problem('unknown-playbook', undefined, {}, 404)).toMatchObject({ title: 'Not found', status: 404 });
  });

  it('no problem type URL is written outside the catalogue', () => {
    const apiFiles = readdirSync(`${ROOT}src/api`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && f !== 'problems.ts');
    expect(apiFiles.filter((f) => readFileSync(`${ROOT}src/api/${f}`, 'utf8').includes('casebook.dev/problems'))).toEqual([]);
  });
});

describe('failure types', () => {
  it('docs/api.md lists exactly the catalogued failure types', () => {
    const documented = [...documentedRows('## Failure types').keys()];
    const catalogued = Object.values(FAILURE_TYPES);
    expect({
      missingFromDoc: catalogued.filter((type) => !documented.includes(type)),
      notInCatalogue: documented.filter((type) => !(catalogued as string[]).includes(type)),
    }).toEqual({ missingFromDoc: [], notInCatalogue: [] });
  });
});
