import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { describeFolderGraph, folderCycles, folderGraph, importsOf, readSources, repoRoot, type Import, type SourceFile } from './support/imports.js';

const sources = readSources();

/**
 * Workflow code runs in Temporal's deterministic sandbox: src/workflows/, the contract folder src/plan/,
 * and the messages workflow and clients share (src/case-contract/).
 */
const isWorkflowCode = (path: string) => ['src/workflows/', 'src/plan/', 'src/case-contract/'].some((folder) => path.startsWith(folder));
const SANDBOX_PACKAGES = ['@temporalio/workflow', '@temporalio/common', '@marcbachmann/cel-js', 're2js'];
/** The tracing interceptors (src/workflows/tracing.ts, bundled only into a tracing worker) also take OpenTelemetry's. */
const TRACING_PACKAGES = ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@temporalio/interceptors-opentelemetry'];

/** '@scope/name/sub' → '@scope/name', 'name/sub' → 'name', 'node:fs' → 'node:fs'. */
const packageName = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

function mayImport(from: string, { specifier, resolved, typeOnly }: Import): boolean {
  const inPlan = from.startsWith('src/plan/');
  if (resolved) {
    return (
      resolved.startsWith('src/plan/') ||
      (!inPlan && resolved.startsWith('src/case-contract/')) ||
      (from.startsWith('src/workflows/') && resolved.startsWith('src/workflows/'))
    );
  }
  const name = packageName(specifier);
  // The contract (src/plan/) is Temporal-free: the compiler, the API and the lint load it without the SDK.
  if (inPlan && name.startsWith('@temporalio/')) return false;
  if (from === 'src/workflows/tracing.ts' && TRACING_PACKAGES.includes(name)) return true;
  return SANDBOX_PACKAGES.includes(name) || (typeOnly && name.startsWith('@temporalio/'));
}

function sandboxViolations(files: SourceFile[]): string[] {
  return files
    .filter((file) => isWorkflowCode(file.path))
    .flatMap((file) =>
      importsOf(file)
        .filter((imp) => !mayImport(file.path, imp))
        .map((imp) => `${file.path} imports '${imp.specifier}'`),
    );
}

/** What src/ holds at the top: 'src/api/' for a folder, 'src/config.ts' for a file. */
function topLevelEntries(): string[] {
  return readdirSync(`${repoRoot}src`, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() || entry.name.endsWith('.ts'))
    .map((entry) => (entry.isDirectory() ? `src/${entry.name}/` : `src/${entry.name}`))
    .sort();
}

/** Paths a table row (`| \`src/api/\` | … |`) or a heading (`## \`src/api/\``) of the doc opens with. */
function documentedPaths(markdown: string): string[] {
  return [...markdown.matchAll(/^(?:\|\s*|#{1,6}\s+)`(src\/[^`]*)`/gm)].map((match) => match[1]!);
}

/** The folders each table row's third cell (`may import`) names, by row: 'api' → ['cases', 'plan', ...]. */
function allowedImports(markdown: string): Map<string, string[]> {
  const rows = [...markdown.matchAll(/^\|\s*`src\/([a-z-]+)\/`\s*\|[^|]*\|([^|]*)\|/gm)];
  return new Map(rows.map((row) => [row[1]!, [...row[2]!.matchAll(/`src\/([a-z-]+)\/`/g)].map((m) => m[1]!)]));
}

/**
 * The worker loads workflow code once per thread and shares it among all cases (preloadModules in
 * src/stack/workflow-bundler.ts): module-level state would be shared by every case of the thread.
 * Reassignable bindings and Maps at the top of a workflow file are refused, except these caches, each
 * a pure function of its key.
 */
const SHARED_CACHES = new Set(['src/workflows/shared-plans.ts plans', 'src/plan/local-time.ts formatters', 'src/plan/cel.ts compiledPatterns']);

function moduleStateIn(file: SourceFile): string[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.ES2022, true);
  return source.statements.filter(ts.isVariableStatement).flatMap((statement) => {
    const reassignable = !(statement.declarationList.flags & ts.NodeFlags.Const);
    return statement.declarationList.declarations
      .filter((d) => reassignable || (d.initializer && /^new (Weak)?Map\b/.test(d.initializer.getText(source))))
      .map((d) => `${file.path} ${d.name.getText(source)}`)
      .filter((name) => !SHARED_CACHES.has(name));
  });
}

/** The console's files, its .tsx pages included. */
function consoleSources(): SourceFile[] {
  return readdirSync(`${repoRoot}src/console`, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.tsx?$/.test(name))
    .map((name) => `src/console/${name.split(sep).join('/')}`)
    .sort()
    .map((path) => ({ path, text: readFileSync(`${repoRoot}${path}`, 'utf8') }));
}

const declarationsOf = (file: SourceFile) =>
  ts.createSourceFile(file.path, file.text, ts.ScriptTarget.ES2022, true, file.path.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS).statements;

/** The names the API contract exports: each shape's schema and its type share one. */
function contractNames(files: SourceFile[]): Set<string> {
  const exported = (statement: ts.Statement) =>
    ts.canHaveModifiers(statement) && !!ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  return new Set(
    files
      .filter((file) => file.path.startsWith('src/api-contract/'))
      .flatMap((file) =>
        declarationsOf(file)
          .filter(exported)
          .flatMap((statement) => {
            if (ts.isVariableStatement(statement)) return statement.declarationList.declarations.map((d) => d.name.getText());
            return ts.isTypeAliasDeclaration(statement) || ts.isInterfaceDeclaration(statement) ? [statement.name.text] : [];
          }),
      ),
  );
}

/** Types a console file declares under a name the contract exports: a copy of an API shape, which would drift from it. */
function copiedShapes(files: SourceFile[], contract: Set<string>): string[] {
  return files.flatMap((file) =>
    declarationsOf(file)
      .filter((s): s is ts.InterfaceDeclaration | ts.TypeAliasDeclaration => ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s))
      .filter((declaration) => contract.has(declaration.name.text))
      .map((declaration) => `${file.path} declares ${declaration.name.text}; import it from src/api-contract/`),
  );
}

/** The console's calls to the API (src/console/api.ts) whose answer is typed by an object literal written on the spot instead of a contract type. */
function inlineAnswerTypes(files: SourceFile[]): string[] {
  return files.flatMap((file) => {
    const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.ES2022, true, file.path.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
    const found: string[] = [];
    const hasLiteral = (node: ts.Node): boolean => ts.isTypeLiteralNode(node) || !!ts.forEachChild(node, (child) => hasLiteral(child) || undefined);
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isIdentifier(node.expression) &&
        ['api', 'request'].includes(node.expression.text) &&
        node.typeArguments?.some(hasLiteral)
      ) {
        found.push(
          `${file.path}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} types an answer inline: ${node.typeArguments.map((t) => t.getText()).join(', ')}`,
        );
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  });
}

/** The console reaches other folders by types only (the contract's schemas stay out of the browser bundle). */
const consoleValueImports = (files: SourceFile[]) =>
  files.flatMap((file) =>
    importsOf(file)
      .filter((imp) => imp.resolved && !imp.resolved.startsWith('src/console/') && !imp.typeOnly)
      .map((imp) => `${file.path} imports '${imp.specifier}' as a value`),
  );

/**
 * Only the use cases run SQL: the edges (the API, the CLI, the scenario runner) take from src/store/ its
 * types and two pure readings of what the database holds (instants, its errors), never a query.
 */
const EDGE_MAY_TAKE_FROM_STORE = ['src/store/instants.ts', 'src/store/database-errors.ts'];
const edgeQueries = (files: SourceFile[]) =>
  files
    .filter((file) => ['src/api/', 'src/cli/', 'src/scenarios/'].some((edge) => file.path.startsWith(edge)))
    .flatMap((file) =>
      importsOf(file)
        .filter((imp) => imp.resolved?.startsWith('src/store/') && !imp.typeOnly && !EDGE_MAY_TAKE_FROM_STORE.includes(imp.resolved))
        .map((imp) => `${file.path} imports '${imp.specifier}' as a value; call a service`),
    );

/** Routes are thin: they reach the database through the use cases (src/cases/, src/services/), and share nothing with each other but through src/api/. */
const routeViolations = (files: SourceFile[]) =>
  files
    .filter((file) => file.path.startsWith('src/api/routes/'))
    .flatMap((file) =>
      importsOf(file)
        .filter((imp) => imp.resolved?.startsWith('src/store/') || imp.resolved?.startsWith('src/api/routes/'))
        .map((imp) => `${file.path} imports '${imp.specifier}'`),
    );

/**
 * The composition root (src/stack/compose.ts) is the one place that chooses implementations: the case
 * services, the adapters, the API and the case worker are built there, and an audit thread builds its own auditor.
 */
const CONSTRUCTED_IN_THE_ROOT =
  /\bnew (CaseService|EventInbox|CaseAudit|AuditThreads|AuditCheckpointer|WorkflowReplayer|Local[A-Z]\w*)\(|(?<!function )\b(buildApi|createCaseWorker|createPool)\(/g;
/** The root, an audit thread (which builds its own auditor), the pool's own module, and the hand-written baseline the benches compare against (not Casebook). */
const MAY_CONSTRUCT = ['src/stack/compose.ts', 'src/stack/audit-thread.ts', 'src/store/pool.ts', 'bench/handwritten/worker.ts'];
const constructionsOutsideTheRoot = (files: SourceFile[]) =>
  files
    .filter((file) => !MAY_CONSTRUCT.includes(file.path))
    .flatMap((file) =>
      [...file.text.matchAll(CONSTRUCTED_IN_THE_ROOT)].map((match) => `${file.path} constructs ${match[1] ?? match[2]}; build it through src/stack/compose.ts`),
    );

/** A change of history shape is asked one way, `versions.has(name)`: only its table calls `patched()` or reads the input's shape. */
const HISTORY_FORK = /\b(patched|deprecatePatch)\(|\.historyShape\b|\bhistoryShape\s*[:}]/g;
const versionForksOutsideTheTable = (files: SourceFile[]) =>
  files
    .filter((file) => isWorkflowCode(file.path) && file.path !== 'src/workflows/history-versions.ts')
    .flatMap((file) =>
      [...file.text.matchAll(HISTORY_FORK)].map((match) => `${file.path} forks on ${match[0]}; add an entry to HISTORY_CHANGES and ask versions.has()`),
    );

/** The benches build Casebook as `casebook start` does, so they are held to the same rule as src/. */
const benchSources = (): SourceFile[] =>
  readdirSync(`${repoRoot}bench`, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `bench/${name.split(sep).join('/')}`)
    .map((path) => ({ path, text: readFileSync(`${repoRoot}${path}`, 'utf8') }));

describe('architecture', () => {
  it('only the composition root builds the case services, the adapters, the API and the case worker', () => {
    expect(constructionsOutsideTheRoot([...sources, ...benchSources()])).toEqual([]);
  });

  it('the composition rule reports a service, an adapter or the API built elsewhere', () => {
    const bad = {
      path: 'src/stack/stack.ts',
      text: `const cases = new CaseService(client, pool);\nconst inbox = new EventInbox(client, pool);\nconst channel = new LocalOutboxChannel(pool);\nconst pool = createPool(url, 1);\nconst replayer = new WorkflowReplayer();\nconst api = await buildApi(deps);\nexport function buildApi(deps) {}\nconst services = composeServices({ client, pool });`,
    };
    expect(constructionsOutsideTheRoot([bad, { path: 'src/stack/compose.ts', text: bad.text }])).toEqual([
      'src/stack/stack.ts constructs CaseService; build it through src/stack/compose.ts',
      'src/stack/stack.ts constructs EventInbox; build it through src/stack/compose.ts',
      'src/stack/stack.ts constructs LocalOutboxChannel; build it through src/stack/compose.ts',
      'src/stack/stack.ts constructs createPool; build it through src/stack/compose.ts',
      'src/stack/stack.ts constructs WorkflowReplayer; build it through src/stack/compose.ts',
      'src/stack/stack.ts constructs buildApi; build it through src/stack/compose.ts',
    ]);
  });

  it('the edges reach the store only through the use cases', () => {
    expect(edgeQueries(sources)).toEqual([]);
    const bad = {
      path: 'src/cli/commands/bad.ts',
      text: `import { listApiKeys } from '../../store/api-keys.js';\nimport type { Pool } from '../../store/pool.js';\nimport { readInstant } from '../../store/instants.js';`,
    };
    expect(edgeQueries([bad])).toEqual([`src/cli/commands/bad.ts imports '../../store/api-keys.js' as a value; call a service`]);
  });

  it('routes import neither the store nor another route', () => {
    expect(routeViolations(sources)).toEqual([]);
  });

  it('the route rule reports a route importing the store, even for a type, or another route', () => {
    const bad = {
      path: 'src/api/routes/bad.ts',
      text: `import { listTasks } from '../../store/tasks.js';\nimport type { Role } from '../../store/api-keys.js';\nimport { CASE_ID } from './cases.js';\nimport { listCases } from '../../cases/reads.js';\nimport { READERS } from '../auth.js';`,
    };
    expect(routeViolations([bad])).toEqual([
      `src/api/routes/bad.ts imports '../../store/tasks.js'`,
      `src/api/routes/bad.ts imports '../../store/api-keys.js'`,
      `src/api/routes/bad.ts imports './cases.js'`,
    ]);
  });

  it('workflow code asks history changes only through HISTORY_CHANGES', () => {
    expect(versionForksOutsideTheTable(sources)).toEqual([]);
    const bad = { path: 'src/workflows/steps/bad.ts', text: `if (patched('x')) {}\nconst { historyShape } = input;\nif (input.historyShape >= 4) {}` };
    expect(versionForksOutsideTheTable([bad])).toEqual([
      'src/workflows/steps/bad.ts forks on patched(; add an entry to HISTORY_CHANGES and ask versions.has()',
      'src/workflows/steps/bad.ts forks on historyShape }; add an entry to HISTORY_CHANGES and ask versions.has()',
      'src/workflows/steps/bad.ts forks on .historyShape; add an entry to HISTORY_CHANGES and ask versions.has()',
    ]);
  });

  it('workflow code imports only the sandbox packages and the contract', () => {
    expect(sandboxViolations(sources)).toEqual([]);
  });

  it('workflow code keeps no state at module level, but for the pure caches', () => {
    expect(sources.filter((f) => isWorkflowCode(f.path)).flatMap(moduleStateIn)).toEqual([]);
    expect(
      moduleStateIn({ path: 'src/workflows/bad.ts', text: 'let visits = 0;\nconst seen = new Map<string, number>();\nconst KINDS = new Set([1]);' }),
    ).toEqual(['src/workflows/bad.ts visits', 'src/workflows/bad.ts seen']);
  });

  it('the sandbox rule reports what a workflow file may not import', () => {
    const bad = {
      path: 'src/workflows/bad.ts',
      text: `import { Pool } from 'pg'; import { readFileSync } from 'node:fs'; import { x } from '../store/pool.js';`,
    };
    const good = {
      path: 'src/workflows/good.ts',
      text: `import { sleep } from '@temporalio/workflow'; import type { Client } from '@temporalio/client'; import type { Plan } from '../plan/plan.js';`,
    };
    const contract = {
      path: 'src/plan/steps/bad.ts',
      text: `import { patched } from '@temporalio/workflow';\nimport type { Sinks } from '@temporalio/workflow';\nimport { iso } from '../../workflows/time.js';\nimport { CASE_TYPE } from '../../case-contract/search-attributes.js';\nimport { cel } from '@marcbachmann/cel-js';`,
    };
    expect(sandboxViolations([bad, good, contract])).toEqual([
      `src/workflows/bad.ts imports 'pg'`,
      `src/workflows/bad.ts imports 'node:fs'`,
      `src/workflows/bad.ts imports '../store/pool.js'`,
      `src/plan/steps/bad.ts imports '@temporalio/workflow'`,
      `src/plan/steps/bad.ts imports '@temporalio/workflow'`,
      `src/plan/steps/bad.ts imports '../../workflows/time.js'`,
      `src/plan/steps/bad.ts imports '../../case-contract/search-attributes.js'`,
    ]);
  });

  it('the cycle check reports folders that import each other, type-only imports included', () => {
    const files = [
      { path: 'src/api/app.ts', text: `import { CaseService } from '../cases/service.js';` },
      { path: 'src/cases/service.ts', text: `import type { Problem } from '../api/problem.js';` },
    ];
    expect(folderCycles(folderGraph(files))).toEqual([
      'api → cases → api (src/api/app.ts imports src/cases/service.ts; src/cases/service.ts imports src/api/problem.ts)',
    ]);
  });

  it('no import cycle between the folders of src/', () => {
    const graph = folderGraph(sources);
    expect(folderCycles(graph), `folder imports:\n${describeFolderGraph(graph)}`).toEqual([]);
  });

  it('docs/architecture.md lists exactly the folders of src/', () => {
    const doc = `${repoRoot}docs/architecture.md`;
    const documented = existsSync(doc) ? documentedPaths(readFileSync(doc, 'utf8')) : [];
    const entries = topLevelEntries();
    expect(
      {
        missingFromDoc: entries.filter((entry) => !documented.includes(entry)),
        documentedButAbsent: documented.filter((path) => !existsSync(`${repoRoot}${path}`)),
      },
      existsSync(doc) ? 'docs/architecture.md and src/ disagree' : 'docs/architecture.md does not exist',
    ).toEqual({
      missingFromDoc: [],
      documentedButAbsent: [],
    });
  });

  it('the API contract imports TypeBox only', () => {
    const contract = sources.filter((file) => file.path.startsWith('src/api-contract/'));
    expect(contract.length).toBeGreaterThan(0);
    expect(
      contract.flatMap((file) =>
        importsOf(file)
          .filter((imp) => !(imp.resolved?.startsWith('src/api-contract/') || imp.specifier === '@sinclair/typebox'))
          .map((imp) => `${file.path} imports '${imp.specifier}'`),
      ),
    ).toEqual([]);
  });

  it('the console imports each API shape from the contract, as a type, and copies none', () => {
    const names = contractNames(sources);
    expect(names).toContain('CaseHistory');
    const consoleFiles = consoleSources();
    expect(copiedShapes(consoleFiles, names)).toEqual([]);
    expect(consoleValueImports(consoleFiles)).toEqual([]);
    expect(inlineAnswerTypes(consoleFiles)).toEqual([]);
  });

  it('the copy rules report a console type named like a contract shape, an answer typed inline, and a value import of the contract', () => {
    const bad = {
      path: 'src/console/pages/bad.tsx',
      text: `import { CaseView } from '../../api-contract/cases.js';\ninterface Actor { keyId: string | null; name: string }\nexport type CaseStatus = 'open' | 'closed';\ninterface Local { at: string }\nexport const View = () => <p>{CaseView.type}</p>;`,
    };
    expect(copiedShapes([bad], contractNames(sources))).toEqual([
      'src/console/pages/bad.tsx declares Actor; import it from src/api-contract/',
      'src/console/pages/bad.tsx declares CaseStatus; import it from src/api-contract/',
    ]);
    expect(consoleValueImports([bad])).toEqual([`src/console/pages/bad.tsx imports '../../api-contract/cases.js' as a value`]);
    const inline = {
      path: 'src/console/pages/inline.tsx',
      text: `const a = await api<{ cases: CaseSummary[] }>(session, 'GET', '/v1/cases');\nconst b = await api<CaseList>(session, 'GET', '/v1/cases');\nconst c = await request<Me & { extra: string }>(key, 'GET', '/v1/me');`,
    };
    expect(inlineAnswerTypes([inline])).toEqual([
      'src/console/pages/inline.tsx:1 types an answer inline: { cases: CaseSummary[] }',
      'src/console/pages/inline.tsx:3 types an answer inline: Me & { extra: string }',
    ]);
  });

  it('each folder imports only the folders docs/architecture.md says it may', () => {
    const allowed = allowedImports(readFileSync(`${repoRoot}docs/architecture.md`, 'utf8'));
    const outside = [...folderGraph(sources)].flatMap(([from, targets]) =>
      [...targets].filter(([to]) => to !== from && !(allowed.get(from) ?? []).includes(to)).map(([to, example]) => `${from} → ${to} (${example})`),
    );
    expect(outside).toEqual([]);
  });
});
