/**
 * Queue (#/queue): the open tasks by queue with the time left on their SLA (counting down; overdue in
 * red), claimed, released, completed with one of their outcomes and annotated; and the escalations,
 * acknowledged and resolved, with who did it and when.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Actor } from '../../api-contract/cases.js';
import type { Escalation, EscalationPage, EscalationStatus, Task, TaskCompletion, TaskNote, TaskPage, TaskWithNotes } from '../../api-contract/work.js';
import { api, ApiProblem, queryOf } from '../api.js';
import { formatLeft, formatTime, TIME_LEFT_MESSAGES, zoneLabel } from '../format.js';
import { useT, type Messages, type Translate } from '../i18n.js';
import type { PageProps } from '../pages.js';
import type { Session } from '../session.js';

type Key =
  | 'title'
  | 'tasks'
  | 'show'
  | 'all'
  | 'mine'
  | 'unclaimed'
  | 'queue'
  | 'anyQueue'
  | 'refresh'
  | 'loading'
  | 'noTasks'
  | 'queueCount'
  | 'task'
  | 'case'
  | 'due'
  | 'timeLeft'
  | 'holder'
  | 'actions'
  | 'nobody'
  | 'you'
  | 'claim'
  | 'release'
  | 'complete'
  | 'completeWith'
  | 'notes'
  | 'addNote'
  | 'noteLabel'
  | 'noNotes'
  | 'noteAdded'
  | 'completed'
  | 'completedClosed'
  | 'claimed'
  | 'released'
  | 'timesIn'
  | 'order'
  | 'escalations'
  | 'status'
  | 'pending'
  | 'open'
  | 'acknowledged'
  | 'resolved'
  | 'noEscalations'
  | 'severity'
  | 'reason'
  | 'opened'
  | 'acknowledgedBy'
  | 'resolvedBy'
  | 'acknowledge'
  | 'resolve'
  | 'resolution'
  | 'byAt'
  | 'escalationAcknowledged'
  | 'escalationResolved'
  | 'low'
  | 'medium'
  | 'high'
  | 'critical';

const MESSAGES: Messages<Key> = {
  en: {
    title: 'Queue',
    tasks: 'Open tasks',
    show: 'Show',
    all: 'All open tasks',
    mine: 'Claimed by me',
    unclaimed: 'Unclaimed',
    queue: 'Queue',
    anyQueue: 'Every queue',
    refresh: 'Refresh',
    loading: 'Loading…',
    noTasks: 'No open task here.',
    queueCount: '{queue} ({count})',
    task: 'Task',
    case: 'Case',
    due: 'Due',
    timeLeft: 'Time left',
    holder: 'Claimed by',
    actions: 'Actions',
    nobody: 'Nobody',
    you: 'You',
    claim: 'Claim',
    release: 'Release',
    complete: 'Complete with an outcome',
    completeWith: '{outcome}',
    notes: 'Notes ({count})',
    addNote: 'Add note',
    noteLabel: 'Note on task {id}',
    noNotes: 'No note yet.',
    noteAdded: 'Note added to task {id}.',
    completed: 'Task {id} completed: case {caseId} moved on to step {step}.',
    completedClosed: 'Task {id} completed: case {caseId} closed ({outcome}).',
    claimed: 'You claimed task {id}.',
    released: 'Task {id} released.',
    timesIn: 'Times in the shop’s time zone ({zone}).',
    order: 'order {orderId}',
    escalations: 'Escalations',
    status: 'Status',
    pending: 'Open or acknowledged',
    open: 'Open',
    acknowledged: 'Acknowledged',
    resolved: 'Resolved',
    noEscalations: 'No escalation here.',
    severity: 'Severity',
    reason: 'Reason',
    opened: 'Opened',
    acknowledgedBy: 'Acknowledged',
    resolvedBy: 'Resolved',
    acknowledge: 'Acknowledge',
    resolve: 'Resolve',
    resolution: 'Resolution of escalation {id}',
    byAt: '{name}, {time}',
    escalationAcknowledged: 'Escalation {id} acknowledged.',
    escalationResolved: 'Escalation {id} resolved.',
    low: 'Low',
    medium: 'Medium',
    high: 'High',
    critical: 'Critical',
  },
  zh: {
    title: '待办队列',
    tasks: '待处理任务',
    show: '显示',
    all: '全部待处理任务',
    mine: '我认领的',
    unclaimed: '未认领',
    queue: '队列',
    anyQueue: '全部队列',
    refresh: '刷新',
    loading: '加载中…',
    noTasks: '这里没有待处理的任务。',
    queueCount: '{queue}（{count}）',
    task: '任务',
    case: '工单',
    due: '截止时间',
    timeLeft: '剩余时间',
    holder: '认领人',
    actions: '操作',
    nobody: '无人',
    you: '你',
    claim: '认领',
    release: '释放',
    complete: '选择结果完成任务',
    completeWith: '{outcome}',
    notes: '备注（{count}）',
    addNote: '添加备注',
    noteLabel: '任务 {id} 的备注',
    noNotes: '暂无备注。',
    noteAdded: '已为任务 {id} 添加备注。',
    completed: '任务 {id} 已完成：工单 {caseId} 已进入步骤 {step}。',
    completedClosed: '任务 {id} 已完成：工单 {caseId} 已结束（{outcome}）。',
    claimed: '你已认领任务 {id}。',
    released: '任务 {id} 已释放。',
    timesIn: '时间为店铺所在时区（{zone}）。',
    order: '订单 {orderId}',
    escalations: '升级事项',
    status: '状态',
    pending: '待处理或已确认',
    open: '待处理',
    acknowledged: '已确认',
    resolved: '已解决',
    noEscalations: '这里没有升级事项。',
    severity: '严重程度',
    reason: '原因',
    opened: '创建时间',
    acknowledgedBy: '确认',
    resolvedBy: '解决',
    acknowledge: '确认',
    resolve: '解决',
    resolution: '升级事项 {id} 的处理结果',
    byAt: '{name}，{time}',
    escalationAcknowledged: '升级事项 {id} 已确认。',
    escalationResolved: '升级事项 {id} 已解决。',
    low: '低',
    medium: '中',
    high: '高',
    critical: '紧急',
  },
};

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
/** How many pages of 100 a list reads at most. */
const MAX_PAGES = 5;

const problemText = (failure: unknown): string => (failure instanceof ApiProblem || failure instanceof Error ? failure.message : String(failure));

/** Every page of a list, up to MAX_PAGES. */
async function readAll<P extends { nextCursor: string | null }, T>(
  session: Session,
  path: string,
  query: Record<string, string>,
  items: (page: P) => T[],
): Promise<{ rows: T[] }> {
  const rows: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await api<P>(session, 'GET', `${path}${queryOf({ ...query, limit: 100, cursor })}`);
    rows.push(...items(answer));
    if (!answer.nextCursor) break;
    cursor = answer.nextCursor;
  }
  return { rows };
}

export function QueuePage({ session }: PageProps) {
  const t = useT(MESSAGES);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title">{t('title')}</h1>
      <p class="muted">{t('timesIn', { zone: zoneLabel(session) })}</p>
      <p role="status">{notice}</p>
      <TaskQueue session={session} t={t} onNotice={setNotice} />
      <EscalationQueue session={session} t={t} onNotice={setNotice} />
    </section>
  );
}

interface QueueProps {
  session: Session;
  t: Translate<Key>;
  onNotice: (text: string) => void;
}

function TaskQueue({ session, t, onNotice }: QueueProps) {
  const tLeft = useT(TIME_LEFT_MESSAGES);
  const [claimed, setClaimed] = useState<'any' | 'me' | 'unclaimed'>('any');
  const [queue, setQueue] = useState('');
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [queues, setQueues] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());

  const load = async () => {
    try {
      const { rows } = await readAll(session, '/v1/tasks', { status: 'open', claimed, queue }, (page: TaskPage) => page.tasks);
      setTasks(rows);
      setQueues((known) => [...new Set([...known, ...rows.map((task) => task.queue)])].sort());
      setError(null);
    } catch (failure) {
      setError(problemText(failure));
    }
  };

  useEffect(() => {
    setTasks(null);
    void load();
    const reload = setInterval(() => void load(), 30_000);
    return () => clearInterval(reload);
  }, [session, claimed, queue]);
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(tick);
  }, []);

  /** Runs an action on a task, then says what happened and reads the queue again. */
  const act = async (task: Task, action: () => Promise<string>) => {
    setBusy(task.id);
    try {
      onNotice(await action());
      setError(null);
    } catch (failure) {
      setError(problemText(failure));
    } finally {
      setBusy(null);
      await load();
    }
  };
  const post = <T,>(task: Task, what: string, body?: unknown) => api<T>(session, 'POST', `/v1/tasks/${task.id}/${what}`, body);
  const claim = (task: Task) => act(task, async () => (await post<Task>(task, 'claim'), t('claimed', { id: task.id })));
  const release = (task: Task) => act(task, async () => (await post<Task>(task, 'release'), t('released', { id: task.id })));
  const complete = (task: Task, outcome: string) =>
    act(task, async () => {
      const { case: after } = await post<TaskCompletion>(task, 'complete', { outcome });
      if (after && after.status === 'closed' && after.outcome)
        return t('completedClosed', { id: task.id, caseId: task.caseId, outcome: after.outcome.outcome });
      return t('completed', { id: task.id, caseId: task.caseId, step: after?.step ?? '—' });
    });

  const byQueue = new Map<string, Task[]>();
  for (const task of tasks ?? []) byQueue.set(task.queue, [...(byQueue.get(task.queue) ?? []), task]);
  const lead = session.role === 'ops-lead' || session.role === 'admin';

  return (
    <section aria-labelledby="tasks-title">
      <h2 id="tasks-title">{t('tasks')}</h2>
      <form
        class="filters"
        aria-label={t('tasks')}
        onSubmit={(event) => {
          event.preventDefault();
          void load();
        }}
      >
        <label for="task-claimed">
          {t('show')}
          <select id="task-claimed" value={claimed} onChange={(event) => setClaimed(event.currentTarget.value as typeof claimed)}>
            <option value="any">{t('all')}</option>
            <option value="me">{t('mine')}</option>
            <option value="unclaimed">{t('unclaimed')}</option>
          </select>
        </label>
        <label for="task-queue">
          {t('queue')}
          <select id="task-queue" value={queue} onChange={(event) => setQueue(event.currentTarget.value)}>
            <option value="">{t('anyQueue')}</option>
            {queues.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <div class="actions">
          <button type="submit" class="secondary">
            {t('refresh')}
          </button>
        </div>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {tasks === null ? (
        <p>{t('loading')}</p>
      ) : tasks.length === 0 ? (
        <p>{t('noTasks')}</p>
      ) : (
        [...byQueue].map(([name, queued]) => (
          <section key={name} aria-labelledby={`queue-${name}`}>
            <h3 id={`queue-${name}`}>{t('queueCount', { queue: name, count: queued.length })}</h3>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('task')}</th>
                  <th scope="col">{t('case')}</th>
                  <th scope="col">{t('due')}</th>
                  <th scope="col">{t('timeLeft')}</th>
                  <th scope="col">{t('holder')}</th>
                  <th scope="col">{t('actions')}</th>
                </tr>
              </thead>
              <tbody>
                {queued.map((task) => {
                  const mine = task.claimed?.by.keyId === session.keyId;
                  const heldByOther = task.claimed !== null && !mine;
                  const overdue = Date.parse(task.dueAt) < now;
                  return (
                    <tr key={task.id} data-task-id={task.id}>
                      <td>
                        {task.title}
                        <br />
                        <span class="mono muted">{task.step}</span>
                      </td>
                      <td>
                        <a href={`#/cases/${encodeURIComponent(task.caseId)}`}>{task.caseId}</a>
                        {task.orderId && (
                          <>
                            <br />
                            <span class="muted">{t('order', { orderId: task.orderId })}</span>
                          </>
                        )}
                      </td>
                      <td>{formatTime(task.dueAt, session)}</td>
                      <td class={overdue ? 'overdue late' : undefined} data-overdue={overdue ? 'true' : 'false'}>
                        {formatLeft(task.dueAt, now, tLeft)}
                      </td>
                      <td>{task.claimed ? (mine ? t('you') : task.claimed.by.name) : t('nobody')}</td>
                      <td>
                        <div class="actions">
                          {!task.claimed && (
                            <button type="button" disabled={busy === task.id} onClick={() => void claim(task)}>
                              {t('claim')}
                            </button>
                          )}
                          {task.claimed && (mine || lead) && (
                            <button type="button" class="secondary" disabled={busy === task.id} onClick={() => void release(task)}>
                              {t('release')}
                            </button>
                          )}
                        </div>
                        <fieldset class="outcomes" disabled={busy === task.id || heldByOther}>
                          <legend>{t('complete')}</legend>
                          {task.outcomes.map((outcome) => (
                            <button key={outcome} type="button" class="secondary" data-outcome={outcome} onClick={() => void complete(task, outcome)}>
                              {t('completeWith', { outcome })}
                            </button>
                          ))}
                        </fieldset>
                        <TaskNotes session={session} t={t} task={task} onNotice={onNotice} onAdded={load} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        ))
      )}
    </section>
  );
}

function TaskNotes({ session, t, task, onNotice, onAdded }: QueueProps & { task: Task; onAdded: () => Promise<void> }) {
  const [notes, setNotes] = useState<TaskNote[] | null>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const read = async () => setNotes((await api<TaskWithNotes>(session, 'GET', `/v1/tasks/${task.id}`)).notes);
  const add = async (event: Event) => {
    event.preventDefault();
    try {
      await api(session, 'POST', `/v1/tasks/${task.id}/notes`, { text });
      setText('');
      setError(null);
      onNotice(t('noteAdded', { id: task.id }));
      await read();
      await onAdded();
    } catch (failure) {
      setError(problemText(failure));
    }
  };
  const field = `note-${task.id}`;
  return (
    <details
      onToggle={(event) => {
        if ((event.currentTarget as HTMLDetailsElement).open) read().catch((failure: unknown) => setError(problemText(failure)));
      }}
    >
      <summary>{t('notes', { count: notes?.length ?? task.noteCount })}</summary>
      {notes &&
        (notes.length === 0 ? (
          <p class="muted">{t('noNotes')}</p>
        ) : (
          <ul class="notes">
            {notes.map((note) => (
              <li key={note.id}>
                {note.text} <span class="muted">— {t('byAt', { name: note.by.name, time: formatTime(note.at, session) })}</span>
              </li>
            ))}
          </ul>
        ))}
      <form onSubmit={add}>
        <label for={field}>{t('noteLabel', { id: task.id })}</label>
        <textarea id={field} rows={2} maxLength={2000} required value={text} onInput={(event) => setText(event.currentTarget.value)} />
        <button type="submit">{t('addNote')}</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </details>
  );
}

type EscalationFilter = 'pending' | EscalationStatus;

function EscalationQueue({ session, t, onNotice }: QueueProps) {
  const [status, setStatus] = useState<EscalationFilter>('pending');
  const [escalations, setEscalations] = useState<Escalation[] | null>(null);
  const [resolutions, setResolutions] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      const statuses: EscalationStatus[] = status === 'pending' ? ['open', 'acknowledged'] : [status];
      const lists = await Promise.all(statuses.map((s) => readAll(session, '/v1/escalations', { status: s }, (page: EscalationPage) => page.escalations)));
      setEscalations(lists.flatMap((list) => list.rows).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id));
      setError(null);
    } catch (failure) {
      setError(problemText(failure));
    }
  };
  useEffect(() => {
    setEscalations(null);
    void load();
    const reload = setInterval(() => void load(), 30_000);
    return () => clearInterval(reload);
  }, [session, status]);

  const act = async (action: () => Promise<string>) => {
    try {
      onNotice(await action());
      setError(null);
    } catch (failure) {
      setError(problemText(failure));
    } finally {
      await load();
    }
  };
  const acknowledge = (escalation: Escalation) =>
    act(async () => {
      await api(session, 'POST', `/v1/escalations/${escalation.id}/acknowledge`);
      return t('escalationAcknowledged', { id: escalation.id });
    });
  const resolve = (escalation: Escalation) =>
    act(async () => {
      await api(session, 'POST', `/v1/escalations/${escalation.id}/resolve`, { resolution: resolutions[escalation.id] ?? '' });
      setResolutions((typed) => Object.fromEntries(Object.entries(typed).filter(([id]) => Number(id) !== escalation.id)));
      return t('escalationResolved', { id: escalation.id });
    });
  const byAt = (done: { by: Actor; at: string } | null) => (done ? t('byAt', { name: done.by.name, time: formatTime(done.at, session) }) : '—');
  const severity = (value: string) => (SEVERITIES.includes(value as (typeof SEVERITIES)[number]) ? t(value as (typeof SEVERITIES)[number]) : value);

  return (
    <section aria-labelledby="escalations-title">
      <h2 id="escalations-title">{t('escalations')}</h2>
      <form
        class="filters"
        aria-label={t('escalations')}
        onSubmit={(event) => {
          event.preventDefault();
          void load();
        }}
      >
        <label for="escalation-status">
          {t('status')}
          <select id="escalation-status" value={status} onChange={(event) => setStatus(event.currentTarget.value as EscalationFilter)}>
            <option value="pending">{t('pending')}</option>
            <option value="open">{t('open')}</option>
            <option value="acknowledged">{t('acknowledged')}</option>
            <option value="resolved">{t('resolved')}</option>
          </select>
        </label>
        <div class="actions">
          <button type="submit" class="secondary">
            {t('refresh')}
          </button>
        </div>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {escalations === null ? (
        <p>{t('loading')}</p>
      ) : escalations.length === 0 ? (
        <p>{t('noEscalations')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('case')}</th>
              <th scope="col">{t('queue')}</th>
              <th scope="col">{t('severity')}</th>
              <th scope="col">{t('reason')}</th>
              <th scope="col">{t('opened')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('acknowledgedBy')}</th>
              <th scope="col">{t('resolvedBy')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {escalations.map((escalation) => {
              const field = `resolution-${escalation.id}`;
              return (
                <tr key={escalation.id} data-escalation-id={escalation.id}>
                  <td>
                    <a href={`#/cases/${encodeURIComponent(escalation.caseId)}`}>{escalation.caseId}</a>
                    {escalation.orderId && (
                      <>
                        <br />
                        <span class="muted">{t('order', { orderId: escalation.orderId })}</span>
                      </>
                    )}
                  </td>
                  <td>{escalation.queue}</td>
                  <td class={escalation.severity === 'high' || escalation.severity === 'critical' ? 'late' : undefined}>{severity(escalation.severity)}</td>
                  <td>
                    <span class="mono">{escalation.reason}</span>
                    {escalation.note && (
                      <>
                        <br />
                        {escalation.note}
                      </>
                    )}
                  </td>
                  <td>{formatTime(escalation.createdAt, session)}</td>
                  <td>
                    <span class={`status ${escalation.status === 'resolved' ? 'closed' : 'open'}`}>{t(escalation.status)}</span>
                  </td>
                  <td data-field="acknowledged">{byAt(escalation.acknowledged)}</td>
                  <td data-field="resolved">
                    {byAt(escalation.resolved)}
                    {escalation.resolved && (
                      <>
                        <br />
                        {escalation.resolved.resolution}
                      </>
                    )}
                  </td>
                  <td>
                    {escalation.status === 'open' && (
                      <button type="button" class="secondary" onClick={() => void acknowledge(escalation)}>
                        {t('acknowledge')}
                      </button>
                    )}
                    {escalation.status !== 'resolved' && (
                      <form
                        onSubmit={(event) => {
                          event.preventDefault();
                          void resolve(escalation);
                        }}
                      >
                        <label for={field} class="visually-hidden">
                          {t('resolution', { id: escalation.id })}
                        </label>
                        <input
                          id={field}
                          type="text"
                          required
                          maxLength={2000}
                          placeholder={t('resolution', { id: escalation.id })}
                          value={resolutions[escalation.id] ?? ''}
                          onInput={(event) => setResolutions({ ...resolutions, [escalation.id]: event.currentTarget.value })}
                        />
                        <button type="submit">{t('resolve')}</button>
                      </form>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
