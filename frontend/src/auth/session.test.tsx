import { act, render, screen } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gql, ApiError } from '../api/client';
import { MeDocument, LoginTenantsDocument } from '../graphql/generated';
import { RequireAuth, useSession } from './AuthProvider';
import { END_NOTICES, SESSION_KEY, currentToken, endSession, getState, reloadFromStorage, startSession } from './session';
import { mockGraphQL } from '../test/utils';

const inOneHour = () => new Date(Date.now() + 3600_000).toISOString();

const ME = {
  data: {
    me: {
      user: { id: 'VXNlcjox', username: 'admin', displayName: '系统管理员' },
      tenant: { id: 'VGVuYW50OjQ=', code: 'shanghai', name: '上海市总工会', isPlatform: false, capabilities: [] },
      grants: [],
      permissions: ['org.read'],
    },
  },
};

beforeEach(() => {
  endSession('LOGOUT');
  reloadFromStorage(); // as after a page load: no session, nothing ended yet
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('session store', () => {
  it('keeps the session in localStorage and restores it on reload', () => {
    startSession({ token: 't1', expiresAt: inOneHour(), tenantCode: 'shanghai', username: 'admin' });
    expect(JSON.parse(localStorage.getItem(SESSION_KEY)!).token).toBe('t1');
    reloadFromStorage();
    expect(getState().session?.token).toBe('t1');
    expect(currentToken()).toBe('t1');
  });

  it('never sends an expired token: reading it ends the session with the expiry notice', () => {
    startSession({ token: 't1', expiresAt: new Date(Date.now() - 1000).toISOString(), tenantCode: 'shanghai', username: 'admin' });
    expect(currentToken()).toBeNull();
    expect(getState().session).toBeNull();
    expect(getState().notice).toBe(END_NOTICES.TOKEN_EXPIRED);
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
  });

  it('logging out leaves no notice', () => {
    startSession({ token: 't1', expiresAt: inOneHour(), tenantCode: 'shanghai', username: 'admin' });
    endSession('LOGOUT');
    expect(getState()).toMatchObject({ session: null, notice: null, ended: 'LOGOUT' });
  });
});

describe('gql client and HTTP 401', () => {
  it('sends the bearer token', async () => {
    startSession({ token: 'tok', expiresAt: inOneHour(), tenantCode: 'shanghai', username: 'admin' });
    const fetchMock = mockGraphQL(() => ({ json: ME }));
    await gql(MeDocument);
    const init = fetchMock.mock.calls[0][1] as RequestInit;
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok');
  });

  it('ends the session on 401 TOKEN_EXPIRED with the expiry notice', async () => {
    startSession({ token: 'tok', expiresAt: inOneHour(), tenantCode: 'shanghai', username: 'admin' });
    mockGraphQL(() => ({ status: 401, json: { data: null, errors: [{ message: 'token expired', extensions: { code: 'TOKEN_EXPIRED' } }] } }));
    await expect(gql(MeDocument)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED', status: 401 });
    expect(getState().session).toBeNull();
    expect(getState().notice).toBe(END_NOTICES.TOKEN_EXPIRED);
  });

  it('ends the session on 401 UNAUTHENTICATED (revoked token) with its own notice', async () => {
    startSession({ token: 'tok', expiresAt: inOneHour(), tenantCode: 'shanghai', username: 'admin' });
    mockGraphQL(() => ({ status: 401, json: { data: null, errors: [{ message: 'token revoked', extensions: { code: 'UNAUTHENTICATED' } }] } }));
    await expect(gql(MeDocument)).rejects.toBeInstanceOf(ApiError);
    expect(getState().notice).toBe(END_NOTICES.UNAUTHENTICATED);
  });

  it('a request without a token that gets 401 does not invent a notice', async () => {
    mockGraphQL(() => ({ status: 401, json: { data: null, errors: [{ message: 'log in', extensions: { code: 'UNAUTHENTICATED' } }] } }));
    await expect(gql(LoginTenantsDocument)).rejects.toBeInstanceOf(ApiError);
    expect(getState().notice).toBeNull();
  });

  it('turns other top-level errors into ApiError with their code, keeping the session', async () => {
    startSession({ token: 'tok', expiresAt: inOneHour(), tenantCode: 'shanghai', username: 'admin' });
    mockGraphQL(() => ({ json: { data: null, errors: [{ message: 'not allowed: audit.read', path: ['auditRecords'], extensions: { code: 'FORBIDDEN' } }] } }));
    await expect(gql(MeDocument)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(getState().session?.token).toBe('tok');
  });
});

function LoginProbe() {
  const { notice } = useSession();
  return <p>登录页：{notice ?? '无提示'}</p>;
}

function renderApp(initial = '/org') {
  const router = createMemoryRouter(
    [
      { path: '/login', element: <LoginProbe /> },
      { path: '/org', element: <RequireAuth><p>组织架构页面</p></RequireAuth> },
    ],
    { initialEntries: [initial] },
  );
  render(<RouterProvider router={router} />);
  return router;
}

describe('RequireAuth', () => {
  it('sends a visitor without a session to the login page, remembering where they were going', async () => {
    const router = renderApp('/org');
    expect(await screen.findByText('登录页：无提示')).toBeInTheDocument();
    expect(router.state.location.state).toEqual({ from: '/org' });
  });

  it('after 退出登录 the next login starts at the dashboard, not the last page', async () => {
    startSession({ token: 'tok', expiresAt: inOneHour(), tenantCode: 'shanghai', username: 'admin' });
    endSession('LOGOUT');
    const router = renderApp('/org');
    expect(await screen.findByText('登录页：无提示')).toBeInTheDocument();
    expect(router.state.location.state).toBeNull();
  });

  it('loads me and shows the page for a valid session', async () => {
    startSession({ token: 'tok', expiresAt: inOneHour(), tenantCode: 'shanghai', username: 'admin' });
    mockGraphQL(() => ({ json: ME }));
    renderApp('/org');
    expect(await screen.findByText('组织架构页面')).toBeInTheDocument();
  });

  it('redirects to login with the expiry notice when the token expires while the page is open', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    startSession({ token: 'tok', expiresAt: new Date(Date.now() + 5_000).toISOString(), tenantCode: 'shanghai', username: 'admin' });
    mockGraphQL(() => ({ json: ME }));
    renderApp('/org');
    expect(await screen.findByText('组织架构页面')).toBeInTheDocument();
    await act(async () => {
      vi.advanceTimersByTime(6_000);
    });
    expect(await screen.findByText(`登录页：${END_NOTICES.TOKEN_EXPIRED}`)).toBeInTheDocument();
  });

  it('redirects to login when the server answers 401 for me', async () => {
    startSession({ token: 'revoked', expiresAt: inOneHour(), tenantCode: 'shanghai', username: 'admin' });
    mockGraphQL(() => ({ status: 401, json: { data: null, errors: [{ message: 'revoked', extensions: { code: 'UNAUTHENTICATED' } }] } }));
    renderApp('/org');
    expect(await screen.findByText(`登录页：${END_NOTICES.UNAUTHENTICATED}`)).toBeInTheDocument();
  });
});
