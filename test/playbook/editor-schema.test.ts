/**
 * The schema works in editors: the real yaml-language-server (what VS Code's YAML extension runs),
 * driven over LSP, picks up a playbook's `$schema` modeline and reports our schema's errors and completions.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = `${ROOT}node_modules/yaml-language-server/bin/yaml-language-server`;

class LspClient {
  private readonly child = spawn(process.execPath, [SERVER, '--stdio'], { cwd: ROOT });
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();
  private readonly notifications: { method: string; params: unknown }[] = [];
  private readonly waiters: (() => void)[] = [];

  constructor() {
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const headerEnd = this.buffer.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString())![1]);
        if (this.buffer.length < headerEnd + 4 + length) return;
        const message = JSON.parse(this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString());
        this.buffer = this.buffer.subarray(headerEnd + 4 + length);
        this.receive(message);
      }
    });
  }

  private receive(message: { id?: number; method?: string; params?: unknown; result?: unknown }) {
    if (message.id !== undefined && message.method) {
      // A request from the server (configuration, registration): answer with defaults.
      const result = message.method === 'workspace/configuration' ? [{ validate: true, completion: true, hover: true, schemas: {} }] : null;
      this.write({ jsonrpc: '2.0', id: message.id, result });
    } else if (message.id !== undefined) {
      this.pending.get(message.id)?.(message.result);
    } else if (message.method) {
      this.notifications.push({ method: message.method, params: message.params });
      for (const wake of this.waiters.splice(0)) wake();
    }
  }

  private write(message: unknown) {
    const body = JSON.stringify(message);
    this.child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  request<T>(method: string, params: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (result: unknown) => void);
      this.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params: unknown) {
    this.write({ jsonrpc: '2.0', method, params });
  }

  async notification<T>(method: string, accept: (params: T) => boolean): Promise<T> {
    for (;;) {
      const found = this.notifications.find((n) => n.method === method && accept(n.params as T));
      if (found) return found.params as T;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  stop() {
    this.child.kill();
  }
}

interface Diagnostics {
  uri: string;
  diagnostics: { message: string; range: { start: { line: number; character: number } } }[];
}

describe('the playbook schema in an editor (yaml-language-server over LSP)', () => {
  const client = new LspClient();
  const uri = pathToFileURL(`${ROOT}playbooks/editing.yaml`).href;
  const text = [
    '# yaml-language-server: $schema=../schemas/playbook.schema.json',
    'playbook: editing',
    'case_type: refund',
    'currency: CNY',
    'fields: {}',
    'steps:',
    '  - id: done',
    '    end: { outcome: resolved, reason: done }',
    '',
  ].join('\n');

  beforeAll(async () => {
    await client.request('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(ROOT).href,
      capabilities: { textDocument: { completion: { completionItem: { snippetSupport: true } } } },
    });
    client.notify('initialized', {});
    client.notify('workspace/didChangeConfiguration', { settings: { yaml: { validate: true, completion: true, hover: true, schemas: {} } } });
    client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
  }, 30_000);
  afterAll(() => client.stop());

  it('reports a value our schema does not allow, on its line', async () => {
    const published = await client.notification<Diagnostics>('textDocument/publishDiagnostics', (p) => p.uri === uri && p.diagnostics.length > 0);
    const caseType = published.diagnostics.find((d) => d.range.start.line === 2);
    expect(caseType?.message).toMatch(/presale|exchange|return|review|retention/);
  }, 30_000);

  it('completes top-level properties from the schema, with their descriptions', async () => {
    const completion = await client.request<{ items: { label: string; documentation?: unknown }[] } | { label: string }[]>('textDocument/completion', {
      textDocument: { uri },
      position: { line: 8, character: 0 },
    });
    const items = Array.isArray(completion) ? completion : completion.items;
    const labels = items.map((i) => i.label);
    expect(labels).toEqual(expect.arrayContaining(['policy', 'templates', 'events', 'quiet_hours']));
  }, 30_000);

  it("completes inside a loop: the loop's own keys, and a nested body step's actions", async () => {
    const loops = pathToFileURL(`${ROOT}playbooks/loops.yaml`).href;
    const lines = [
      '# yaml-language-server: $schema=../schemas/playbook.schema.json',
      'playbook: loops',
      'case_type: return',
      'currency: CNY',
      'fields: {}',
      'steps:',
      '  - id: each',
      '    for_each:',
      '      in: data.lines',
      '      as: line',
      '      max: 5',
      '      ',
      '      steps:',
      '        - id: inner',
      '          ',
      '  - id: done',
      '    end: { outcome: resolved, reason: done }',
      '',
    ];
    client.notify('textDocument/didOpen', { textDocument: { uri: loops, languageId: 'yaml', version: 1, text: lines.join('\n') } });
    const labelsAt = async (line: number, character: number) => {
      const completion = await client.request<{ items: { label: string }[] } | { label: string }[]>('textDocument/completion', {
        textDocument: { uri: loops },
        position: { line, character },
      });
      return (Array.isArray(completion) ? completion : completion.items).map((i) => i.label);
    };
    expect(await labelsAt(11, 6)).toEqual(expect.arrayContaining(['concurrency', 'collect', 'on_error']));
    expect(await labelsAt(14, 10)).toEqual(expect.arrayContaining(['refund', 'send', 'parallel', 'for_each']));
  }, 30_000);
});
