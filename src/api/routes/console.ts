/**
 * The web console at /console: its page, script and style sheet, public (the page signs in with an
 * API key against /v1/me, and every call it makes is checked like any other).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { consoleAssets } from '../console-bundle.js';
import { problem, sendProblem } from '../problems.js';

/** Browser assets, not API operations: left out of the OpenAPI description (and so of the fuzzer's walk). */
const ASSET = { hide: true, security: [] };
const ASSET_NAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{0,63}$' } as const;
/** Only the console's own files; the Temporal Web UI is a link away, never fetched. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export const consoleRoutes = (): FastifyPluginAsync => async (app) => {
  app.get(
    '',
    {
      schema: { ...ASSET, summary: 'The web console (sign in with an API key)' },
    },
    (request, reply) => sendAsset(request, reply, 'index.html'),
  );

  app.get<{ Params: { asset: string } }>(
    '/:asset',
    {
      schema: {
        ...ASSET,
        summary: "The console's script and style sheet: app.js, app.css",
        params: { type: 'object', required: ['asset'], properties: { asset: ASSET_NAME } },
      },
    },
    (request, reply) => (request.params.asset === 'index.html' ? notFound(reply, 'index.html') : sendAsset(request, reply, request.params.asset)),
  );
};

async function sendAsset(request: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> {
  let assets: Awaited<ReturnType<typeof consoleAssets>>;
  try {
    assets = await consoleAssets();
  } catch (error) {
    request.log.error({ err: error }, 'the console could not be bundled');
    return sendProblem(reply, problem('internal', 'the console could not be built; quote the request id when reporting it'));
  }
  const asset = assets.get(name);
  if (!asset) return notFound(reply, name);
  const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  const etag = gzip ? `"${asset.etag}-gzip"` : `"${asset.etag}"`;
  reply.header('etag', etag).header('vary', 'accept-encoding').header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
  if (name === 'index.html') reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('referrer-policy', 'no-referrer');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.type(asset.contentType).send(gzip ? asset.gzipped : asset.body);
}

const notFound = (reply: FastifyReply, name: string) => sendProblem(reply, problem('not-found', `the console has no file ${name}`));
