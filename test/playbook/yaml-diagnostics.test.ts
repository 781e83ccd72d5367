/** YAML mistakes reported where they start, in people's words, one diagnostic per mistake (issue 24, point 7). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadCalendars } from '../../src/playbook/calendars.js';
import { formatDiagnostic, validatePlaybook } from '../../src/playbook/index.js';
import { readMarketplacePack } from '../../src/playbook/marketplace-packs.js';
import { readScenarioFile } from '../../src/scenarios/read.js';
import { readDeployment } from '../../src/stack/deployment.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const PLAYBOOK = `playbook: mini
case_type: return
currency: CNY
timezone: Asia/Shanghai
fields:
  order_id: { type: string }
  total: { type: money }
  quality_issue: { type: boolean }
paid_field: total
order_id_field: order_id
templates:
  hello: { text: "Order {{ data.order_id }} is being looked at" }
steps:
  - id: greet
    send: { to: buyer, template: hello }
  - id: check
    branch:
      cases:
        - when: data.quality_issue
          goto: escalate
        - when: data.total.amount > 10000
          goto: escalate
      otherwise: done
  - id: done
    end: { outcome: resolved, reason: looked_at }
  - id: escalate
    escalate: { queue: sup, severity: high, reason: quality }
  - id: end_escalated
    end: { outcome: escalated, reason: quality }
`;

/** The playbook with its line `line` (1-based) replaced. */
function withLine(line: number, text: string, base = PLAYBOOK): string {
  const lines = base.split('\n');
  lines[line - 1] = text;
  return lines.join('\n');
}

const yamlDiagnostics = (text: string) =>
  validatePlaybook(text, 'mini.yaml')
    .diagnostics.filter((d) => d.code.startsWith('YAML'))
    .map((d) => ({ code: d.code, at: `${d.line}:${d.column}`, message: d.message, hint: d.hint }));

describe("the issue's two examples", () => {
  it('the untouched playbook is valid', () => {
    expect(validatePlaybook(PLAYBOOK, 'mini.yaml').diagnostics).toEqual([]);
  });

  it('a wrong indentation under `cases` is one diagnostic at the misindented line', () => {
    const text = withLine(20, '        goto: escalate');
    // What the parser says: "All mapping items must start at the same column" at column 1, then three follow-ons.
    const parser = parseDocument(text, { uniqueKeys: true, strict: true, prettyErrors: true }).errors;
    expect(parser.map((e) => [e.code, e.linePos?.[0]])).toEqual([
      ['BAD_INDENT', { line: 20, col: 1 }],
      ['BLOCK_AS_IMPLICIT_KEY', { line: 21, col: 1 }],
      ['MULTILINE_IMPLICIT_KEY', { line: 21, col: 9 }],
      ['MISSING_CHAR', { line: 21, col: 9 }],
    ]);
    expect(yamlDiagnostics(text)).toEqual([
      {
        code: 'YAML021',
        at: '20:9',
        message: 'this line is indented 8 spaces, its siblings 10 spaces (`when` on line 19)',
        hint: 'indent it 10 spaces like `when` on line 19; in YAML the indentation says what belongs to what',
      },
    ]);
  });

  it('an unclosed quote is one diagnostic at the opening quote', () => {
    const text = withLine(12, '  hello: { text: "Order {{ data.order_id }} is being looked at }');
    const parser = parseDocument(text, { prettyErrors: true }).errors;
    expect(parser.map((e) => e.linePos?.[0].line)).toEqual([30, 30]);
    expect(yamlDiagnostics(text)).toEqual([
      {
        code: 'YAML020',
        at: '12:18',
        message: 'this string opened here is never closed: it runs on to the end of the file',
        hint: 'add the closing " on the same line, or use a block scalar |',
      },
    ]);
  });
});

describe('each kind of mistake, where it starts', () => {
  it('a key indented one space deeper than its siblings', () => {
    const text = withLine(7, '   total: { type: money }');
    expect(yamlDiagnostics(text)).toEqual([
      expect.objectContaining({ code: 'YAML021', at: '7:4', message: 'this line is indented 3 spaces, its siblings 2 spaces (`order_id` on line 6)' }),
    ]);
  });

  it('a list item indented less than the items beside it', () => {
    const text = withLine(21, '       - when: data.total.amount > 10000');
    expect(yamlDiagnostics(text)).toEqual([
      expect.objectContaining({ code: 'YAML021', at: '21:8', message: 'this line is indented 7 spaces, its siblings 8 spaces (the item on line 19)' }),
    ]);
  });

  it('the first item of a list indented unlike the items after it', () => {
    const threeItems = withLine(22, '          goto: escalate\n        - when: data.total.amount > 20000\n          goto: escalate');
    const text = withLine(19, '       - when: data.quality_issue', threeItems);
    expect(yamlDiagnostics(text)).toEqual([
      expect.objectContaining({ code: 'YAML021', at: '19:8', message: 'this line is indented 7 spaces, its siblings 8 spaces (the item on line 21)' }),
    ]);
  });

  it('a key pulled out to the left edge, leaving the key above it empty', () => {
    const text = withLine(18, 'cases:');
    expect(yamlDiagnostics(text)).toEqual([
      expect.objectContaining({ code: 'YAML021', at: '18:1', message: 'this line is indented 0 spaces, its siblings 6 spaces (`otherwise` on line 23)' }),
    ]);
  });

  it('a key pulled out of its block, with its siblings after it', () => {
    const text = withLine(6, 'order_id: { type: string }');
    expect(yamlDiagnostics(text)).toEqual([
      expect.objectContaining({ code: 'YAML021', at: '6:1', message: 'this line is indented 0 spaces, its siblings 2 spaces (`total` on line 7)' }),
    ]);
  });

  it('a single-quoted string never closed', () => {
    const text = withLine(3, "currency: 'CNY");
    expect(yamlDiagnostics(text)).toEqual([
      expect.objectContaining({ code: 'YAML020', at: '3:11', hint: "add the closing ' on the same line, or use a block scalar |" }),
    ]);
  });

  it('a quoted string closed on a later line is still pointed at where it opens', () => {
    const text = withLine(12, '  hello: "Order {{ data.order_id }}').replace('otherwise: done', 'otherwise: "done');
    expect(yamlDiagnostics(text)[0]).toMatchObject({ code: 'YAML020', at: '12:10' });
  });

  it('a tab used for indentation', () => {
    const text = withLine(7, '\ttotal: { type: money }');
    expect(yamlDiagnostics(text)).toEqual([
      {
        code: 'YAML022',
        at: '7:1',
        message: 'a tab is used for indentation: YAML indents with spaces only',
        hint: 'replace the tab with spaces (set the editor to insert spaces for YAML)',
      },
    ]);
  });

  it('a missing space after a colon', () => {
    const text = withLine(3, 'currency:CNY');
    expect(yamlDiagnostics(text)).toEqual([
      {
        code: 'YAML023',
        at: '3:9',
        message: 'a space is missing after the colon: `currency:CNY` reads as one word, not a key and its value',
        hint: 'write `currency: CNY`',
      },
    ]);
    expect(yamlDiagnostics(withLine(7, '  total:{ type: money }'))).toEqual([]); // `total:{...}` is a plain word there: no syntax error, a schema one
  });

  it('a duplicate key names where both are', () => {
    const text = withLine(4, 'currency: EUR');
    expect(yamlDiagnostics(text)).toEqual([
      {
        code: 'YAML002',
        at: '4:1',
        message: 'duplicate key `currency`: it is already on line 3, column 1; a key may appear only once in a mapping',
        hint: 'remove or rename one of the two keys',
      },
    ]);
  });

  it('an unclosed [ or { at its opening bracket', () => {
    const list = withLine(15, '    send: { to: buyer, template: hello, channels: [email, sms }');
    expect(yamlDiagnostics(withLine(8, '  quality_issue: { type: boolean'))).toEqual([
      expect.objectContaining({ code: 'YAML024', at: '8:18', message: 'this mapping opened with { on line 8 is never closed with }' }),
    ]);
    expect(yamlDiagnostics(withLine(12, '  hello: [a, b'))).toEqual([
      expect.objectContaining({ code: 'YAML024', at: '12:10', message: 'this list opened with [ on line 12 is never closed with ]' }),
    ]);
    expect(yamlDiagnostics(list).map((d) => d.code)).not.toContain('YAML001');
  });

  it('a mistake the text does not explain keeps the parser position and message', () => {
    expect(yamlDiagnostics(withLine(3, 'currency: @CNY'))).toEqual([
      { code: 'YAML001', at: '3:11', message: 'Plain value cannot start with reserved character @', hint: undefined },
    ]);
  });

  it('two mistakes in different blocks are two diagnostics; follow-ons in one block fold', () => {
    const text = withLine(20, '        goto: escalate', withLine(7, '   total: { type: money }'));
    expect(yamlDiagnostics(text).map((d) => `${d.code} ${d.at}`)).toEqual(['YAML021 7:4', 'YAML021 20:9']);
  });
});

describe('hostile files', () => {
  it('thousands of mistakes are read in bounded time, the first ones explained', () => {
    const text = `playbook: big\nfields:\n${'  a: 1\n   b: 2\n'.repeat(40_000)}`;
    const started = performance.now();
    const { diagnostics } = validatePlaybook(text, 'big.yaml');
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(diagnostics[0]).toMatchObject({ code: 'YAML021', line: 4, column: 4 });
    expect(diagnostics.length).toBeLessThan(100);
  });
});

describe('every file the shared reader reads', () => {
  it('a scenario file with a misindented line', () => {
    const scenarios = `playbook: mini.yaml
scenarios:
  - name: quality issue escalates
    data: { order_id: TB-1, total: { amount: 100, currency: CNY }, quality_issue: true }
     expect: { outcome: escalated }
`;
    const { diagnostics } = readScenarioFile(scenarios, 'mini.test.yaml');
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      'mini.test.yaml:5:6: error YAML021: this line is indented 5 spaces, its siblings 4 spaces (`data` on line 4) (hint: indent it 4 spaces like `data` on line 4; in YAML the indentation says what belongs to what)',
    ]);
  });

  it('a calendar with an unclosed quote, a marketplace pack with a tab', () => {
    const calendar = readFileSync(join(ROOT, 'calendars/shop.yaml'), 'utf8').replace('mon: ["09:00-18:00"]', 'mon: ["09:00-18:00]');
    const { diagnostics } = loadCalendars([{ file: 'shop.yaml', source: calendar }]);
    expect(diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(['YAML020 9:9']);
    const pack = readFileSync(join(ROOT, 'marketplaces/taobao.yaml'), 'utf8').replace('\ntitle: Taobao', '\n\ttitle: Taobao');
    expect(readMarketplacePack(pack, 'taobao.yaml').diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(['YAML022 5:1']);
  });

  it('the deployment configuration keeps the explanation under its own code', () => {
    const { problems } = readDeployment('connectors:\n  payments: "local\n', 'casebook.yaml');
    expect(problems).toEqual([
      expect.objectContaining({ code: 'CFG002', line: 2, column: 13, message: expect.stringMatching(/^this string opened here is never closed/) }),
    ]);
  });
});

describe('casebook validate', () => {
  it('prints the mistake where it starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'casebook-yaml-'));
    const file = join(dir, 'misindented.yaml');
    writeFileSync(file, withLine(20, '        goto: escalate'));
    const result = spawnSync(process.execPath, ['bin/casebook.js', 'validate', file], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout.trim().split('\n')).toEqual([
      `${file}:20:9: error YAML021: this line is indented 8 spaces, its siblings 10 spaces (\`when\` on line 19) (hint: indent it 10 spaces like \`when\` on line 19; in YAML the indentation says what belongs to what)`,
    ]);
  });
});
