/** Who is signed in: the API key (kept in sessionStorage, so it goes with the tab) and what GET /v1/me says of it. */
import type { Me } from '../api-contract/service.js';
import { request } from './api.js';

/** The signed-in key: what `GET /v1/me` says of it, and the key itself. */
export interface Session extends Me {
  key: string;
}

const STORAGE_KEY = 'casebook.key';

/** Asks the API who the key is; throws ApiProblem (401 for a key that is not valid). */
export async function signIn(key: string): Promise<Session> {
  const me = await request<Me>(key, 'GET', '/v1/me');
  sessionStorage.setItem(STORAGE_KEY, key);
  return { key, ...me };
}

export const storedKey = (): string | null => sessionStorage.getItem(STORAGE_KEY);

export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
