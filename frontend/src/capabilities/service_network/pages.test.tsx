import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Providers } from '../../router';
import { WithAuth, fakeAuth, mockGraphQL } from '../../test/utils';
import Stations from './Stations';
import Requests from './Requests';
import RequestDetail from './RequestDetail';
import Ratings from './Ratings';
import Items from './Items';

vi.setConfig({ testTimeout: 30_000 });

const READ = ['service_network.read', 'org.read'];
const CLERK = [...READ, 'service_network.write', 'service_network.request', 'service_network.handle', 'service_network.follow_up'];
const UNITS = { orgUnits: { totalCount: 1, nodes: [{ id: 'T3JnVW5pdDox', name: '福州市总工会', code: 'fz', level: 'CITY', path: '1', active: true, childCount: 0, parent: null }], pageInfo: { hasNextPage: false, endCursor: null } } };
const NO_ERRORS: unknown[] = [];

function station(over: Record<string, unknown> = {}) {
  return {
    id: 'U3RhdGlvbjox', orgUnitId: 'T3JnVW5pdDox', number: 'FZ-001', name: '五四路驿站', lat: 26.08, lon: 119.3, address: '五四路1号',
    facilities: ['room', 'water'], areaM2: 25, capacity: 12, stars: 2, unionUnitId: null, homeName: null, gcj02: [26.077, 119.305],
    hours: [{ start: '08:00', end: '22:00', kind: 'staffed', overnight: false }, { start: '22:00', end: '08:00', kind: 'qr', overnight: true }],
    ...over,
  };
}

function request(over: Record<string, unknown> = {}) {
  return {
    id: 'U2VydmljZVJlcXVlc3Q6MQ==', orgUnitId: 'T3JnVW5pdDox', category: 'wage_arrears', categoryLabelZh: '欠薪', channel: 'hotline', state: 'submitted',
    stateLabelZh: '已提交', version: 1, summary: '工地拖欠三个月工资', requesterName: '钱七', phoneMasked: '133****1111', socialOrg: null,
    firstResponseDue: '2026-12-04T02:00:00Z', resolutionDue: '2026-12-14T02:00:00Z', firstRespondedAt: null, resolvedAt: null,
    createdAt: '2026-12-03T02:00:00Z', responseSla: 'ok', resolutionSla: 'ok', allowedTransitions: ['accept', 'refer', 'reject'], ...over,
  };
}

function renderAt(path: string, pattern: string, element: ReactNode, permissions: string[]) {
  const router = createMemoryRouter([{ path: pattern, element }, { path: '*', element: <div>其他页面</div> }], { initialEntries: [path] });
  render(
    <Providers>
      <WithAuth value={fakeAuth(permissions)}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('驿站管理', () => {
  it('lists stations with stars and what the rule was given, and plots them', async () => {
    mockGraphQL(({ query }) => ({
      json: { data: query.includes('orgUnits') ? UNITS : { stations: [station(), station({ id: 'U3RhdGlvbjoy', number: 'FZ-002', name: '台江驿站', lat: 26.05, stars: 3 })], stationFacilities: [{ key: 'room', labelZh: '一间休息室' }, { key: 'water', labelZh: '一台饮水机' }, { key: 'aed', labelZh: 'AED' }] } },
    }));
    renderAt('/s', '/s', <Stations />, READ);
    const row = (await screen.findByText('五四路驿站', { selector: 'a' })).closest('tr') as HTMLElement;
    expect(within(row).getByRole('img', { name: '星级2星' })).toBeInTheDocument();
    expect(within(row).getByText(/面积 25 ㎡，可容纳 12 人，设施 2\/3 项/)).toBeInTheDocument();
    const map = screen.getByTestId('station-map');
    expect(within(map).getAllByRole('listitem').map((i) => i.getAttribute('aria-label'))).toEqual(['五四路驿站，2星', '台江驿站，3星']);
    expect(screen.queryByRole('button', { name: '新建驿站' })).toBeNull(); // read-only role
  });

  it('sends GCJ-02 coordinates with the datum and puts a server error beside its field', async () => {
    const calls: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('stationCreate') || query.includes('stationUpdate')) {
        calls.push(variables);
        return { json: { data: { [query.includes('stationUpdate') ? 'stationUpdate' : 'stationCreate']: { station: null, errors: [{ field: 'lat', code: 'INVALID_INPUT', message: 'outside China', messageZh: '坐标不在中国境内' }] } } } };
      }
      return { json: { data: { stations: [station()], stationFacilities: [{ key: 'room', labelZh: '一间休息室' }, { key: 'water', labelZh: '一台饮水机' }] } } };
    });
    renderAt('/s', '/s', <Stations />, CLERK);
    await userEvent.click(await screen.findByRole('button', { name: '新建驿站' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('驿站编号'), { target: { value: 'FZ-009' } });
    fireEvent.change(within(dialog).getByLabelText('驿站名称'), { target: { value: '海沧驿站' } });
    fireEvent.change(within(dialog).getByLabelText('纬度'), { target: { value: '35.68' } });
    fireEvent.change(within(dialog).getByLabelText('经度'), { target: { value: '139.69' } });
    await userEvent.click(within(dialog).getByLabelText('GCJ-02（高德/腾讯）'));
    await userEvent.click(within(dialog).getByLabelText('一间休息室'));
    // the unit picker is required: without it nothing is sent
    await userEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    expect(await within(dialog).findByText('请选择所属组织')).toBeInTheDocument();
    expect(calls).toHaveLength(0);
    await userEvent.click(within(dialog).getByRole('button', { name: /取\s?消/ }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    // editing keeps the unit and the hours; the coordinates go with their datum
    await userEvent.click(screen.getByRole('button', { name: /编\s?辑/ }));
    const edit = await screen.findByRole('dialog');
    fireEvent.change(within(edit).getByLabelText('纬度'), { target: { value: '35.68' } });
    await userEvent.click(within(edit).getByLabelText('GCJ-02（高德/腾讯）'));
    await userEvent.click(within(edit).getByRole('button', { name: /保\s?存/ }));
    expect(await within(edit).findByText('坐标不在中国境内')).toBeInTheDocument();
    const sent = (calls[0] as { input: Record<string, unknown> }).input;
    expect(sent).toMatchObject({ orgUnitId: 'T3JnVW5pdDox', number: 'FZ-001', datum: 'gcj02', lat: 35.68, lon: 119.3, facilities: ['room', 'water'] });
    expect(sent.hours).toEqual([{ start: '08:00', end: '22:00', kind: 'staffed', overnight: false }, { start: '22:00', end: '08:00', kind: 'qr', overnight: true }]);
  });
});

describe('服务诉求', () => {
  it('colours each request by the clock that runs now', async () => {
    mockGraphQL(({ query }) => ({
      json: {
        data: query.includes('orgUnits') ? UNITS : query.includes('serviceRequestCategories') ? { serviceRequestCategories: [{ code: 'wage_arrears', labelZh: '欠薪', firstResponseHours: 24, resolutionHours: 240 }] } : {
          serviceRequests: [
            request({ id: 'a', requesterName: '甲', responseSla: 'overdue' }),
            request({ id: 'b', requesterName: '乙', responseSla: 'due_soon' }),
            request({ id: 'c', requesterName: '丙', responseSla: 'met', firstRespondedAt: '2026-12-03T03:00:00Z', resolutionSla: 'ok', stateLabelZh: '已受理' }),
          ],
        },
      },
    }));
    renderAt('/q', '/q', <Requests />, CLERK);
    const rowOf = async (name: string) => (await screen.findByText(name)).closest('tr') as HTMLElement;
    expect(within(await rowOf('甲')).getByText('首次响应：已超时')).toHaveClass('ant-tag-red');
    expect(within(await rowOf('乙')).getByText('首次响应：即将超时')).toHaveClass('ant-tag-orange');
    expect(within(await rowOf('丙')).getByText('办结：按时')).toHaveClass('ant-tag-green');
  });

  it('lets a hotline clerk register a need for a caller, routed from the caller’s union', async () => {
    const sent: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('serviceRequestCategories')) return { json: { data: { serviceRequestCategories: [{ code: 'wage_arrears', labelZh: '欠薪', firstResponseHours: 24, resolutionHours: 240 }] } } };
      if (query.includes('serviceRequestSubmit')) {
        sent.push(variables);
        return { json: { data: { serviceRequestSubmit: { request: request(), errors: NO_ERRORS } } } };
      }
      return { json: { data: { serviceRequests: sent.length ? [request()] : [] } } };
    });
    renderAt('/q', '/q', <Requests />, CLERK);
    expect(await screen.findByText('暂无服务诉求')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: '登记诉求（热线）' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('诉求人所在工会'), '福州');
    await userEvent.click(await screen.findByText('福州市总工会', { selector: '.ant-select-item-option-content *, .ant-select-item-option-content' }));
    await userEvent.click(within(dialog).getByLabelText('诉求类别'));
    await userEvent.click(await screen.findByText('欠薪（24小时内响应）'));
    fireEvent.change(within(dialog).getByLabelText('诉求人姓名'), { target: { value: '钱七' } });
    fireEvent.change(within(dialog).getByLabelText('联系电话'), { target: { value: '13300001111' } });
    fireEvent.change(within(dialog).getByLabelText('诉求内容'), { target: { value: '工地拖欠三个月工资' } });
    await userEvent.click(within(dialog).getByRole('button', { name: /提\s?交/ }));
    await waitFor(() => expect(sent).toEqual([{ input: { orgUnitId: 'T3JnVW5pdDox', category: 'wage_arrears', channel: 'hotline', summary: '工地拖欠三个月工资', requesterName: '钱七', phone: '13300001111' } }]));
    expect(await screen.findByText('钱七')).toBeInTheDocument();
  });

  it('offers the steps the role allows and wants a reason before rejecting', async () => {
    const steps: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('serviceRequestStep')) {
        steps.push(variables);
        return { json: { data: { serviceRequestStep: { request: request({ state: 'rejected' }), errors: NO_ERRORS } } } };
      }
      return { json: { data: { serviceRequest: { ...request(), originUnitId: 'T3JnVW5pdDox', timeline: [{ transition: 'submit', fromState: null, toState: 'submitted', actorName: '热线', reasons: [], at: '2026-12-03T02:00:00Z' }] } } } };
    });
    renderAt('/r/x', '/r/:id', <RequestDetail />, CLERK);
    expect(await screen.findByText('工地拖欠三个月工资')).toBeInTheDocument();
    expect(screen.getByText('133****1111')).toBeInTheDocument();
    // antd spaces out two-character button labels (受 理)
    for (const name of [/^受\s?理$/, /^转\s?介$/, /^不予受理$/]) expect(screen.getByRole('button', { name })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^办\s?结$/ })).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: '不予受理' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: '不予受理' }));
    expect(await within(dialog).findByText('请填写理由')).toBeInTheDocument();
    expect(steps).toHaveLength(0);
    fireEvent.change(within(dialog).getByLabelText('理由'), { target: { value: '不属于工会受理范围' } });
    await userEvent.click(within(dialog).getByRole('button', { name: '不予受理' }));
    await waitFor(() => expect(steps).toEqual([{ id: 'U2VydmljZVJlcXVlc3Q6MQ==', transition: 'reject', reasons: ['不属于工会受理范围'], expectedVersion: 1 }]));
  });
});

describe('满意度评价', () => {
  it('ranks units and records a follow-up of a low rating', async () => {
    const followUps: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('ratingRanking')) return { json: { data: { ratingRanking: [{ orgUnitId: 'x', name: '厦门市总工会', count: 12, averageStars: 4.5, lowCount: 0, rank: 1 }, { orgUnitId: 'y', name: '福州市总工会', count: 9, averageStars: 3.2, lowCount: 2, rank: 2 }] } } };
      if (query.includes('serviceRequestDashboard')) return { json: { data: { serviceRequestDashboard: [{ orgUnitId: 'y', unitName: '福州市总工会', category: 'wage_arrears', total: 3, open: 1, overdue: 1, avgFirstResponseHours: 5.5, avgResolutionHours: null }] } } };
      if (query.includes('serviceRequestCategories')) return { json: { data: { serviceRequestCategories: [{ code: 'wage_arrears', labelZh: '欠薪', firstResponseHours: 24, resolutionHours: 240 }] } } };
      if (query.includes('stations(')) return { json: { data: { stations: [station({ id: 'U3RhdGlvbjo3', name: '鼓楼驿站' })], stationFacilities: [] } } };
      if (query.includes('ratingFollowUp')) {
        followUps.push(variables);
        return { json: { data: { ratingFollowUp: { rating: { id: 'R1', followedUp: true, flagged: true }, errors: NO_ERRORS } } } };
      }
      return { json: { data: { ratings: [{ id: 'R1', orgUnitId: 'T3JnVW5pdDox', subjectType: 'station', subjectId: 7, stars: 1, dimensions: [{ key: 'hygiene', labelZh: '卫生', stars: 1 }], comment: '没有热水', flagged: true, followedUp: false, version: 1, ratedAt: '2026-12-01T02:00:00Z', followUps: [] }] } } };
    });
    renderAt('/r', '/r', <Ratings />, CLERK);
    const first = (await screen.findByText('厦门市总工会')).closest('tr') as HTMLElement;
    expect(within(first).getByText('4.50')).toBeInTheDocument();
    expect(screen.getByText('2', { selector: '.ant-tag' })).toHaveClass('ant-tag-red'); // 福州's two low ratings
    expect(await screen.findByText('卫生1星')).toBeInTheDocument();
    expect(await screen.findByText('驿站：鼓楼驿站')).toBeInTheDocument(); // the rated station by name, not its id
    const dashRow = (await screen.findByText('欠薪')).closest('tr') as HTMLElement;
    expect(within(dashRow).getByText('5.5 小时')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: '登记回访' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('回访记录'), { target: { value: '已电话回访，补充热水器' } });
    await userEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    await waitFor(() => expect(followUps).toEqual([{ id: 'R1', note: '已电话回访，补充热水器', resolved: true }]));
  });
});

describe('服务项目清单', () => {
  it('publishes an unpublished item with everything else unchanged', async () => {
    const updates: Record<string, unknown>[] = [];
    const item = { id: 'SXRlbTox', orgUnitId: 'T3JnVW5pdDox', name: '法律咨询', providerKind: 'aid_centre', providerName: '市帮扶中心', howTo: '来电预约', hours: '工作日', contact: '12351', published: false };
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('serviceItemUpdate')) {
        updates.push(variables);
        return { json: { data: { serviceItemUpdate: { item: { ...item, published: true }, errors: NO_ERRORS } } } };
      }
      return { json: { data: { serviceItems: [item] } } };
    });
    renderAt('/i', '/i', <Items />, CLERK);
    const row = (await screen.findByText('法律咨询')).closest('tr') as HTMLElement;
    expect(within(row).getByText('未公开')).toBeInTheDocument();
    expect(within(row).getByText('帮扶中心：市帮扶中心')).toBeInTheDocument();
    await userEvent.click(within(row).getByRole('button', { name: '公开发布' }));
    await waitFor(() => expect(updates).toEqual([{ id: 'SXRlbTox', input: { name: '法律咨询', providerKind: 'aid_centre', providerName: '市帮扶中心', howTo: '来电预约', hours: '工作日', contact: '12351', published: true } }]));
  });
});
