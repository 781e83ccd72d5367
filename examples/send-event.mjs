// Posts one event to Casebook as a shop's system does: signed with Standard Webhooks, no API key.
// WAREHOUSE_SIGNING_SECRET=whsec_... node examples/send-event.mjs warehouse <webhook-id> '{"type":...,"data":{...}}'
// A retry sends the same webhook-id: Casebook answers it as a duplicate and stores nothing new.
import { Webhook } from 'standardwebhooks';

const [source, id, body] = process.argv.slice(2);
const secret = process.env[`${source.toUpperCase()}_SIGNING_SECRET`];
const at = new Date();
const answer = await fetch(`${process.env.API ?? 'http://localhost:3000'}/v1/inbound/${source}`, {
  method: 'POST',
  body,
  headers: {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  },
});
console.log(answer.status, await answer.text());
