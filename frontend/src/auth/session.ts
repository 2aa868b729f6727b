/**
 * The login session, kept in localStorage so a reload stays logged in, and published as a tiny
 * external store (React reads it with useSyncExternalStore). Expiry is handled here, once:
 * - a token whose `expiresAt` has passed is never sent; reading it ends the session;
 * - the API client calls `endSession('TOKEN_EXPIRED' | 'UNAUTHENTICATED')` on an HTTP 401;
 * both leave a Chinese notice that the login page shows after the redirect.
 */

export const SESSION_KEY = 'huijia.session';
export const LAST_TENANT_KEY = 'huijia.lastTenant';
/** The worker portal (/m/) keeps its own session: a worker's token never reaches the staff UI. */
export const PORTAL_SESSION_KEY = 'huijia.portal.session';

let sessionKey = SESSION_KEY;

export interface Session {
  token: string;
  expiresAt: string; // ISO date-time from the login payload
  tenantCode: string;
  username: string;
}

export type EndReason = 'TOKEN_EXPIRED' | 'UNAUTHENTICATED' | 'LOGOUT';

export const END_NOTICES: Record<EndReason, string | null> = {
  TOKEN_EXPIRED: '登录已过期，请重新登录。',
  UNAUTHENTICATED: '登录状态已失效，请重新登录。',
  LOGOUT: null,
};

export interface SessionState {
  session: Session | null;
  /** Why the last session ended, shown once on the login page. */
  notice: string | null;
  /** How the last session ended (null: none has ended since the page loaded). */
  ended: EndReason | null;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let state: SessionState = { session: readStored(), notice: null, ended: null };

function readStored(): Session | null {
  try {
    const raw = localStorage.getItem(sessionKey);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || typeof s.expiresAt !== 'string') return null;
    return { token: s.token, expiresAt: s.expiresAt, tenantCode: s.tenantCode ?? '', username: s.username ?? '' };
  } catch {
    return null;
  }
}

function emit(next: SessionState): void {
  state = next;
  listeners.forEach((l) => l());
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function getState(): SessionState {
  return state;
}

export function isExpired(session: Session, now: number = Date.now()): boolean {
  const t = Date.parse(session.expiresAt);
  return Number.isNaN(t) || t <= now;
}

/** Milliseconds until the session expires (0 when it already has). */
export function msUntilExpiry(session: Session, now: number = Date.now()): number {
  const t = Date.parse(session.expiresAt);
  return Number.isNaN(t) ? 0 : Math.max(0, t - now);
}

export function startSession(session: Session): void {
  localStorage.setItem(sessionKey, JSON.stringify(session));
  if (session.tenantCode) localStorage.setItem(LAST_TENANT_KEY, session.tenantCode);
  emit({ session, notice: null, ended: null });
}

export function endSession(reason: EndReason): void {
  localStorage.removeItem(sessionKey);
  if (state.session === null && reason !== 'LOGOUT' && state.notice) return; // already ended; keep first notice
  emit({ session: null, notice: END_NOTICES[reason], ended: reason });
}

export function clearNotice(): void {
  if (state.notice) emit({ ...state, notice: null });
}

/** The bearer token to send, or null. An expired token ends the session instead of being sent. */
export function currentToken(now: number = Date.now()): string | null {
  const s = state.session;
  if (!s) return null;
  if (isExpired(s, now)) {
    endSession('TOKEN_EXPIRED');
    return null;
  }
  return s.token;
}

export function lastTenant(): string | null {
  return localStorage.getItem(LAST_TENANT_KEY);
}

/** Keep the session under another localStorage key (the worker portal's entry calls this first). */
export function setSessionKey(key: string): void {
  sessionKey = key;
  emit({ session: readStored(), notice: null, ended: null });
}

/** For tests: re-read localStorage. */
export function reloadFromStorage(): void {
  emit({ session: readStored(), notice: null, ended: null });
}
