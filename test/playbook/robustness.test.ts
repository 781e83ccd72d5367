/** Hostile input: each gets a clear diagnostic in bounded time, never a crash or a hang. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatePlaybook, type Diagnostic } from '../../src/playbook/index.js';

function timed(source: string | Uint8Array): { diagnostics: Diagnostic[]; ms: number } {
  const started = performance.now();
  const { diagnostics } = validatePlaybook(source, 'hostile.yaml');
  return { diagnostics, ms: performance.now() - started };
}

const codes = (diagnostics: Diagnostic[]) => diagnostics.map((d) => d.code);

describe('hostile playbooks', () => {
  it('an alias bomb is refused without expanding it', () => {
    let bomb = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 12; i++)
      bomb += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const { diagnostics, ms } = timed(bomb);
    expect(codes(diagnostics)).toContain('YAML004');
    expect(ms).toBeLessThan(2_000);
  });

  it('a 5 MB document is refused by size before parsing', () => {
    const big = 'playbook: big\nfields:\n' + '  f: { type: string }\n'.repeat(250_000);
    expect(Buffer.byteLength(big)).toBeGreaterThan(5_000_000);
    const { diagnostics, ms } = timed(big);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'YAML010', line: 1, column: 1 });
    expect(ms).toBeLessThan(500);
  });

  it('5,000-deep nesting is refused, flow or block', () => {
    const flow = 'playbook: deep\nfields: ' + '['.repeat(5_000) + ']'.repeat(5_000) + '\n';
    const mixed = 'playbook: deep\nfields: ' + '{a: '.repeat(5_000) + '1' + '}'.repeat(5_000) + '\n';
    // 5,000 levels of block indentation need megabytes (refused by size); 1,000 fit the limit.
    const block = 'playbook: deep\nfields:\n' + Array.from({ length: 1_000 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n') + ' x\n';
    for (const source of [flow, mixed, block]) {
      const { diagnostics, ms } = timed(source);
      expect(codes(diagnostics)).toEqual(['YAML014']);
      expect(ms).toBeLessThan(1_000);
    }
  });

  it('duplicate keys are reported with both positions found', () => {
    const { diagnostics } = timed('playbook: a\nplaybook: b\n');
    expect(diagnostics[0]).toMatchObject({ code: 'YAML002', line: 2, column: 1 });
  });

  it('__proto__ and constructor keys neither pollute objects nor pass', () => {
    const { diagnostics } = timed('playbook: x\n__proto__: { polluted: true }\nconstructor: { prototype: { polluted: true } }\n');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(codes(diagnostics)).toContain('SCHEMA001');
    expect(diagnostics.map((d) => d.message).join('\n')).toMatch(/__proto__|constructor/);
  });

  it('binary, non-UTF-8 and empty input get their own diagnostics', () => {
    expect(codes(timed(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0xff])).diagnostics)).toEqual(['YAML011']);
    expect(codes(timed(Buffer.from('playbook: x\u0000\n')).diagnostics)).toEqual(['YAML012']);
    expect(codes(timed('').diagnostics)).toEqual(['YAML013']);
    expect(codes(timed('   \n\n').diagnostics)).toEqual(['YAML013']);
    expect(codes(timed('~\n').diagnostics)).toEqual(['YAML013']);
  });

  it('a document that is not a mapping is a schema error, not a crash', () => {
    for (const source of ['- a\n- b\n', '42\n', '"text"\n']) {
      expect(codes(timed(source).diagnostics)).toEqual(['SCHEMA003']);
    }
  });
});

describe('random mutations of the standard playbooks never crash the validator', () => {
  const files = ['return', 'exchange', 'presale', 'review-recovery'].map((name) =>
    readFileSync(fileURLToPath(new URL(`../../playbooks/${name}.yaml`, import.meta.url)), 'utf8'),
  );
  const fragments = [
    '',
    ' ',
    ':',
    '- ',
    '{',
    '}',
    '[',
    ']',
    '"',
    "'",
    '#',
    '&a ',
    '*a',
    '!tag ',
    '\t',
    '\n',
    'policy.',
    'data.',
    '{{',
    '}}',
    '0',
    '-1',
    '1.5',
    'null',
    '999999999999999999999d',
  ];

  it('survives character-level mutations', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: files.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 20 }), fc.constantFrom(...fragments)), { minLength: 1, maxLength: 6 }),
        (index, edits) => {
          let text = files[index]!;
          for (const [at, removed, inserted] of edits) {
            const position = at % (text.length + 1);
            text = text.slice(0, position) + inserted + text.slice(position + removed);
          }
          const result = validatePlaybook(text, 'mutant.yaml');
          expect(Array.isArray(result.diagnostics)).toBe(true);
          for (const d of result.diagnostics) {
            expect(d.line).toBeGreaterThanOrEqual(1);
            expect(d.column).toBeGreaterThanOrEqual(1);
            expect(d.code).toMatch(/^(YAML|SCHEMA|PB)\d{3}$/);
          }
          if (!result.diagnostics.some((d) => d.severity === 'error')) expect(result.plan).toBeDefined();
        },
      ),
      { numRuns: 400, seed: 20261124 },
    );
  });

  it('survives line-level shuffles (moved, dropped and duplicated lines)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: files.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 4 }),
        (index, moves) => {
          const lines = files[index]!.split('\n');
          for (const [from, to, duplicate] of moves) {
            const line = lines[from % lines.length]!;
            if (!duplicate) lines.splice(from % lines.length, 1);
            lines.splice(to % (lines.length + 1), 0, line);
          }
          const result = validatePlaybook(lines.join('\n'), 'mutant.yaml');
          expect(result.diagnostics.every((d) => d.line >= 1)).toBe(true);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
