/**
 * Auth state, once for the whole app: the session (token) from session.ts, the `me` query
 * (user, tenant, grants, permissions), a timer that ends the session when the token expires, and
 * `RequireAuth`, which sends anyone without a session to /login (with the reason as a notice).
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { gql } from '../api/client';
import { LogoutDocument, MeDocument, type MeQuery } from '../graphql/generated';
import { ErrorState, LoadingState } from '../components/states';
import { endSession, getState, msUntilExpiry, subscribe, type SessionState } from './session';

export type Me = MeQuery['me'];

export interface AuthValue {
  me: Me;
  permissions: ReadonlySet<string>;
  /** Codes of the capabilities (业务模块) this province enables. */
  capabilities: ReadonlySet<string>;
  can: (permission: string) => boolean;
  reload: () => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

export function useSession(): SessionState {
  return useSyncExternalStore(subscribe, getState, getState);
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside <RequireAuth>');
  return value;
}

/** For components that may render outside a session (e.g. tests of a page with a fake auth). */
export const AuthContextProvider = AuthContext.Provider;

// setTimeout takes a 32-bit delay; re-arm for longer sessions.
const MAX_TIMER = 2 ** 31 - 1;

export function RequireAuth({ children }: { children: ReactNode }) {
  const { session, ended } = useSession();
  const location = useLocation();
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);

  const load = useCallback(async () => {
    setError(null);
    try {
      const data = await gql(MeDocument);
      setMe(data.me);
    } catch (e) {
      setError(e);
    }
  }, []);

  useEffect(() => {
    setMe(null);
    if (session) void load();
  }, [session, load]);

  // End the session the moment the token expires, even if the user is idle.
  useEffect(() => {
    if (!session) return;
    const ms = msUntilExpiry(session);
    const t = setTimeout(() => {
      if (msUntilExpiry(session) <= 0) endSession('TOKEN_EXPIRED');
      else setTick((n) => n + 1);
    }, Math.min(ms, MAX_TIMER));
    return () => clearTimeout(t);
  }, [session, tick]);

  const value = useMemo<AuthValue | null>(() => {
    if (!me) return null;
    const permissions = new Set(me.permissions);
    return {
      me,
      permissions,
      capabilities: new Set(me.tenant.capabilities.map((c) => c.code)),
      can: (p: string) => permissions.has(p),
      reload: load,
      logout: async () => {
        try {
          await gql(LogoutDocument);
        } catch {
          // the token is dropped locally whatever the server says
        }
        endSession('LOGOUT');
      },
    };
  }, [me, load]);

  if (!session) {
    // After an expiry, come back to this page; after "退出登录" the next user starts at the dashboard.
    return <Navigate to="/login" replace state={ended === 'LOGOUT' ? null : { from: location.pathname + location.search }} />;
  }
  if (error && !me) return <ErrorState error={error} onRetry={() => void load()} title="无法获取登录信息" />;
  if (!value) return <LoadingState tip="正在载入…" minHeight={320} />;
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
