import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Providers } from '../../router';
import { PORTAL_SESSION_KEY, SESSION_KEY, setSessionKey, startSession } from '../../auth/session';
import { mockGraphQL } from '../../test/utils';
import { WorkerContextProvider, type Worker } from '../../portal/worker';
import Finder from './portal/Finder';
import SubmitRequest from './portal/SubmitRequest';
import MyRequests from './portal/MyRequests';
import Rate, { pkOf } from './portal/Rate';
import CheckIn from './portal/CheckIn';

vi.setConfig({ testTimeout: 30_000 });

const WORKER: Worker = {
  id: 'V29ya2VyQWNjb3VudDox', name: '孙师傅', idNumberMasked: '350102********1234', phoneMasked: '137****0001', status: 'MEMBER',
  memberId: 'TWVtYmVyOjE=', joinDeadlineWorkingDays: 3, capabilities: ['service_network'], provinceName: '福建省总工会',
};

function renderAt(path: string, pattern: string, element: ReactNode) {
  const router = createMemoryRouter(
    [{ path: pattern, element }, { path: '/service-requests', element: <div>我的诉求页已打开</div> }, { path: '/', element: <div>首页已打开</div> }],
    { initialEntries: [path] },
  );
  render(
    <Providers>
      <WorkerContextProvider value={{ worker: WORKER, reload: async () => {} }}>
        <RouterProvider router={router} />
      </WorkerContextProvider>
    </Providers>,
  );
  return router;
}

function req(over: Record<string, unknown> = {}) {
  return {
    id: 'U2VydmljZVJlcXVlc3Q6NQ==', orgUnitId: 'x', category: 'wage_arrears', categoryLabelZh: '欠薪', channel: 'portal', state: 'submitted',
    stateLabelZh: '已提交', version: 1, summary: '快递站拖欠两个月工资', requesterName: '孙师傅', phoneMasked: null, socialOrg: null,
    firstResponseDue: '2026-12-04T02:00:00Z', resolutionDue: '2026-12-14T02:00:00Z', firstRespondedAt: null, resolvedAt: null,
    createdAt: '2026-12-03T02:00:00Z', responseSla: 'due_soon', resolutionSla: 'ok', allowedTransitions: [], ...over,
  };
}

beforeEach(() => {
  setSessionKey(PORTAL_SESSION_KEY);
  startSession({ token: 't', expiresAt: '2099-01-01T00:00:00Z', tenantCode: 'fujian', username: '孙师傅' });
});

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  setSessionKey(SESSION_KEY);
});

describe('附近驿站 (portal)', () => {
  it('asks the public finder of the worker’s province and lists stations by distance with the plot', async () => {
    const urls: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify({
        radiusM: 2000,
        stations: [
          { number: 'FZ-1', name: '五四路驿站', address: '五四路1号', lat: 26.081, lon: 119.301, gcj02: [0, 0], distanceM: 180, stars: 3, facilities: ['aed', 'water'], homeName: '五四路职工之家' },
          { number: 'FZ-2', name: '台江驿站', address: '台江路2号', lat: 26.06, lon: 119.31, gcj02: [0, 0], distanceM: 2400, stars: 2, facilities: [], homeName: null },
        ],
      }), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }));
    renderAt('/stations', '/stations', <Finder />);
    fireEvent.change(screen.getByLabelText('纬度'), { target: { value: '26.08' } });
    fireEvent.change(screen.getByLabelText('经度'), { target: { value: '119.3' } });
    await userEvent.click(screen.getByLabelText('只看正在开放'));
    await userEvent.click(screen.getByRole('button', { name: '查找附近驿站' }));
    const items = await screen.findAllByTestId('finder-station');
    expect(urls[0]).toBe('/public/service-network/fujian/stations/nearby?lat=26.08&lon=119.3&n=20&openNow=1');
    expect(items.map((i) => i.textContent)).toEqual([expect.stringContaining('五四路驿站 180 米'), expect.stringContaining('台江驿站 2.4 公里')]);
    expect(within(items[0]).getByText('设施：AED、饮水机')).toBeInTheDocument();
    const plot = screen.getByTestId('station-map');
    expect(within(plot).getAllByRole('listitem').map((i) => i.getAttribute('aria-label'))).toEqual(['五四路驿站，180 米', '台江驿站，2.4 公里']);
    expect(within(plot).getByLabelText('查询位置')).toBeInTheDocument();
    expect(within(items[0]).getByRole('link', { name: '签到' })).toHaveAttribute('href', '/stations/check-in?number=FZ-1');
  });

  it('shows a throttled finder in Chinese', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ error: { code: 'TOO_MANY_ATTEMPTS', message: 'x', messageZh: '请求过于频繁，请稍后再试' } }), { status: 429 })));
    renderAt('/stations', '/stations', <Finder />);
    fireEvent.change(screen.getByLabelText('纬度'), { target: { value: '26.08' } });
    fireEvent.change(screen.getByLabelText('经度'), { target: { value: '119.3' } });
    await userEvent.click(screen.getByRole('button', { name: '查找附近驿站' }));
    expect(await screen.findByText('查询过于频繁，请稍后再试')).toBeInTheDocument();
  });
});

describe('我要求助 and 我的诉求 (portal)', () => {
  it('submits a need and lands on my requests', async () => {
    const sent: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('workerServiceRequestSubmit')) {
        sent.push(variables);
        return { json: { data: { workerServiceRequestSubmit: { request: req(), errors: [] } } } };
      }
      return { json: { data: { serviceRequestCategories: [{ code: 'wage_arrears', labelZh: '欠薪', firstResponseHours: 24, resolutionHours: 240 }] } } };
    });
    const router = renderAt('/service-requests/new', '/service-requests/new', <SubmitRequest />);
    await userEvent.click(screen.getByRole('button', { name: /提\s?交/ }));
    expect(await screen.findByText('请选择求助类别')).toBeInTheDocument();
    expect(sent).toHaveLength(0);
    await userEvent.click(screen.getByLabelText('求助类别'));
    await userEvent.click(await screen.findByText('欠薪（24小时内回应）'));
    fireEvent.change(screen.getByLabelText('具体情况'), { target: { value: '快递站拖欠两个月工资' } });
    await userEvent.click(screen.getByRole('button', { name: /提\s?交/ }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/service-requests'));
    expect(sent).toEqual([{ category: 'wage_arrears', summary: '快递站拖欠两个月工资' }]);
  });

  it('shows status and clock, and offers a rating once resolved', async () => {
    mockGraphQL(() => ({ json: { data: { myServiceRequests: [req(), req({ id: 'U2VydmljZVJlcXVlc3Q6Ng==', state: 'resolved', stateLabelZh: '已办结', summary: '劳动合同纠纷' })] } } }));
    renderAt('/service-requests', '/service-requests', <MyRequests />);
    const cards = await screen.findAllByTestId('my-request');
    expect(within(cards[0]).getByText('已提交')).toBeInTheDocument();
    expect(within(cards[0]).getByText('首次响应：即将超时')).toBeInTheDocument();
    expect(within(cards[0]).queryByText('评价本次服务')).toBeNull();
    expect(within(cards[1]).getByRole('link')).toHaveAttribute('href', '/ratings/new?type=service_request&id=U2VydmljZVJlcXVlc3Q6Ng%3D%3D');
  });
});

describe('驿站签到 and 服务评价 (portal)', () => {
  it('checks in with the station number from the QR link and refuses an unknown one beside the field', async () => {
    let visits: unknown[] = [];
    const sent: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('workerStationCheckIn')) {
        sent.push(variables);
        if (variables.number === 'NOPE') return { json: { data: { workerStationCheckIn: { visit: null, errors: [{ field: 'number', code: 'NOT_FOUND', message: 'station not found', messageZh: '未找到该驿站' }] } } } };
        visits = [{ stationId: 'U3RhdGlvbjox', stationNumber: 'FZ-1', stationName: '五四路驿站', occupation: '快递员', visitedAt: '2026-12-03T02:00:00Z', myStars: null }];
        return { json: { data: { workerStationCheckIn: { visit: { ...(visits[0] as object) }, errors: [] } } } };
      }
      return { json: { data: { myStationVisits: visits } } };
    });
    renderAt('/stations/check-in?number=NOPE', '/stations/check-in', <CheckIn />);
    expect(await screen.findByText('暂无到访记录')).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText('我的职业'), { target: { value: '快递员' } });
    await userEvent.click(screen.getByRole('button', { name: /签\s?到/ }));
    expect(await screen.findByText('未找到该驿站编号，请核对驿站门口的编号')).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText('驿站编号'), { target: { value: 'FZ-1' } });
    await userEvent.click(screen.getByRole('button', { name: /签\s?到/ }));
    const visit = await screen.findByTestId('my-visit');
    expect(within(visit).getByText('五四路驿站')).toBeInTheDocument();
    expect(within(visit).getByRole('link', { name: '评价' })).toHaveAttribute('href', '/ratings/new?type=station&id=U3RhdGlvbjox');
    expect(sent).toEqual([{ number: 'NOPE', occupation: '快递员' }, { number: 'FZ-1', occupation: '快递员' }]);
  });

  it('rates a visited station with its dimensions, sending the database id', async () => {
    expect(pkOf('U3RhdGlvbjox')).toBe(1);
    const sent: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('workerRatingSubmit')) {
        sent.push(variables);
        return { json: { data: { workerRatingSubmit: { rating: { id: 'R', stars: 4, version: 1 }, errors: [] } } } };
      }
      if (query.includes('myStationVisits')) return { json: { data: { myStationVisits: [{ stationId: 'U3RhdGlvbjox', stationNumber: 'FZ-1', stationName: '五四路驿站', occupation: '快递员', visitedAt: '2026-12-03T02:00:00Z', myStars: null }] } } };
      return { json: { data: { myServiceRequests: [] } } };
    });
    const router = renderAt('/ratings/new?type=station&id=U3RhdGlvbjox', '/ratings/new', <Rate />);
    expect(await screen.findByText('驿站：五四路驿站')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: /提交评价/ }));
    expect(await screen.findByText('请打分（1至5星）')).toBeInTheDocument();
    // the star rows, in order: overall, then 选址 卫生 物资 便利 功能
    const rows = Array.from(document.querySelectorAll<HTMLElement>('ul.ant-rate'));
    expect(rows).toHaveLength(6);
    await userEvent.click(within(rows[0]).getAllByRole('radio')[3]);
    await userEvent.click(within(rows[2]).getAllByRole('radio')[1]);
    fireEvent.change(screen.getByLabelText('意见建议'), { target: { value: '热水不够' } });
    await userEvent.click(screen.getByRole('button', { name: /提交评价/ }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/'));
    expect(sent).toEqual([{ subjectType: 'station', subjectId: 1, stars: 4, dimensions: [{ key: 'hygiene', stars: 2 }], comment: '热水不够' }]);
  });
});
