/**
 * History shape 4: a case's quick side effects run as local activities within the workflow task; one
 * whose adapter keeps failing there goes on as an activity under the same key, and the effect happens once.
 */
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../src/plan/case.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { channelThrough, useRuntime } from '../support/runtime.js';

const CHANNEL_DOWN_IN_TASK = 'channel-down';
let attemptsInTask = 0;

const runtime = useRuntime(async () => {}, {
  wrap: channelThrough(async (message, next) => {
    if (message.caseId === CHANNEL_DOWN_IN_TASK && Context.current().info.isLocal) {
      attemptsInTask++;
      throw new Error('chat gateway unavailable (scripted)');
    }
    return next(message);
  }),
});

const NOTIFY = compileSmallPlaybook(
  'notify',
  `templates:
  hello: { channel: chat, text: "Hello {{ data.order_id }}" }
steps:
  - id: note
    remark: { text: "case opened for {{ data.order_id }}" }
  - id: hello
    send: { to: buyer, template: hello }
  - id: done
    end: { outcome: resolved, reason: notified }
`,
);

const { EventType } = temporal.api.enums.v1;

async function closedHistory(caseId: string) {
  const handle = runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
  expect(await handle.result()).toMatchObject({ outcome: 'resolved', reason: 'notified' });
  const { events } = await handle.fetchHistory();
  return {
    markers: events!.filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED).length,
    activities: events!
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name),
  };
}

const messagesOf = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT idempotency_key, status FROM outbox_messages WHERE case_id = $1`, [caseId])).rows;

describe('quick side effects', () => {
  it('run within the workflow task: a marker each, no activity', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, NOTIFY, 'channel-up');
    // The order note and the message, which carries the closing progress report (history shape 5).
    expect(await closedHistory('channel-up')).toEqual({ markers: 2, activities: [] });
    expect(await messagesOf('channel-up')).toEqual([{ idempotency_key: 'channel-up/hello/1', status: 'sent' }]);
    const notes = await runtime.db.pool.query(`SELECT count(*)::int AS n FROM order_notes WHERE case_id = 'channel-up'`);
    expect(notes.rows).toEqual([{ n: 1 }]);
  });

  it('go on as an activity under the same key when the adapter keeps failing in the task, and happen once', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, NOTIFY, CHANNEL_DOWN_IN_TASK);
    expect(await closedHistory(CHANNEL_DOWN_IN_TASK)).toEqual({ markers: 3, activities: ['sendMessage'] });
    expect(attemptsInTask).toBe(3);
    expect(await messagesOf(CHANNEL_DOWN_IN_TASK)).toEqual([{ idempotency_key: `${CHANNEL_DOWN_IN_TASK}/hello/1`, status: 'sent' }]);
  });
});
