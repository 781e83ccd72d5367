/**
 * The console's browser assets: src/console/ bundled by esbuild inside the API process, once, on the
 * first request for them, and kept in memory. No CDN and no build step: everything comes from the
 * project's own dependencies, so the console works offline.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export interface ConsoleAsset {
  body: Buffer;
  /** The same, gzipped, for clients that accept it. */
  gzipped: Buffer;
  contentType: string;
  /** A strong validator for If-None-Match: the content's sha256 (the gzipped one adds `-gzip`). */
  etag: string;
}

/** The served assets by file name: index.html, app.js, app.css. */
export type ConsoleAssets = ReadonlyMap<string, ConsoleAsset>;

const CONSOLE_DIR = fileURLToPath(new URL('../console/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const asset = (name: string, body: Buffer): [string, ConsoleAsset] => [
  name,
  { body, gzipped: gzipSync(body, { level: 9 }), contentType: CONTENT_TYPES[name]!, etag: createHash('sha256').update(body).digest('base64url').slice(0, 27) },
];

async function bundle(): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: [`${CONSOLE_DIR}main.tsx`],
    tsconfig: `${CONSOLE_DIR}tsconfig.json`,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: 'console',
    entryNames: 'app',
    write: false,
    logLevel: 'silent',
  });
  const files = new Map<string, ConsoleAsset>([asset('index.html', await readFile(`${CONSOLE_DIR}index.html`))]);
  for (const output of result.outputFiles) {
    const name = output.path.split(/[\\/]/).pop()!;
    if (name in CONTENT_TYPES) files.set(...asset(name, Buffer.from(output.contents)));
  }
  for (const name of Object.keys(CONTENT_TYPES)) if (!files.has(name)) throw new Error(`the console bundle has no ${name}`);
  return files;
}

let bundled: Promise<ConsoleAssets> | undefined;

/** The assets, bundled on the first call; a failed bundle is forgotten, so the next request tries again. */
export function consoleAssets(): Promise<ConsoleAssets> {
  if (!bundled) {
    bundled = bundle();
    bundled.catch(() => {
      bundled = undefined;
    });
  }
  return bundled;
}
