// A shop's endpoint for Casebook's webhooks: verifies every signature, answers each webhook-id once.
// RECEIVER_SECRET=whsec_... PORT=4000 node examples/receivers/receiver.mjs
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const webhook = new Webhook(process.env.RECEIVER_SECRET);
const answers = new Map(); // webhook-id → the first answer: a repeat is answered the same
let paid = 0;

createServer(async (request, response) => {
  let body = '';
  for await (const chunk of request) body += chunk;
  let event;
  try {
    event = webhook.verify(body, request.headers); // signature and a timestamp within 5 minutes
  } catch {
    response.writeHead(401).end();
    return;
  }
  const id = request.headers['webhook-id'];
  if (!answers.has(id)) answers.set(id, answer(event));
  console.log(`${event.type} ${id}`);
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answers.get(id)));
}).listen(Number(process.env.PORT ?? 4000), '127.0.0.1');

function answer(event) {
  if (event.type === 'refund.request') return { status: 'issued', reference: `R-${++paid}` };
  return {};
}
