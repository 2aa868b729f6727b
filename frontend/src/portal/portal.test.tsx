import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Providers } from '../router';
import { mockGraphQL } from '../test/utils';
import { PORTAL_SESSION_KEY, SESSION_KEY, getState, setSessionKey, startSession } from '../auth/session';
import { clearPortalEntries, registerPortalEntry, visibleEntries } from './registry';
import { WorkerContextProvider, type Worker } from './worker';
import Register from './pages/Register';
import MemberCardPage from './pages/MemberCard';
import Home from './pages/Home';
import Join from './pages/Join';

// antd's first render in a fresh worker is slow; typing a whole form takes seconds.
vi.setConfig({ testTimeout: 30_000 });

const WORKER: Worker = {
  id: 'V29ya2VyQWNjb3VudDox',
  name: '王小明',
  idNumberMasked: '310101********1234',
  phoneMasked: '139****0001',
  status: 'NOT_MEMBER',
  memberId: null,
  joinDeadlineWorkingDays: 3,
  capabilities: ['hardship'],
  provinceName: '上海市总工会',
};

function renderAt(path: string, element: React.ReactNode, worker: Worker | null = WORKER) {
  const router = createMemoryRouter(
    [
      { path, element },
      { path: '/', element: <div>首页已打开</div> },
      { path: '/bind', element: <div>绑定页已打开</div> },
    ],
    { initialEntries: [path] },
  );
  const tree = <RouterProvider router={router} />;
  render(
    <Providers>
      {worker ? <WorkerContextProvider value={{ worker, reload: async () => {} }}>{tree}</WorkerContextProvider> : tree}
    </Providers>,
  );
  return router;
}

/** Fill the whole registration form (change events: typing each key is slow on a busy machine). */
function fillRegistration() {
  const values: Record<string, string> = {
    姓名: '王小明', 身份证号码: '310101198506120011', 手机号码: '13900000001', 设置密码: 'worker-pass-123', 确认密码: 'worker-pass-123',
  };
  for (const [label, value] of Object.entries(values)) fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  clearPortalEntries();
  setSessionKey(SESSION_KEY);
});

describe('职工之家 capability slots', () => {
  it('shows an entry only where the province enables its capability, member-only ones to members', () => {
    const Page = () => null;
    registerPortalEntry({ capability: 'hardship', path: 'hardship/self-test', title: '困难自测', page: Page });
    registerPortalEntry({ capability: 'hardship', path: 'hardship/cases', title: '我的帮扶', memberOnly: true, page: Page });
    registerPortalEntry({ capability: 'mutual_aid', path: 'mutual-aid', title: '互助保障', page: Page });
    expect(visibleEntries(['hardship'], false).map((e) => e.title)).toEqual(['困难自测']);
    expect(visibleEntries(['hardship', 'mutual_aid'], true).map((e) => e.title)).toEqual(['困难自测', '我的帮扶', '互助保障']);
    expect(() => registerPortalEntry({ capability: 'x', path: 'mutual-aid', title: '重复', page: Page })).toThrow();
  });

  it('home shows the empty state when nothing is enabled, and the next step for the status', async () => {
    renderAt('/home', <Home />, { ...WORKER, capabilities: [] });
    expect(await screen.findByText('本省（市）暂未开通在线服务，敬请期待')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: '申请入会' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /12351/ })).toHaveAttribute('href', 'tel:12351');
  });
});

describe('注册', () => {
  it('puts the server’s Chinese error beside the ID number field', async () => {
    mockGraphQL(({ query }) => {
      if (query.includes('loginTenants')) return { json: { data: { loginTenants: [{ code: 'shanghai', name: '上海市总工会' }] } } };
      return {
        json: {
          data: {
            workerRegister: {
              token: null, expiresAt: null, worker: null,
              errors: [{ field: 'idNumber', code: 'INVALID_INPUT', message: 'ID number is not valid', messageZh: '身份证号码校验位错误', extensions: null }],
            },
          },
        },
      };
    });
    localStorage.setItem('huijia.lastTenant', 'shanghai');
    renderAt('/register', <Register />, null);
    const user = userEvent.setup();
    await screen.findByText('上海市总工会');
    fillRegistration();
    await user.click(screen.getByRole('button', { name: '注 册' }));
    expect(await screen.findByText('身份证号码校验位错误')).toBeInTheDocument();
    expect(getState().session).toBeNull();
  }, 30_000);

  it('keeps the portal session apart from the staff UI’s and goes to binding when proof is needed', async () => {
    setSessionKey(PORTAL_SESSION_KEY);
    mockGraphQL(({ query }) => {
      if (query.includes('loginTenants')) return { json: { data: { loginTenants: [{ code: 'shanghai', name: '上海市总工会' }] } } };
      return {
        json: {
          data: {
            workerRegister: {
              token: 'hj1.4.secret', expiresAt: '2099-01-01T00:00:00Z', worker: { ...WORKER, status: 'PROOF_NEEDED' }, errors: [],
            },
          },
        },
      };
    });
    localStorage.setItem('huijia.lastTenant', 'shanghai');
    const router = renderAt('/register', <Register />, null);
    const user = userEvent.setup();
    await screen.findByText('上海市总工会');
    fillRegistration();
    await user.click(screen.getByRole('button', { name: '注 册' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/bind'));
    expect(JSON.parse(localStorage.getItem(PORTAL_SESSION_KEY)!).token).toBe('hj1.4.secret');
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
  }, 30_000);
});

describe('短信验证码', () => {
  it('asks for the texted code where the province verifies phones, and sends it with the registration', async () => {
    const calls: { query: string; variables: Record<string, unknown> }[] = [];
    mockGraphQL((body) => {
      calls.push(body);
      if (body.query.includes('loginTenants')) return { json: { data: { loginTenants: [{ code: 'shanghai', name: '上海市总工会' }] } } };
      if (body.query.includes('portalRegistration')) return { json: { data: { portalRegistration: { phoneCodeRequired: true, joinDeadlineWorkingDays: 3 } } } };
      if (body.query.includes('workerPhoneCodeSend')) return { json: { data: { workerPhoneCodeSend: { expiresAt: '2099-01-01T00:10:00Z', resendAfterSeconds: 60, errors: [] } } } };
      return {
        json: {
          data: {
            workerRegister: {
              token: null, expiresAt: null, worker: null,
              errors: [{ field: 'phoneCode', code: 'PROOF_MISMATCH', message: 'the code is wrong, used or expired', messageZh: '短信验证码错误或已失效，请重新获取', extensions: null }],
            },
          },
        },
      };
    });
    localStorage.setItem('huijia.lastTenant', 'shanghai');
    renderAt('/register', <Register />, null);
    const user = userEvent.setup();
    await screen.findByText('上海市总工会');
    const codeBox = await screen.findByLabelText('短信验证码');
    fillRegistration();
    await user.click(screen.getByRole('button', { name: '获取验证码' }));
    expect(await screen.findByRole('button', { name: /秒后重发/ })).toBeDisabled();
    const sent = calls.find((c) => c.query.includes('workerPhoneCodeSend'))!;
    expect(sent.variables).toEqual({ tenantCode: 'shanghai', phone: '13900000001' });
    fireEvent.change(codeBox, { target: { value: '123456' } });
    await user.click(screen.getByRole('button', { name: '注 册' }));
    expect(await screen.findByText('短信验证码错误或已失效，请重新获取')).toBeInTheDocument();
    const registered = calls.find((c) => c.query.includes('workerRegister'))!;
    expect((registered.variables.input as Record<string, unknown>).phoneCode).toBe('123456');
    expect(getState().session).toBeNull();
  }, 30_000);

  it('shows no code field where the province does not verify phones by SMS', async () => {
    mockGraphQL(({ query }) => {
      if (query.includes('loginTenants')) return { json: { data: { loginTenants: [{ code: 'shanghai', name: '上海市总工会' }] } } };
      return { json: { data: { portalRegistration: { phoneCodeRequired: false, joinDeadlineWorkingDays: 3 } } } };
    });
    localStorage.setItem('huijia.lastTenant', 'shanghai');
    renderAt('/register', <Register />, null);
    await screen.findByText('上海市总工会');
    await screen.findByLabelText('手机号码');
    expect(screen.queryByLabelText('短信验证码')).toBeNull();
  }, 30_000);
});

describe('电子会员卡', () => {
  it('shows the card with a QR code of the signed token', async () => {
    startSession({ token: 't', expiresAt: '2099-01-01T00:00:00Z', tenantCode: 'shanghai', username: '王小明' });
    mockGraphQL(() => ({
      json: {
        data: {
          myWorker: {
            id: WORKER.id, status: 'MEMBER',
            card: { memberNumber: '310000000042', name: '王小明', unionName: '南京东路街道联合工会', joinedOn: '2026-12-03', state: 'joined', qrToken: 'HJC1.4.42.9999999999.abcd.sig', qrExpiresAt: '2099-01-01T00:05:00Z' },
          },
        },
      },
    }));
    renderAt('/card', <MemberCardPage />);
    expect(await screen.findByTestId('member-number')).toHaveTextContent('310000000042');
    expect(screen.getByText(/南京东路街道联合工会/)).toBeInTheDocument();
    expect(screen.getByLabelText('会员卡二维码').tagName.toLowerCase()).toBe('svg');
  });

  it('says what to do when there is no card yet, and shows an error with a retry', async () => {
    mockGraphQL(() => ({ json: { data: { myWorker: { id: WORKER.id, status: 'PROOF_NEEDED', card: null } } } }));
    renderAt('/card', <MemberCardPage />);
    expect(await screen.findByText('暂无电子会员卡')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: '去绑定' })).toBeInTheDocument();
  });

  it('shows an error state when the card cannot load', async () => {
    mockGraphQL(() => ({ json: { data: null, errors: [{ message: 'boom', extensions: { code: 'INTERNAL' } }] } }));
    renderAt('/card', <MemberCardPage />);
    expect(await screen.findByRole('button', { name: /重\s*试/ })).toBeInTheDocument();
  });
});

describe('申请入会', () => {
  it('searches unions and shows an empty state when none match', async () => {
    mockGraphQL(({ query }) => {
      if (query.includes('portalUnits')) return { json: { data: { portalUnits: { totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } } };
      return { json: { data: { myWorker: { id: WORKER.id, status: 'NOT_MEMBER', joinDeadlineWorkingDays: 3, joinApplications: [] } } } };
    });
    renderAt('/join', <Join />);
    expect(await screen.findByText('没有找到相符的工会，请换个名称试试')).toBeInTheDocument();
    expect(screen.getByText(/3 个工作日内答复/)).toBeInTheDocument();
  });
});
