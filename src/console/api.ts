/** Calls to the Casebook API with the session's key: parsed JSON, or an ApiProblem carrying the problem+json. */
import type { Problem } from '../api-contract/problems.js';
import type { Session } from './session.js';

/** A problem document with the members its type adds (an invalid playbook's `diagnostics`...). */
type ProblemWithExtensions = Problem & { [extension: string]: unknown };

/** Fired on window when the API answers 401: the key was revoked while signed in. */
export const UNAUTHORIZED_EVENT = 'casebook:unauthorized';

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemWithExtensions,
  ) {
    super(problem.detail ?? problem.title);
  }
}

async function send(key: string, method: string, path: string, body: unknown, accept: string): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept };
  if (body !== undefined) headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
  const response = await fetch(path, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  if (response.ok) return response;
  const text = await response.text();
  let problem: ProblemWithExtensions;
  try {
    problem = JSON.parse(text) as ProblemWithExtensions;
  } catch {
    problem = { type: 'about:blank', title: response.statusText, status: response.status, detail: text.slice(0, 200) };
  }
  if (response.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
  throw new ApiProblem(response.status, problem);
}

/** A call with a bare key (signing in). */
export async function request<T>(key: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(key, method, path, body, 'application/json');
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** A JSON call; a string body is sent as YAML (playbooks), anything else as JSON. */
export const api = <T>(session: Pick<Session, 'key'>, method: string, path: string, body?: unknown): Promise<T> => request<T>(session.key, method, path, body);

/** A text download (CSV). */
export async function apiText(session: Pick<Session, 'key'>, path: string): Promise<string> {
  return (await send(session.key, 'GET', path, undefined, 'text/csv, text/plain, */*')).text();
}

/** A query string from the filters that are set: `?a=1&b=x`, or '' when none is. */
export function queryOf(filters: Record<string, string | number | boolean | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
