/** Who is signed in: the API key (kept in sessionStorage, so it goes with the tab) and what GET /v1/me says of it. */
import { request } from './api.js';

export type Role = 'ops-lead' | 'agent' | 'warehouse' | 'auditor' | 'admin';

export interface Session {
  key: string;
  keyId: string;
  name: string;
  role: Role;
  settings: {
    /** The shop's IANA time zone; every time is shown in it. */
    timeZone: string;
    /** The Temporal Web UI, or null when none is known. */
    temporalUiUrl: string | null;
    namespace: string;
  };
}

const STORAGE_KEY = 'casebook.key';

/** Asks the API who the key is; throws ApiProblem (401 for a key that is not valid). */
export async function signIn(key: string): Promise<Session> {
  const me = await request<Omit<Session, 'key'>>(key, 'GET', '/v1/me');
  sessionStorage.setItem(STORAGE_KEY, key);
  return { key, ...me };
}

export const storedKey = (): string | null => sessionStorage.getItem(STORAGE_KEY);

export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
