/**
 * Cases that open themselves: a playbook's `opens_on` names the signed inbound event (source and type)
 * that opens a case, the fields of the event's `data` it reads, a condition and how the event maps to
 * the case data. The compiler checks the expressions in `openingEnvironment`; the API evaluates them
 * in the same environment when the event arrives (never workflow code: the case's data is the result).
 *
 * Variables: `event.source`, `event.type`, `event.id` (the sender's `webhook-id`), `event.at` (its
 * signed timestamp), `event.data` (typed from the declared payload), and `now`.
 */
import { Environment } from '@marcbachmann/cel-js';
import { LINEAR_MATCHES } from './cost.js';
import { EXPRESSION_LIMITS, eventConditionEnvironment, fromCelValue, parseExpression, regularExpression, toCelRecord, type CelEnvironment } from './cel.js';
import type { Expr, FieldSpec } from './plan.js';

export interface OpensOn {
  /** The inbound source (the deployment configuration's `inbound` section) that posts the event. */
  source: string;
  /** The event's `type`. */
  event: string;
  /** The fields of the event's `data` the playbook reads, checked when the event arrives. */
  payload: Record<string, FieldSpec>;
  /** Opens a case only when this holds. */
  when?: Expr;
  /** Each case field set from the event, by field name. */
  data: Record<string, Expr>;
}

/** The signed event as the expressions see it. */
export interface OpeningEvent {
  source: string;
  type: string;
  id: string;
  /** RFC 3339. */
  at: string;
  data: Record<string, unknown>;
}

const envelope = (payload: Record<string, FieldSpec>): Record<string, FieldSpec> => ({
  source: { type: 'string', required: true },
  type: { type: 'string', required: true },
  id: { type: 'string', required: true },
  at: { type: 'timestamp', required: true },
  data: { type: 'object', fields: payload, required: true },
});

/** The environment of `opens_on`'s expressions: `event` (its `data` typed by `payload`) and `now`. */
export function openingEnvironment(payload: Record<string, FieldSpec>): CelEnvironment {
  const base = new Environment({ limits: EXPRESSION_LIMITS, homogeneousAggregateLiterals: true })
    .registerVariable('now', 'google.protobuf.Timestamp')
    .registerFunction(`string.${LINEAR_MATCHES}(string): bool`, (text: string, pattern: string) => regularExpression(pattern).matcher(text).find());
  return eventConditionEnvironment(base, { early: false, payload: envelope(payload) });
}

/** What an event maps to: the case data, or where and why it could not be evaluated. */
export type Opening = { opens: false } | { opens: true; data: Record<string, unknown> } | { failed: true; pointer: string; message: string };

/**
 * Evaluates the condition and the mapping on an event whose data already matches `opensOn.payload`.
 * A failure (a field the event left out, a value out of range) names the mapping's field as
 * `/data/<field>` (or `/when`), the place in the case data the playbook could not fill.
 */
export function evaluateOpening(opensOn: OpensOn, fields: Record<string, FieldSpec>, event: OpeningEvent, now: Date): Opening {
  const env = openingEnvironment(opensOn.payload);
  const context = {
    now,
    event: { source: event.source, type: event.type, id: event.id, at: new Date(event.at), data: toCelRecord(opensOn.payload, event.data) },
  };
  const run = (expr: Expr): unknown => parseExpression(env, expr.cel)(context);
  if (opensOn.when) {
    try {
      if (run(opensOn.when) !== true) return { opens: false };
    } catch (error) {
      return { failed: true, pointer: '/when', message: `opens_on.when '${opensOn.when.cel}' failed: ${firstLine(error)}` };
    }
  }
  const data: Record<string, unknown> = {};
  for (const [name, expr] of Object.entries(opensOn.data)) {
    const field = fields[name];
    if (!field) continue;
    try {
      data[name] = fromCelValue(field, run(expr));
    } catch (error) {
      return { failed: true, pointer: `/data/${name}`, message: `opens_on.data.${name} '${expr.cel}' failed: ${firstLine(error)}` };
    }
  }
  return { opens: true, data };
}

const firstLine = (error: unknown): string => ((error as Error).message ?? String(error)).split('\n')[0]!;
