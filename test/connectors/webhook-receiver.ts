/**
 * A real HTTP receiver for Casebook's webhooks, started by a test: it verifies every request's
 * signature with the `standardwebhooks` library, once per secret it holds (so that during a rotation
 * both signatures are checked), answers 401 to a request that fails, and keeps what it received.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

/** How to answer: a status with a JSON body, or a handler of its own for hostile answers. */
export type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | ((response: ServerResponse) => void);

export interface Receiver {
  url: string;
  /** Every request whose signatures all verified, in arrival order. */
  received: Received[];
  /** Requests refused for a signature that did not verify (a test expects none). */
  badSignatures: number;
  /** Connections the server saw closed while it was still answering (a cut answer). */
  cutAnswers: number;
  answer: (received: Received) => Answer | Promise<Answer>;
  close(): Promise<void>;
}

export const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

export async function startReceiver(secrets: string[], answer: Receiver['answer'] = () => ({ status: 200, body: {} })): Promise<Receiver> {
  const verifiers = secrets.map((secret) => new Webhook(secret));
  const receiver: Receiver = { url: '', received: [], badSignatures: 0, cutAnswers: 0, answer, close: async () => {} };
  const server: Server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    let event: { type: string; timestamp: string; data: Record<string, unknown> };
    try {
      const verified = verifiers.map((verifier) => verifier.verify(body, request.headers as Record<string, string>));
      event = verified[0] as typeof event;
    } catch {
      receiver.badSignatures += 1;
      response.writeHead(401).end();
      return;
    }
    const received: Received = {
      id: String(request.headers['webhook-id']),
      type: event.type,
      timestamp: event.timestamp,
      data: event.data,
      headers: request.headers,
    };
    receiver.received.push(received);
    response.on('close', () => {
      if (!response.writableFinished) receiver.cutAnswers += 1;
    });
    const reply = await receiver.answer(received);
    if (typeof reply === 'function') return reply(response);
    response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/casebook/webhooks`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
