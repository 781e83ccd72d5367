/** Every file under invalid/ names the diagnostic it must produce: `# expect: CODE line:column`. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validatePlaybook } from '../../src/playbook/index.js';

const DIR = fileURLToPath(new URL('./invalid/', import.meta.url));
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('invalid playbooks corpus', () => {
  it('has at least 40 cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it.each(files)('%s', (file) => {
    const bytes = readFileSync(DIR + file);
    const header = /^# expect: (\w+) (\d+):(\d+)/.exec(bytes.subarray(0, 80).toString('latin1'));
    expect(header, 'the file starts with # expect: CODE line:column').not.toBeNull();
    const [, code, line, column] = header!;
    const result = validatePlaybook(bytes, file);
    expect(result.plan).toBeUndefined();
    const found = result.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`);
    expect(found).toContain(`${code} ${line}:${column}`);
    const lineCount = bytes.toString('latin1').split('\n').length;
    for (const d of result.diagnostics) {
      expect(d.file).toBe(file);
      expect(d.message.length).toBeGreaterThan(10);
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.endLine).toBeLessThanOrEqual(lineCount);
      expect(d.endLine * 10_000 + d.endColumn).toBeGreaterThanOrEqual(d.line * 10_000 + d.column);
    }
  });
});
