import { readdirSync, readFileSync } from 'node:fs';
import { posix, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** One source file, named by its path from the repository root ('src/workflows/run-case.ts'). */
export interface SourceFile {
  path: string;
  text: string;
}

export interface Import {
  specifier: string;
  /** For a relative specifier: the file it names, from the repository root ('../plan/plan.js' → 'src/plan/plan.ts'). */
  resolved?: string;
  /** Erased at compile time: `import type`, `export type`, only `type` bindings, or an `import('x').T` type. */
  typeOnly: boolean;
}

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Every .ts file under src/, sorted by path. */
export function readSources(): SourceFile[] {
  return readdirSync(`${repoRoot}src`, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `src/${name.split(sep).join('/')}`)
    .sort()
    .map((path) => ({ path, text: readFileSync(`${repoRoot}${path}`, 'utf8') }));
}

/** The imports of one file, read with the TypeScript parser: static, re-export, dynamic, require and import-equals. */
export function importsOf(file: SourceFile): Import[] {
  const found: Import[] = [];
  const add = (node: ts.Node | undefined, typeOnly: boolean) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ specifier: node.text, resolved: resolve(file.path, node.text), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      add(node.moduleSpecifier, !!clause && (clause.isTypeOnly || (!clause.name && allTypes(clause.namedBindings))));
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly || allTypes(node.exportClause));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    ) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return found;
}

/** `{ type A, type B }`: every named binding is a type. */
function allTypes(bindings: ts.NamedImportBindings | ts.NamedExportBindings | undefined): boolean {
  return (
    !!bindings &&
    (ts.isNamedImports(bindings) || ts.isNamedExports(bindings)) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

/** Sources name .ts files by their .js output: './x.js' → 'x.ts'; other files ('.json') keep their name. */
function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  return posix.join(posix.dirname(from), specifier).replace(/\.js$/, '.ts');
}

/** 'src/api/app.ts' → 'api'; a file directly in src/ is its own node: 'src/config.ts' → 'config.ts'. */
export function folderOf(path: string): string {
  return path.split('/')[1]!;
}

/** Folder → folder it imports → one example import, from relative imports between files under src/ (types included). */
export type FolderGraph = Map<string, Map<string, string>>;

export function folderGraph(files: SourceFile[]): FolderGraph {
  const graph: FolderGraph = new Map(files.map((file) => [folderOf(file.path), new Map()]));
  for (const file of files) {
    for (const { resolved } of importsOf(file)) {
      if (!resolved?.startsWith('src/') || folderOf(resolved) === folderOf(file.path)) continue;
      const edges = graph.get(folderOf(file.path))!;
      if (!edges.has(folderOf(resolved))) edges.set(folderOf(resolved), `${file.path} imports ${resolved}`);
    }
  }
  return graph;
}

/** For people: one line per folder with the folders it imports, e.g. 'workflows → plan'. */
export function describeFolderGraph(graph: FolderGraph): string {
  return [...graph]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([folder, edges]) => `${folder} → ${[...edges.keys()].sort().join(', ') || '(nothing)'}`)
    .join('\n');
}

/**
 * Import cycles between folders, one line each with an example import per edge. A folder lies in a strongly
 * connected component of more than one folder exactly when a cycle runs through it, so the shortest cycle
 * through each folder not yet shown is listed until every such folder appears in one.
 */
export function folderCycles(graph: FolderGraph): string[] {
  const shown = new Set<string>();
  const cycles: string[] = [];
  for (const start of [...graph.keys()].sort()) {
    if (shown.has(start)) continue;
    const path = shortestCycle(graph, start);
    if (!path) continue;
    for (const folder of path) shown.add(folder);
    const examples = path.slice(1).map((to, i) => graph.get(path[i]!)!.get(to)!);
    cycles.push(`${path.join(' → ')} (${examples.join('; ')})`);
  }
  return cycles;
}

/** Breadth-first from start back to start: ['api', 'cases', 'api'], or undefined when no cycle runs through start. */
function shortestCycle(graph: FolderGraph, start: string): string[] | undefined {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (const folder of queue) {
    for (const next of [...(graph.get(folder)?.keys() ?? [])].sort()) {
      if (next === start) {
        const path = [folder];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0]!)!);
        return [...path, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, folder);
        queue.push(next);
      }
    }
  }
  return undefined;
}
