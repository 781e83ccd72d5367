/** Agent work: the task queue and the escalation queue, with a task's notes. */
export {
  addTaskNote,
  claimTask,
  findTask,
  listTaskNotes,
  listTasks,
  releaseTask,
  takeOverTask,
  type Task,
  type TaskListFilter,
} from '../store/tasks.js';
export {
  acknowledgeEscalation,
  findEscalation,
  listEscalations,
  resolveEscalation,
  type Escalation,
  type EscalationListFilter,
} from '../store/escalations.js';
