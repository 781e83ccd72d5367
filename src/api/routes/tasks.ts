/** The task queue: agents list, claim, release, complete and annotate the human tasks cases open. */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { Task as TaskBody, TaskCompletion, TaskNote, TaskPage, TaskWithNotes } from '../../api-contract/work.js';
import { completeTask } from '../../cases/agent-work.js';
import type { Role } from '../../services/keys.js';
import { addTaskNote, claimTask, findTask, listTaskNotes, listTasks, releaseTask, takeOverTask, type Task, type TaskListFilter } from '../../services/work.js';
import { actorOf, AGENT_WORKERS, READERS } from '../auth.js';
import { sendDelivery } from '../delivery.js';
import type { ApiDependencies } from '../dependencies.js';
import { PAGE_QUERY, pageOrInvalidCursor } from '../pagination.js';
import { problem, sendProblem } from '../problems.js';
import { PERSON_TEXT, ROW_ID } from '../params.js';
import { responses, WITH_BODY } from '../responses.js';

const TAGS = ['agent work'];
/** Who may release, or take over, a task someone else holds. */
const LEADS: readonly Role[] = ['ops-lead', 'admin'];

const taskParams = { type: 'object', required: ['taskId'], properties: { taskId: { type: 'string', pattern: ROW_ID } } } as const;
type TaskParams = { Params: { taskId: string } };

/** The task with the time left on its SLA at `asOf` (negative when overdue; null once it is closed). */
const withTimeLeft = (task: Task, asOf: number): TaskBody => ({ ...task, timeLeftMs: task.status === 'open' ? Date.parse(task.dueAt) - asOf : null });

const unknownTask = (reply: FastifyReply, taskId: string) => sendProblem(reply, problem('unknown-task', `no task ${taskId}`));
const holder = (task: Task) => (task.claimed ? `${task.claimed.by.name} (key ${task.claimed.by.keyId})` : 'nobody');

export const taskRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    readRoutes(app, deps);
    claimRoutes(app, deps);
    completeRoute(app, deps);
    noteRoute(app, deps);
  };

function readRoutes(app: FastifyInstance, deps: ApiDependencies): void {
  app.get<{ Querystring: TaskListFilter }>(
    '',
    {
      config: { roles: READERS },
      schema: {
        tags: TAGS,
        summary: 'Tasks by due time, soonest first, with the time left on their SLA at `asOf`; filtered and paginated by cursor',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            queue: { type: 'string', minLength: 1, maxLength: 100 },
            status: { enum: ['open', 'done', 'breached'] },
            claimed: { enum: ['me', 'unclaimed', 'any'] },
            ...PAGE_QUERY,
          },
        },
        response: responses({ 200: TaskPage }, ['invalid-cursor']),
      },
    },
    async (request, reply) => {
      const asOf = Date.now();
      const page = await listTasks(deps.pool, request.query, request.apiKey!.id);
      if (!page) return pageOrInvalidCursor(reply, page);
      return { tasks: page.tasks.map((task) => withTimeLeft(task, asOf)), nextCursor: page.nextCursor, asOf: new Date(asOf).toISOString() } satisfies TaskPage;
    },
  );

  app.get<TaskParams>(
    '/:taskId',
    {
      config: { roles: READERS },
      schema: { tags: TAGS, summary: 'A task with its notes, oldest first', params: taskParams, response: responses({ 200: TaskWithNotes }, ['unknown-task']) },
    },
    async (request, reply) => {
      const id = Number(request.params.taskId);
      const task = await findTask(deps.pool, id);
      if (!task) return unknownTask(reply, request.params.taskId);
      return { ...withTimeLeft(task, Date.now()), notes: await listTaskNotes(deps.pool, id) } satisfies TaskWithNotes;
    },
  );
}

function claimRoutes(app: FastifyInstance, deps: ApiDependencies): void {
  app.post<TaskParams>(
    '/:taskId/claim',
    {
      config: { roles: AGENT_WORKERS },
      schema: {
        tags: TAGS,
        summary: 'Claim an open task for the calling key (again by its holder: no change); 409 when someone else holds it',
        params: taskParams,
        response: responses({ 200: TaskBody }, ['unknown-task', 'task-claimed', 'task-not-open']),
      },
    },
    async (request, reply) => {
      const id = Number(request.params.taskId);
      const by = actorOf(request);
      const claimed = await claimTask(deps.pool, id, by);
      const task = await findTask(deps.pool, id);
      if (!task) return unknownTask(reply, request.params.taskId);
      if (claimed) return withTimeLeft(task, Date.now());
      if (task.status !== 'open' || task.completedBy) return sendProblem(reply, notOpen(task));
      return sendProblem(reply, problem('task-claimed', `task ${id} is held by ${holder(task)}`, { claimed: task.claimed }));
    },
  );

  app.post<TaskParams>(
    '/:taskId/take-over',
    {
      config: { roles: LEADS },
      schema: {
        tags: TAGS,
        summary: 'An ops lead or admin takes an open task over from the key that holds it, written to the audit trail (unclaimed or their own: a claim)',
        params: taskParams,
        response: responses({ 200: TaskBody }, ['unknown-task', 'task-not-open']),
      },
    },
    async (request, reply) => {
      const id = Number(request.params.taskId);
      const by = actorOf(request);
      const holds = (await claimTask(deps.pool, id, by)) || (await takeOverTask(deps.pool, id, by)) !== undefined;
      const task = await findTask(deps.pool, id);
      if (!task) return unknownTask(reply, request.params.taskId);
      if (holds) return withTimeLeft(task, Date.now());
      return sendProblem(reply, notOpen(task));
    },
  );

  app.post<TaskParams>(
    '/:taskId/release',
    {
      config: { roles: AGENT_WORKERS },
      schema: {
        tags: TAGS,
        summary: 'Release a claimed task: its holder, or an ops lead or admin for anyone; releasing an unclaimed task changes nothing',
        params: taskParams,
        response: responses({ 200: TaskBody }, ['unknown-task', 'task-claimed', 'task-not-open']),
      },
    },
    async (request, reply) => {
      const id = Number(request.params.taskId);
      const apiKey = request.apiKey!;
      const released = await releaseTask(deps.pool, id, LEADS.includes(apiKey.role) ? null : apiKey.id);
      const task = await findTask(deps.pool, id);
      if (!task) return unknownTask(reply, request.params.taskId);
      if (released || task.claimed === null) return withTimeLeft(task, Date.now());
      if (task.status !== 'open' || task.completedBy) return sendProblem(reply, notOpen(task));
      return sendProblem(
        reply,
        problem('task-claimed', `task ${id} is held by ${holder(task)}; only they, an ops lead or an admin may release it`, { claimed: task.claimed }),
      );
    },
  );
}

function notOpen(task: Task) {
  const why = task.status === 'open' ? `is being completed by ${task.completedBy!.name}` : `is ${task.status}${task.outcome ? ` (${task.outcome})` : ''}`;
  return problem('task-not-open', `task ${task.id} ${why}`, { taskStatus: task.status, completedBy: task.completedBy });
}

function completeRoute(app: FastifyInstance, deps: ApiDependencies): void {
  app.post<TaskParams & { Body: { outcome: string; note?: string } }>(
    '/:taskId/complete',
    {
      config: { roles: AGENT_WORKERS },
      schema: {
        tags: TAGS,
        summary:
          'Complete a task with one of its outcomes: delivers `task.completed` to its case as the calling key (a retry is a duplicate); answers the case as it is now',
        params: taskParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['outcome'],
          properties: { outcome: { type: 'string', minLength: 1, maxLength: 100 }, note: PERSON_TEXT },
        },
        response: responses({ 200: TaskCompletion }, [
          ...WITH_BODY,
          'unknown-task',
          'unknown-outcome',
          'task-not-open',
          'task-claimed',
          'unknown-case',
          'event-not-expected',
          'case-closed',
          'invalid-event',
        ]),
      },
    },
    async (request, reply) => {
      const by = actorOf(request);
      const completion = await completeTask(deps, {
        taskId: Number(request.params.taskId),
        outcome: request.body.outcome,
        ...(request.body.note !== undefined ? { note: request.body.note } : {}),
        by,
      });
      switch (completion.kind) {
        case 'unknown-task':
          return unknownTask(reply, request.params.taskId);
        case 'unknown-outcome': {
          const message = `must be one of ${completion.task.outcomes.join(', ')}`;
          return sendProblem(
            reply,
            problem('unknown-outcome', `task ${completion.task.id} has no outcome ${request.body.outcome}: ${message}`, {
              errors: [{ pointer: '/outcome', message }],
            }),
          );
        }
        case 'not-open':
          return sendProblem(reply, notOpen(completion.task));
        case 'claimed-by-other':
          return sendProblem(
            reply,
            problem('task-claimed', `task ${completion.task.id} is held by ${holder(completion.task)}`, { claimed: completion.task.claimed }),
          );
        case 'refused':
          return sendDelivery(reply, completion.caseId, completion.result);
        case 'completed':
          return { status: completion.status, task: withTimeLeft(completion.task, Date.now()), case: completion.case } satisfies TaskCompletion;
      }
    },
  );
}

function noteRoute(app: FastifyInstance, deps: ApiDependencies): void {
  app.post<TaskParams & { Body: { text: string } }>(
    '/:taskId/notes',
    {
      config: { roles: AGENT_WORKERS },
      schema: {
        tags: TAGS,
        summary: 'Add a note to a task (notes are never changed or removed)',
        params: taskParams,
        body: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: PERSON_TEXT } },
        response: responses({ 201: TaskNote }, [...WITH_BODY, 'unknown-task']),
      },
    },
    async (request, reply) => {
      const id = Number(request.params.taskId);
      if (!(await findTask(deps.pool, id))) return unknownTask(reply, request.params.taskId);
      return reply.code(201).send(await addTaskNote(deps.pool, id, actorOf(request), request.body.text));
    },
  );
}
