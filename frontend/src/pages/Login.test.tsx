import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Login from './Login';
import { Providers } from '../router';
import { endSession, getState, reloadFromStorage } from '../auth/session';
import { mockGraphQL } from '../test/utils';

const TENANTS = { data: { loginTenants: [{ code: 'platform', name: '会家平台运营' }, { code: 'shanghai', name: '上海市总工会' }] } };

function renderLogin() {
  const router = createMemoryRouter(
    [
      { path: '/login', element: <Login /> },
      { path: '/', element: <p>工作台页面</p> },
    ],
    { initialEntries: ['/login'] },
  );
  render(
    <Providers>
      <RouterProvider router={router} />
    </Providers>,
  );
  return router;
}

beforeEach(() => {
  endSession('LOGOUT');
  reloadFromStorage();
});
afterEach(() => vi.unstubAllGlobals());

async function fillAndSubmit(password: string) {
  const user = userEvent.setup();
  // the first non-platform province is preselected
  await waitFor(() => expect(screen.getByTitle('上海市总工会')).toBeInTheDocument());
  await user.type(screen.getByLabelText('用户名'), 'admin');
  await user.type(screen.getByLabelText('密码'), password);
  await user.click(screen.getByRole('button', { name: /登\s*录/ }));
}

describe('Login', () => {
  it('labels every field and shows wrong credentials beside the password, in Chinese', async () => {
    mockGraphQL(({ query }) =>
      query.includes('loginTenants')
        ? { json: TENANTS }
        : { json: { data: { login: { token: null, expiresAt: null, user: null, errors: [{ field: null, code: 'INVALID_CREDENTIALS', message: 'unknown tenant, username or wrong password' }] } } } },
    );
    renderLogin();
    expect(screen.getByLabelText('所属省份')).toBeInTheDocument();
    await fillAndSubmit('wrong');
    const help = await screen.findByText('用户名或密码错误');
    expect(help.closest('.ant-form-item')).toHaveTextContent('密码');
    expect(getState().session).toBeNull();
  });

  it('shows throttling as a form-level alert', async () => {
    mockGraphQL(({ query }) =>
      query.includes('loginTenants')
        ? { json: TENANTS }
        : { json: { data: { login: { token: null, expiresAt: null, user: null, errors: [{ field: null, code: 'TOO_MANY_ATTEMPTS', message: 'too many' }] } } } },
    );
    renderLogin();
    await fillAndSubmit('wrong');
    const alert = await screen.findByRole('alert');
    expect(within(alert).getByText(/尝试次数过多/)).toBeInTheDocument();
  });

  it('says how long a lock-out lasts when the server gives retryAfter in a top-level error', async () => {
    mockGraphQL(({ query }) =>
      query.includes('loginTenants')
        ? { json: TENANTS }
        : { json: { data: null, errors: [{ message: 'too many failed logins', extensions: { code: 'TOO_MANY_ATTEMPTS', retryAfter: 754 } }] } },
    );
    renderLogin();
    await fillAndSubmit('wrong');
    const alert = await screen.findByRole('alert');
    expect(within(alert).getByText(/尝试次数过多/)).toBeInTheDocument();
    expect(within(alert).getByText(/请在 12 分 3\d 秒后再试/)).toBeInTheDocument();
    // No point trying before then: the button says when.
    expect(screen.getByRole('button', { name: /后可重试/ })).toBeDisabled();
  });

  it('reads retryAfter on the payload error too, and counts down in seconds', async () => {
    mockGraphQL(({ query }) =>
      query.includes('loginTenants')
        ? { json: TENANTS }
        : { json: { data: { login: { token: null, expiresAt: null, user: null, errors: [{ field: null, code: 'TOO_MANY_ATTEMPTS', message: 'too many', retryAfter: 45 }] } } } },
    );
    renderLogin();
    await fillAndSubmit('wrong');
    const alert = await screen.findByRole('alert');
    expect(within(alert).getByText(/请在 4\d 秒后再试/)).toBeInTheDocument();
  });

  it('starts the session and goes to the dashboard', async () => {
    const fetchMock = mockGraphQL(({ query }) =>
      query.includes('loginTenants')
        ? { json: TENANTS }
        : { json: { data: { login: { token: 'tok', expiresAt: new Date(Date.now() + 3600_000).toISOString(), user: { id: 'VXNlcjox', username: 'admin', displayName: '管理员' }, errors: [] } } } },
    );
    const router = renderLogin();
    await fillAndSubmit('huijia-demo');
    await screen.findByText('工作台页面');
    expect(getState().session).toMatchObject({ token: 'tok', tenantCode: 'shanghai', username: 'admin' });
    expect(router.state.location.pathname).toBe('/');
    const loginCall = fetchMock.mock.calls.find((c) => String((c[1] as RequestInit).body).includes('mutation Login'))!;
    expect(JSON.parse(String((loginCall[1] as RequestInit).body)).variables).toEqual({ tenantCode: 'shanghai', username: 'admin', password: 'huijia-demo' });
  });
});
