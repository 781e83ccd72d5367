/**
 * Agent work (issue 14): the task queue with the time left on each SLA, claims, completion delivering
 * `task.completed` to the case as the agent, notes, and escalations acknowledged and resolved with who
 * and when; who may do what.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { completionEventId } from '../../src/cases/agent-work.js';
import { listEscalations, openEscalation } from '../../src/store/escalations.js';
import { migrate } from '../../src/store/migrate.js';
import { receiveInboundEvent } from '../../src/store/inbox.js';
import { closeTask, findTask, openTask } from '../../src/store/tasks.js';
import { keyIdOf, useApi } from '../support/api.js';
import { createTestDatabase } from '../support/database.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, DAMAGED_DECISION, openSmallCase } from '../support/small-playbooks.js';

const HOUR = 3_600_000;

const DECIDE = compileSmallPlaybook('decide', DAMAGED_DECISION);

/** The decide task's outcomes, in the order the playbook writes them. */
const DECIDE_OUTCOMES = ['approve', 'reject'];

const runtime = useRuntime();
const http = useApi(runtime, {
  lei: ['agent', 'Lei, after-sale'],
  fang: ['agent', 'Fang, after-sale'],
  mei: ['ops-lead', 'Mei, ops lead'],
  auditor: ['auditor', 'Audit'],
  depot: ['warehouse', 'Depot Hangzhou'],
  root: ['admin', 'Root'],
});
const ids = {} as Record<'lei' | 'fang' | 'mei', string>;
const actor = (who: keyof typeof ids) => ({ keyId: ids[who], name: { lei: 'Lei, after-sale', fang: 'Fang, after-sale', mei: 'Mei, ops lead' }[who] });

/** The open task of a case's step, as the queue lists it, once the case has opened it. */
async function taskOf(caseId: string, step: string): Promise<{ id: number } & Record<string, unknown>> {
  let found: ({ id: number } & Record<string, unknown>) | undefined;
  await expect
    .poll(
      async () => {
        const { tasks } = (await http.call('GET', '/v1/tasks?status=open&limit=100', http.keys.auditor)).json();
        found = tasks.find((t: { caseId: string; step: string }) => t.caseId === caseId && t.step === step);
        return found !== undefined;
      },
      { timeout: 10_000 },
    )
    .toBe(true);
  return found!;
}

async function escalationOf(caseId: string): Promise<{ id: number } & Record<string, unknown>> {
  await expect
    .poll(async () => (await http.call('GET', '/v1/escalations', http.keys.auditor)).json().escalations.some((e: { caseId: string }) => e.caseId === caseId), {
      timeout: 10_000,
    })
    .toBe(true);
  return (await http.call('GET', '/v1/escalations', http.keys.auditor)).json().escalations.find((e: { caseId: string }) => e.caseId === caseId);
}

beforeAll(async () => {
  for (const who of ['lei', 'fang', 'mei'] as const) ids[who] = keyIdOf(http.keys[who]);
});

describe('the task queue', () => {
  it('lists open tasks soonest due first, with the case, the queue, the outcomes and the time left on the SLA', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, DECIDE, 'aw-list');
    await taskOf('aw-list', 'decide');
    // Overdue and due later: a task past its due time shows negative time left.
    const overdueAt = new Date(Date.now() - 2 * HOUR).toISOString();
    await openTask(runtime.db.pool, {
      key: 'aw-overdue/call/1',
      caseId: 'aw-overdue',
      stepId: 'call',
      role: 'after-sale-agent',
      title: 'Call the buyer',
      outcomes: ['reached'],
      dueAt: overdueAt,
    });

    const listed = await http.call('GET', '/v1/tasks?queue=after-sale-agent&status=open', http.keys.lei);
    expect(listed.statusCode).toBe(200);
    const { tasks, asOf, nextCursor } = listed.json();
    expect(nextCursor).toBeNull();
    expect(tasks.map((t: { caseId: string }) => t.caseId)).toEqual(['aw-overdue', 'aw-list']);
    const [overdue, decide] = tasks;
    for (const task of tasks) expect(task.timeLeftMs).toBe(Date.parse(task.dueAt) - Date.parse(asOf));
    expect(overdue).toMatchObject({ playbook: null, orderId: null, dueAt: overdueAt, claimed: null, noteCount: 0 });
    expect(overdue.timeLeftMs).toBeLessThanOrEqual(-2 * HOUR);
    expect(decide).toEqual({
      id: expect.any(Number),
      caseId: 'aw-list',
      playbook: 'decide',
      orderId: 'aw-list',
      step: 'decide',
      title: 'Decide on the damaged return',
      queue: 'after-sale-agent',
      outcomes: DECIDE_OUTCOMES,
      status: 'open',
      outcome: null,
      dueAt: expect.any(String),
      timeLeftMs: expect.any(Number),
      createdAt: expect.any(String),
      completedAt: null,
      claimed: null,
      completedBy: null,
      noteCount: 0,
    });
    // The SLA is four hours from when the case opened the task.
    expect(decide.timeLeftMs).toBeGreaterThan(3 * HOUR);
    expect(decide.timeLeftMs).toBeLessThanOrEqual(4 * HOUR);

    const other = (await http.call('GET', '/v1/tasks?queue=after-sale-supervisor', http.keys.lei)).json();
    expect(other.tasks.filter((t: { caseId: string }) => t.caseId.startsWith('aw-list'))).toEqual([]);
    const page = (await http.call('GET', '/v1/tasks?queue=after-sale-agent&status=open&limit=1', http.keys.lei)).json();
    expect(page.tasks.map((t: { caseId: string }) => t.caseId)).toEqual(['aw-overdue']);
    const next = (await http.call('GET', `/v1/tasks?queue=after-sale-agent&status=open&limit=1&cursor=${page.nextCursor}`, http.keys.lei)).json();
    expect(next.tasks.map((t: { caseId: string }) => t.caseId)).toEqual(['aw-list']);
    expect((await http.call('GET', '/v1/tasks?cursor=bm90LWEtY3Vyc29y', http.keys.lei)).json()).toMatchObject({
      type: expect.stringMatching(/invalid-cursor$/),
      status: 400,
    });
  });

  it('claims a task for one agent: another gets 409 until the holder or an ops lead releases it', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, DECIDE, 'aw-claim');
    const { id } = await taskOf('aw-claim', 'decide');

    const claimed = await http.call('POST', `/v1/tasks/${id}/claim`, http.keys.lei);
    expect(claimed.statusCode).toBe(200);
    expect(claimed.json().claimed).toEqual({ by: actor('lei'), at: expect.any(String) });
    // Claiming one's own task again keeps the first claim.
    expect((await http.call('POST', `/v1/tasks/${id}/claim`, http.keys.lei)).json().claimed).toEqual(claimed.json().claimed);

    const taken = await http.call('POST', `/v1/tasks/${id}/claim`, http.keys.fang);
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ type: 'https://casebook.dev/problems/task-claimed', claimed: { by: actor('lei') } });
    expect((await http.call('POST', `/v1/tasks/${id}/release`, http.keys.fang)).statusCode).toBe(409);
    expect((await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.fang, { outcome: 'approve' })).json()).toMatchObject({
      type: 'https://casebook.dev/problems/task-claimed',
      status: 409,
    });

    const mine = (await http.call('GET', '/v1/tasks?claimed=me&status=open', http.keys.lei)).json().tasks.map((t: { id: number }) => t.id);
    expect(mine).toEqual([id]);
    expect((await http.call('GET', '/v1/tasks?claimed=me', http.keys.fang)).json().tasks).toEqual([]);
    expect((await http.call('GET', '/v1/tasks?claimed=unclaimed', http.keys.fang)).json().tasks.map((t: { id: number }) => t.id)).not.toContain(id);

    const released = await http.call('POST', `/v1/tasks/${id}/release`, http.keys.mei);
    expect(released.statusCode).toBe(200);
    expect(released.json().claimed).toBeNull();
    expect((await http.call('POST', `/v1/tasks/${id}/claim`, http.keys.fang)).json().claimed).toEqual({ by: actor('fang'), at: expect.any(String) });
    expect((await http.call('POST', `/v1/tasks/${id}/release`, http.keys.fang)).json().claimed).toBeNull();
    // Releasing a task nobody holds changes nothing.
    expect((await http.call('POST', `/v1/tasks/${id}/release`, http.keys.lei)).statusCode).toBe(200);
  });

  it('completes a task: the case moves on to the outcome’s step, and the event is the agent’s', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, DECIDE, 'aw-done');
    const { id } = await taskOf('aw-done', 'decide');
    expect((await http.call('POST', `/v1/tasks/${id}/claim`, http.keys.lei)).statusCode).toBe(200);

    const wrong = await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.lei, { outcome: 'maybe' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json()).toMatchObject({
      type: 'https://casebook.dev/problems/unknown-outcome',
      errors: [{ pointer: '/outcome', message: `must be one of ${DECIDE_OUTCOMES.join(', ')}` }],
    });

    const done = await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.lei, { outcome: 'approve', note: 'Photos show transit damage' });
    expect(done.statusCode).toBe(200);
    const body = done.json();
    expect(body.status).toBe('accepted');
    expect(body.case).toMatchObject({ caseId: 'aw-done', status: 'waiting', step: 'confirm', waitingFor: ['task.completed'] });
    expect(body.task).toMatchObject({ id, status: 'done', outcome: 'approve', completedBy: actor('lei'), noteCount: 1, timeLeftMs: null });

    const history = (await http.call('GET', '/v1/cases/aw-done/history', http.keys.auditor)).json();
    expect(history.events).toEqual([
      expect.objectContaining({
        id: completionEventId(id),
        type: 'task.completed',
        payload: { task: 'decide', outcome: 'approve' },
        by: actor('lei'),
      }),
    ]);
    expect(history.steps.find((s: { step: string }) => s.step === 'decide')).toMatchObject({
      by: actor('lei'),
      detail: { outcome: 'approve', goto: 'confirm', by: actor('lei') },
    });

    // Lei's retry of the same completion is a duplicate; another outcome, or another agent, finds the task done.
    const again = await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.lei, { outcome: 'approve' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'duplicate', task: { id, status: 'done', outcome: 'approve', completedBy: actor('lei') } });
    const otherOutcome = await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.lei, { outcome: 'reject' });
    expect(otherOutcome.statusCode).toBe(409);
    expect(otherOutcome.json()).toMatchObject({ type: 'https://casebook.dev/problems/task-not-open', taskStatus: 'done', completedBy: actor('lei') });
    expect((await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.fang, { outcome: 'approve' })).json()).toMatchObject({
      type: 'https://casebook.dev/problems/task-not-open',
    });
    expect((await http.call('POST', `/v1/tasks/${id}/claim`, http.keys.fang)).json()).toMatchObject({ type: 'https://casebook.dev/problems/task-not-open' });

    const confirm = await taskOf('aw-done', 'confirm');
    expect(confirm).toMatchObject({ queue: 'after-sale-supervisor', outcomes: ['done'] });
    const closed = await http.call('POST', `/v1/tasks/${confirm.id}/complete`, http.keys.mei, { outcome: 'done' });
    expect(closed.json().case).toMatchObject({ status: 'closed', outcome: { outcome: 'resolved', reason: 'confirmed' } });
    const { rows } = await runtime.db.pool.query(`SELECT step_id, status, outcome, completed_by_name FROM tasks WHERE case_id = 'aw-done' ORDER BY id`);
    expect(rows).toEqual([
      { step_id: 'decide', status: 'done', outcome: 'approve', completed_by_name: 'Lei, after-sale' },
      { step_id: 'confirm', status: 'done', outcome: 'done', completed_by_name: 'Mei, ops lead' },
    ]);
  });

  it('a claimed task is completed only by its holder: another agent is refused on the task route, the events route and the inbox', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, DECIDE, 'aw-held');
    const { id } = await taskOf('aw-held', 'decide');
    expect((await http.call('POST', `/v1/tasks/${id}/claim`, http.keys.lei)).statusCode).toBe(200);

    expect((await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.fang, { outcome: 'approve' })).json()).toMatchObject({
      type: 'https://casebook.dev/problems/task-claimed',
      status: 409,
      claimed: { by: actor('lei') },
    });
    // Around the task: task.completed sent to the case, whatever the role, or an inbox row of it delivered by another agent.
    const bypass = { type: 'task.completed', id: 'fang-bypass', payload: { task: 'decide', outcome: 'approve' } };
    for (const key of [http.keys.fang, http.keys.root, http.keys.lei]) {
      const refused = await http.call('POST', '/v1/cases/aw-held/events', key, bypass);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({
        type: 'https://casebook.dev/problems/forbidden',
        detail: expect.stringContaining('POST /v1/tasks/{id}/complete'),
      });
    }
    const kept = await receiveInboundEvent(runtime.db.pool, {
      source: 'api',
      eventId: completionEventId(id),
      type: 'task.completed',
      payload: bypass.payload,
      targetCaseId: 'aw-held',
    });
    expect((await http.call('POST', `/v1/inbox/${kept.id}/deliver`, http.keys.fang, {})).json()).toMatchObject({
      type: 'https://casebook.dev/problems/forbidden',
      status: 403,
    });
    expect(await runtime.service.describe('aw-held')).toMatchObject({ step: 'decide', waitingFor: ['task.completed'] });
    expect((await runtime.db.pool.query(`SELECT event_id FROM case_events WHERE case_id = 'aw-held'`)).rows).toEqual([]);

    // The holder's completion goes in, naming her: on the task, the case's event and the step's record.
    const done = await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.lei, { outcome: 'approve' });
    expect(done.json()).toMatchObject({ status: 'accepted', task: { status: 'done', outcome: 'approve', completedBy: actor('lei') } });
    const history = (await http.call('GET', '/v1/cases/aw-held/history', http.keys.auditor)).json();
    expect(history.events).toEqual([expect.objectContaining({ id: completionEventId(id), type: 'task.completed', by: actor('lei') })]);
    expect(history.steps.find((s: { step: string }) => s.step === 'decide')).toMatchObject({ by: actor('lei') });
  });

  it('an ops lead takes over a task someone holds, on the audit trail, and completes it as the one who took it over', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, DECIDE, 'aw-takeover');
    const { id } = await taskOf('aw-takeover', 'decide');
    expect((await http.call('POST', `/v1/tasks/${id}/claim`, http.keys.lei)).statusCode).toBe(200);

    // Leads too complete only what they hold; only leads take over.
    expect((await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.mei, { outcome: 'approve' })).json()).toMatchObject({
      type: 'https://casebook.dev/problems/task-claimed',
    });
    expect((await http.call('POST', `/v1/tasks/${id}/claim`, http.keys.mei)).json()).toMatchObject({ type: 'https://casebook.dev/problems/task-claimed' });
    expect((await http.call('POST', `/v1/tasks/${id}/take-over`, http.keys.fang)).json()).toMatchObject({
      type: 'https://casebook.dev/problems/forbidden',
      status: 403,
    });

    const taken = await http.call('POST', `/v1/tasks/${id}/take-over`, http.keys.mei);
    expect(taken.statusCode).toBe(200);
    expect(taken.json().claimed).toEqual({ by: actor('mei'), at: expect.any(String) });
    const audit = await runtime.db.pool.query(
      `SELECT kind, step_id, actor_key_id, actor_name, detail FROM audit_events WHERE case_id = 'aw-takeover' AND kind = 'task-taken-over'`,
    );
    expect(audit.rows).toEqual([
      { kind: 'task-taken-over', step_id: 'decide', actor_key_id: ids.mei, actor_name: 'Mei, ops lead', detail: { task: id, from: actor('lei') } },
    ]);
    // Taking over what one holds already changes nothing and writes nothing.
    expect((await http.call('POST', `/v1/tasks/${id}/take-over`, http.keys.mei)).json().claimed).toEqual(taken.json().claimed);
    expect(
      (await runtime.db.pool.query(`SELECT count(*)::int AS n FROM audit_events WHERE kind = 'task-taken-over' AND case_id = 'aw-takeover'`)).rows,
    ).toEqual([{ n: 1 }]);

    expect((await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.lei, { outcome: 'reject' })).json()).toMatchObject({
      type: 'https://casebook.dev/problems/task-claimed',
      claimed: { by: actor('mei') },
    });
    expect((await http.call('POST', `/v1/tasks/${id}/complete`, http.keys.mei, { outcome: 'approve' })).json()).toMatchObject({
      status: 'accepted',
      task: { status: 'done', completedBy: actor('mei') },
    });
    expect((await http.call('POST', `/v1/tasks/${id}/take-over`, http.keys.mei)).json()).toMatchObject({
      type: 'https://casebook.dev/problems/task-not-open',
      status: 409,
    });
    expect((await http.call('POST', '/v1/tasks/999999/take-over', http.keys.mei)).statusCode).toBe(404);
  });

  it('keeps notes with their author and time, never changed', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, DECIDE, 'aw-notes');
    const { id } = await taskOf('aw-notes', 'decide');
    const first = await http.call('POST', `/v1/tasks/${id}/notes`, http.keys.lei, { text: 'Buyer sent photos' });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ id: expect.any(Number), text: 'Buyer sent photos', by: actor('lei'), at: expect.any(String) });
    expect((await http.call('POST', `/v1/tasks/${id}/notes`, http.keys.mei, { text: '买家已上传照片' })).statusCode).toBe(201);

    const task = (await http.call('GET', `/v1/tasks/${id}`, http.keys.auditor)).json();
    expect(task.noteCount).toBe(2);
    expect(task.notes.map((n: { text: string; by: unknown }) => [n.text, n.by])).toEqual([
      ['Buyer sent photos', actor('lei')],
      ['买家已上传照片', actor('mei')],
    ]);

    for (const [body, pointer] of [
      [{ text: '' }, '/text'],
      [{ text: '   ' }, '/text'],
      [{ text: 'x'.repeat(2001) }, '/text'],
      [{}, '/text'],
      [{ text: 'a', by: 'me' }, '/by'],
    ] as const) {
      const refused = await http.call('POST', `/v1/tasks/${id}/notes`, http.keys.lei, body);
      expect(refused.statusCode, JSON.stringify(body)).toBe(400);
      expect(refused.json().errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    expect((await http.call('POST', `/v1/tasks/${id}/notes`, http.keys.lei, { text: 'x'.repeat(2000) })).statusCode).toBe(201);
    await expect(runtime.db.pool.query(`UPDATE task_notes SET text = 'changed'`)).rejects.toThrow(/permission denied/);
    await expect(runtime.db.pool.query(`DELETE FROM task_notes`)).rejects.toThrow(/permission denied/);
  });

  it('refuses unknown tasks and ids that are not ones', async () => {
    expect((await http.call('GET', '/v1/tasks/999999', http.keys.lei)).json()).toMatchObject({
      type: 'https://casebook.dev/problems/unknown-task',
      status: 404,
    });
    for (const path of ['/v1/tasks/999999/claim', '/v1/tasks/999999/release']) expect((await http.call('POST', path, http.keys.lei)).statusCode).toBe(404);
    expect((await http.call('POST', '/v1/tasks/999999/complete', http.keys.lei, { outcome: 'x' })).statusCode).toBe(404);
    expect((await http.call('POST', '/v1/tasks/999999/notes', http.keys.lei, { text: 'x' })).statusCode).toBe(404);
    const bad = await http.call('GET', '/v1/tasks/0', http.keys.lei);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([{ pointer: '/taskId', message: expect.any(String) }]);
    expect((await http.call('GET', '/v1/tasks?status=closed', http.keys.lei)).json().errors).toEqual([{ pointer: '/status', message: expect.any(String) }]);
  });
});

describe('the escalation queue', () => {
  it('acknowledges, then resolves, with who and when; again is 409', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, DECIDE, 'aw-esc');
    const { id: taskId } = await taskOf('aw-esc', 'decide');
    expect((await http.call('POST', `/v1/tasks/${taskId}/complete`, http.keys.fang, { outcome: 'reject' })).json().case).toMatchObject({
      status: 'closed',
      outcome: { outcome: 'escalated', reason: 'rejected' },
    });

    const escalation = await escalationOf('aw-esc');
    expect(escalation).toEqual({
      id: expect.any(Number),
      caseId: 'aw-esc',
      playbook: 'decide',
      orderId: 'aw-esc',
      step: 'escalate_rejected',
      queue: 'after-sale-supervisor',
      severity: 'high',
      reason: 'rejected_by_agent',
      note: 'rejected: aw-esc',
      status: 'open',
      createdAt: expect.any(String),
      acknowledged: null,
      resolved: null,
    });
    const open = (await http.call('GET', '/v1/escalations?status=open&queue=after-sale-supervisor', http.keys.lei)).json().escalations;
    expect(open.map((e: { id: number }) => e.id)).toContain(escalation.id);

    const acknowledged = await http.call('POST', `/v1/escalations/${escalation.id}/acknowledge`, http.keys.mei);
    expect(acknowledged.statusCode).toBe(200);
    expect(acknowledged.json()).toMatchObject({ status: 'acknowledged', acknowledged: { by: actor('mei'), at: expect.any(String) }, resolved: null });
    const twice = await http.call('POST', `/v1/escalations/${escalation.id}/acknowledge`, http.keys.lei);
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ type: 'https://casebook.dev/problems/escalation-handled', escalationStatus: 'acknowledged' });
    expect(twice.json().detail).toContain(`was acknowledged by Mei, ops lead (key ${ids.mei})`);

    const resolved = await http.call('POST', `/v1/escalations/${escalation.id}/resolve`, http.keys.lei, {
      resolution: 'Refunded in full after the supervisor’s call',
    });
    expect(resolved.statusCode).toBe(200);
    expect(resolved.json()).toMatchObject({
      status: 'resolved',
      acknowledged: acknowledged.json().acknowledged,
      resolved: { by: actor('lei'), at: expect.any(String), resolution: 'Refunded in full after the supervisor’s call' },
    });
    expect((await http.call('POST', `/v1/escalations/${escalation.id}/resolve`, http.keys.mei, { resolution: 'again' })).statusCode).toBe(409);
    expect((await http.call('POST', `/v1/escalations/${escalation.id}/acknowledge`, http.keys.mei)).json()).toMatchObject({ escalationStatus: 'resolved' });
    expect((await http.call('GET', '/v1/escalations?status=resolved', http.keys.auditor)).json().escalations.map((e: { id: number }) => e.id)).toEqual([
      escalation.id,
    ]);
    expect((await http.call('GET', '/v1/escalations?status=open', http.keys.auditor)).json().escalations.map((e: { id: number }) => e.id)).not.toContain(
      escalation.id,
    );
  });

  it('resolves an open escalation directly; refuses an empty resolution and unknown escalations', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, DECIDE, 'aw-esc-2');
    const { id: taskId } = await taskOf('aw-esc-2', 'decide');
    expect((await http.call('POST', `/v1/tasks/${taskId}/complete`, http.keys.lei, { outcome: 'reject' })).statusCode).toBe(200);
    const { id } = await escalationOf('aw-esc-2');
    const empty = await http.call('POST', `/v1/escalations/${id}/resolve`, http.keys.lei, { resolution: ' ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors).toEqual([{ pointer: '/resolution', message: expect.any(String) }]);
    expect((await http.call('POST', `/v1/escalations/${id}/resolve`, http.keys.lei, { resolution: 'Called the buyer' })).json()).toMatchObject({
      status: 'resolved',
      acknowledged: null,
      resolved: { by: actor('lei'), resolution: 'Called the buyer' },
    });
    expect((await http.call('POST', '/v1/escalations/999999/acknowledge', http.keys.lei)).json()).toMatchObject({
      type: 'https://casebook.dev/problems/unknown-escalation',
      status: 404,
    });
  });
});

describe('roles', () => {
  it('lets auditors read, never act; keeps the warehouse out', async () => {
    const {
      rows: [task],
    } = await runtime.db.pool.query(`SELECT id FROM tasks WHERE status = 'open' ORDER BY id LIMIT 1`);
    const {
      rows: [escalation],
    } = await runtime.db.pool.query(`SELECT id FROM escalations ORDER BY id LIMIT 1`);
    expect((await http.call('GET', '/v1/tasks', http.keys.auditor)).statusCode).toBe(200);
    expect((await http.call('GET', `/v1/tasks/${task.id}`, http.keys.auditor)).statusCode).toBe(200);
    expect((await http.call('GET', '/v1/escalations', http.keys.auditor)).statusCode).toBe(200);
    for (const [path, body] of [
      [`/v1/tasks/${task.id}/claim`, undefined],
      [`/v1/tasks/${task.id}/release`, undefined],
      [`/v1/tasks/${task.id}/take-over`, undefined],
      [`/v1/tasks/${task.id}/complete`, { outcome: 'approve' }],
      [`/v1/tasks/${task.id}/notes`, { text: 'x' }],
      [`/v1/escalations/${escalation.id}/acknowledge`, undefined],
      [`/v1/escalations/${escalation.id}/resolve`, { resolution: 'x' }],
    ] as const) {
      expect((await http.call('POST', path, http.keys.auditor, body)).json(), path).toMatchObject({
        type: 'https://casebook.dev/problems/forbidden',
        status: 403,
      });
      expect((await http.call('POST', path, http.keys.depot, body)).statusCode, path).toBe(403);
    }
    for (const path of ['/v1/tasks', `/v1/tasks/${task.id}`, '/v1/escalations'])
      expect((await http.call('GET', path, http.keys.depot)).statusCode, path).toBe(403);
    expect((await http.api.inject({ method: 'GET', url: '/v1/tasks' })).statusCode).toBe(401);
  });
});

describe('migration 311 on rows from before it', () => {
  /** The migrations before 311_agent_work.sql: 001, 101, 201 and 301 to 310. */
  const BEFORE_311 = 13;

  it('keeps open tasks open and unclaimed, reads a closed escalation as resolved, and the activities still work', async () => {
    const old = await createTestDatabase({ migrations: BEFORE_311 });
    try {
      const dueAt = '2026-11-25T10:00:00.000Z';
      const taskId = await openTask(old.pool, {
        key: 'm-1/decide/1',
        caseId: 'm-1',
        stepId: 'decide',
        role: 'after-sale-agent',
        title: 'Decide',
        outcomes: ['a', 'b'],
        dueAt,
      });
      await old.pool.query(
        `INSERT INTO escalations (idempotency_key, case_id, step_id, queue, severity, reason, status, created_at)
         VALUES ('m-1/late/1', 'm-1', 'late', 'supervisors', 'high', 'late', 'closed', '2026-11-01T08:00:00Z'),
                ('m-2/late/1', 'm-2', 'late', 'supervisors', 'medium', 'late', 'open', '2026-11-02T08:00:00Z')`,
      );
      await migrate(old.url, 1);
      expect((await old.pool.query(`SELECT name FROM schema_migrations ORDER BY id DESC LIMIT 1`)).rows).toEqual([{ name: '311_agent_work' }]);

      expect(await findTask(old.pool, taskId)).toMatchObject({ status: 'open', dueAt, claimed: null, completedBy: null, noteCount: 0 });
      const page = await listEscalations(old.pool, {});
      expect(page!.escalations.map((e) => [e.caseId, e.status, e.acknowledged, e.resolved])).toEqual([
        ['m-2', 'open', null, null],
        ['m-1', 'resolved', null, { by: { keyId: null, name: 'casebook' }, at: '2026-11-01T08:00:00.000Z', resolution: 'closed' }],
      ]);

      await closeTask(old.pool, { key: 'm-1/decide/1', outcome: 'b', breached: false });
      expect(await findTask(old.pool, taskId)).toMatchObject({ status: 'done', outcome: 'b' });
      await openEscalation(old.pool, { key: 'm-3/late/1', caseId: 'm-3', stepId: 'late', queue: 'supervisors', severity: 'low', reason: 'late' });
      expect((await listEscalations(old.pool, { status: 'open' }))!.escalations.map((e) => e.caseId)).toEqual(['m-3', 'm-2']);
    } finally {
      await old.drop();
    }
  });
});
