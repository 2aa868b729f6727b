import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Providers } from '../../router';
import { allScreens } from '../../routes/registry';
import { visibleEntries } from '../../routes/access';
import { WithAuth, fakeAuth, mockGraphQL } from '../../test/utils';
import module from '.';
import CallDetail from './CallDetail';
import Orgs from './Orgs';
import Needs from './Needs';
import { ContractsView } from './Contracts';
import Calls from './Calls';
import MyBids from './MyBids';
import OpenData from './OpenData';

vi.setConfig({ testTimeout: 30_000 });

const UNITS = { orgUnits: { totalCount: 1, nodes: [{ id: 'T3JnVW5pdDox', name: '上海市总工会', code: 'sh', level: 'PROVINCE', path: '1', active: true, childCount: 0, parent: null }], pageInfo: { hasNextPage: false, endCursor: null } } };
const ME = 'VXNlcjox'; // fakeAuth's user
const READ = ['procurement.read', 'org.read'];
const APPROVER = [...READ, 'procurement.call.publish', 'procurement.call.award', 'procurement.org.decide', 'procurement.contract.sign'];

function call(over: Record<string, unknown> = {}) {
  return {
    id: 'UHJvY3VyZW1lbnRDYWxsOjE=', orgUnitId: 'T3JnVW5pdDox', title: '法律知识进企业', category: 'legal_aid', description: '12场讲座',
    budgetFen: 5_000_000, areaCode: '310000', state: 'bidding', stateLabel: '投标中', version: 3, enquiryDays: 1, tenderDays: 1, standstillDays: 1,
    publishedAt: '2026-12-01T00:00:00Z', enquiryEnd: '2026-12-02T00:00:00Z', tenderEnd: '2026-12-03T00:00:00Z', standstillEnd: null,
    awardBidId: null, awardReasons: [], needId: null, need: null, questions: [], complaints: [], ...over,
  };
}

function org(over: Record<string, unknown> = {}) {
  return {
    id: 'U29jaWFsT3JnOjE=', name: '江门社工服务中心', creditCode: '52440700MJ00000120', registrationNo: '粤江民证字第00012号',
    registrationAuthority: '江门市民政局', serviceAreas: ['310000'], hasOwnUnion: false, status: 'pending', decisionReasons: [], scoreBp: 7000,
    orgUnitId: 'T3JnVW5pdDox', createdAt: '2026-12-01T00:00:00Z', blacklisted: false, documents: [], blacklist: [], scoreHistory: [], ...over,
  };
}

const RESULTS = {
  criteria: [{ code: 'fit', label: '定位精准性', weightBp: 5000 }, { code: 'pro', label: '实施专业性', weightBp: 5000 }],
  complete: true,
  bids: [
    {
      bidId: 'QmlkOjE=', orgId: 'U29jaWFsT3JnOjE=', orgName: '江门社工服务中心', hasOwnUnion: true, priceFen: 3_000_000, panelBp: 8000, performanceBp: 7000,
      totalBp: 7900, rank: 1, wonTieByUnion: true,
      evaluatorTotals: [{ evaluatorId: ME, totalBp: 8000, outlier: false }, { evaluatorId: 'VXNlcjoy', totalBp: 4000, outlier: true }],
    },
  ],
};

function renderAt(path: string, pattern: string, element: ReactNode, permissions: string[]) {
  const router = createMemoryRouter([{ path: pattern, element }], { initialEntries: [path] });
  render(
    <Providers>
      <WithAuth value={fakeAuth(permissions)}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('menus', () => {
  const screens = allScreens([module]);
  const caps = new Set(['procurement']);
  it("gives an organisation's login (procurement.org.self only) its own four screens and none of the staff's", () => {
    const labels = visibleEntries(screens, new Set(['procurement.org.self']), caps).filter((s) => s.capability === 'procurement' && !s.hideInMenu).map((s) => s.label);
    expect(labels).toEqual(['入库申请', '采购公告', '我的投标', '我的合同']);
  });
  it('gives staff the registry, needs, calls and contracts, and nothing of an organisation', () => {
    const labels = visibleEntries(screens, new Set(READ), caps).filter((s) => s.capability === 'procurement' && !s.hideInMenu).map((s) => s.label);
    expect(labels).toEqual(['社会组织库', '服务需求清单', '采购项目', '合同与履约', '开放数据']);
  });
});

describe('采购项目详情', () => {
  it('says the bids are sealed before the deadline and never asks for them', async () => {
    const queries: string[] = [];
    mockGraphQL(({ query }) => {
      queries.push(query);
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      return { json: { data: { procurementCall: call(), procurementCallPanel: [] } } };
    });
    renderAt('/c/1', '/c/:id', <CallDetail />, APPROVER);
    expect(await screen.findByTestId('bids-sealed')).toHaveTextContent('投标文件已密封');
    expect(screen.getByTestId('call-state')).toHaveTextContent('投标中');
    expect(queries.some((q) => q.includes('procurementCallBids') || q.includes('procurementCallResults'))).toBe(false);
  });

  it('asks an evaluator to declare first, then shows bids and the ranking with the outlier marked', async () => {
    const sent: Record<string, unknown>[] = [];
    let declared = false;
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('procurementPanelDeclare')) {
        sent.push(variables);
        declared = true;
        return { json: { data: { procurementPanelDeclare: { member: { userId: ME, username: 'tester', declared: true, conflict: false }, errors: [] } } } };
      }
      if (query.includes('procurementCallBids')) {
        return { json: { data: { procurementCallBids: [{ id: 'QmlkOjE=', orgId: 'U29jaWFsT3JnOjE=', orgName: '江门社工服务中心', hasOwnUnion: true, priceFen: 3_000_000, submittedAt: '2026-12-02T01:00:00Z', documents: [{ id: 'QmlkRG9jdW1lbnQ6Nw==', filename: '投标书.pdf', size: 1024, downloadUrl: '/procurement/bid-documents/7' }] }] } } };
      }
      if (query.includes('procurementCallResults')) return { json: { data: { procurementCallResults: RESULTS } } };
      return { json: { data: { procurementCall: call({ state: 'evaluation', stateLabel: '评审中' }), procurementCallPanel: [{ userId: ME, username: 'tester', declared, conflict: false }] } } };
    });
    renderAt('/c/1', '/c/:id', <CallDetail />, READ);
    expect(await screen.findByText('请先声明利益冲突，再查看投标与评审结果')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: '声明无利益冲突' }));
    expect(sent).toEqual([{ callId: 'UHJvY3VyZW1lbnRDYWxsOjE=', noConflict: true }]);
    const ranking = await screen.findByRole('table', { name: '评审排名' });
    expect(within(ranking).getByText('专家2：40.00（异常）')).toBeInTheDocument();
    expect(within(ranking).getByText('同分优先（已建工会）')).toBeInTheDocument();
    expect(within(ranking).getByText('79.00')).toBeInTheDocument();
    expect(screen.getAllByText('¥30,000.00').length).toBeGreaterThan(0);
    // scoring: one box per criterion, sent as criterion → points
    await userEvent.click(within(ranking).getByRole('button', { name: /评\s*分/ }));
    const dialog = await screen.findByRole('dialog', { name: '评分：江门社工服务中心' });
    expect(within(dialog).getAllByRole('spinbutton')).toHaveLength(2);
    // a reader without the award permission is not offered the award
    expect(screen.queryByRole('button', { name: '确定中标' })).toBeNull();
  });
});

describe('社会组织库', () => {
  it('approves at once and rejects only with reasons, one per line', async () => {
    const decisions: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('procurementOrgDecide')) {
        decisions.push(variables);
        return { json: { data: { procurementOrgDecide: { org: org({ status: variables.approve ? 'approved' : 'rejected' }), errors: [] } } } };
      }
      return { json: { data: { procurementOrgs: [org(), org({ id: 'U29jaWFsT3JnOjI=', name: '浦东社工服务社' })] } } };
    });
    renderAt('/o', '/o', <Orgs />, APPROVER);
    const row = (await screen.findByText('江门社工服务中心')).closest('tr') as HTMLElement;
    await userEvent.click(within(row).getByRole('button', { name: /通\s*过/ }));
    await waitFor(() => expect(decisions).toEqual([{ orgId: 'U29jaWFsT3JnOjE=', approve: true }]));
    const other = screen.getByText('浦东社工服务社').closest('tr') as HTMLElement;
    await userEvent.click(within(other).getByRole('button', { name: /驳\s*回/ }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: /驳\s*回/ }));
    expect(await within(dialog).findByText('请填写驳回理由')).toBeInTheDocument();
    expect(decisions).toHaveLength(1);
    await userEvent.type(within(dialog).getByLabelText('驳回理由（每行一条）'), '登记证书已过期{enter}缺少章程');
    await userEvent.click(within(dialog).getByRole('button', { name: /驳\s*回/ }));
    await waitFor(() => expect(decisions[1]).toEqual({ orgId: 'U29jaWFsT3JnOjI=', approve: false, reasons: ['登记证书已过期', '缺少章程'] }));
  });

  it('offers no decisions to a reader', async () => {
    mockGraphQL(({ query }) => ({ json: { data: query.includes('orgUnits') ? UNITS : { procurementOrgs: [org()] } } }));
    renderAt('/o', '/o', <Orgs />, READ);
    expect(await screen.findByText('江门社工服务中心')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /通\s*过/ })).toBeNull();
  });
});

describe('合同与履约', () => {
  const milestone = (over: Record<string, unknown>) => ({
    id: 'TWlsZXN0b25lOjE=', seq: 1, title: '首期', deliverable: '启动方案', percent: 30, amountFen: 900_000, status: 'accepted', deliveryNote: '已提交',
    deliveredAt: null, acceptedAt: null, paidAt: null, entryId: null, ...over,
  });
  const contracts = (status: string) => ({
    procurementContracts: [{
      id: 'Q29udHJhY3Q6MQ==', callId: 'UHJvY3VyZW1lbnRDYWxsOjE=', orgId: 'U29jaWFsT3JnOjE=', orgUnitId: 'T3JnVW5pdDox', valueFen: 3_000_000, reservationId: '1',
      signedAt: '2026-12-03T00:00:00Z', status: 'active', terminationReasons: [], terminatedAt: null, releasedFen: 0, milestones: [milestone({ status }), milestone({ id: 'TWlsZXN0b25lOjI=', seq: 2, title: '尾期', percent: 70, amountFen: 2_100_000, status: 'pending' })],
      evaluations: [],
    }],
    procurementCalls: [{ id: 'UHJvY3VyZW1lbnRDYWxsOjE=', title: '法律知识进企业' }],
  });

  it('lets finance pay an accepted milestone and shows it paid', async () => {
    let status = 'accepted';
    const paid: unknown[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('procurementMilestonePay')) {
        paid.push(variables);
        status = 'paid';
        return { json: { data: { procurementMilestonePay: { milestone: milestone({ status }), errors: [] } } } };
      }
      return { json: { data: contracts(status) } };
    });
    const router = createMemoryRouter([{ path: '/', element: <ContractsView mine={false} /> }]);
    render(<Providers><WithAuth value={fakeAuth([...READ, 'procurement.contract.pay'])}><RouterProvider router={router} /></WithAuth></Providers>);
    const table = await screen.findByRole('table', { name: '付款节点' });
    expect(within(table).getByText('¥9,000.00')).toBeInTheDocument();
    await userEvent.click(within(table).getByRole('button', { name: /支\s*付/ }));
    await waitFor(() => expect(paid).toEqual([{ milestoneId: 'TWlsZXN0b25lOjE=' }]));
    expect(await screen.findByText('1/2 期已支付')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: '报告交付' })).toBeNull();
  });

  it("offers the organisation's login only the delivery report, and puts a refusal on screen in Chinese", async () => {
    mockGraphQL(({ query }) => {
      if (query.includes('procurementMilestoneDeliver')) {
        return { json: { data: { procurementMilestoneDeliver: { milestone: null, errors: [{ field: 'milestoneId', code: 'INVALID_STATE', message: 'not pending', messageZh: '该节点已交付' }] } } } };
      }
      return { json: { data: contracts('pending') } };
    });
    const router = createMemoryRouter([{ path: '/', element: <ContractsView mine /> }]);
    render(<Providers><WithAuth value={fakeAuth(['procurement.org.self'])}><RouterProvider router={router} /></WithAuth></Providers>);
    const table = await screen.findByRole('table', { name: '付款节点' });
    expect(within(table).queryByRole('button', { name: /验\s*收|支\s*付/ })).toBeNull();
    await userEvent.click(within(table).getAllByRole('button', { name: '报告交付' })[0]);
    const dialog = await screen.findByRole('dialog', { name: '报告交付：首期' });
    await userEvent.type(within(dialog).getByLabelText('交付说明'), '启动方案已提交');
    await userEvent.click(within(dialog).getByRole('button', { name: /提\s*交/ }));
    expect(await within(dialog).findByText('该节点已交付')).toBeInTheDocument();
  });
});

describe('服务需求清单', () => {
  it('shows budgets in yuan and a union\'s negative list, and adds an item to it', async () => {
    const added: Record<string, unknown>[] = [];
    let items = [{ term: '融资担保', reason: '' }];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('procurementExcludedAdd')) {
        added.push(variables);
        items = [...items, { term: String(variables.term), reason: String(variables.reason ?? '') }];
        return { json: { data: { procurementExcludedAdd: { item: items[1], errors: [] } } } };
      }
      if (query.includes('procurementExcludedItems')) return { json: { data: { procurementExcludedItems: items } } };
      return {
        json: { data: {
          procurementNeeds: [{ id: 'U2VydmljZU5lZWQ6MQ==', orgUnitId: 'T3JnVW5pdDox', category: 'legal_aid', categoryLabel: '法律服务', title: '法律知识进企业', description: '', budgetFen: 12_345_678, createdAt: '2026-12-01T00:00:00Z' }],
          procurementCategories: [{ code: 'legal_aid', label: '法律服务' }],
        } },
      };
    });
    renderAt('/n', '/n', <Needs />, [...READ, 'procurement.need.write']);
    expect(await screen.findByText('¥123,456.78')).toBeInTheDocument();
    expect(screen.getByTestId('excluded-items')).toHaveTextContent('请选择工会');
    fireEvent.mouseDown(document.getElementById('pc-excluded-unit')?.closest('.ant-select-selector') as HTMLElement);
    await userEvent.click(await waitFor(() => {
      const option = document.querySelector('.ant-select-item-option');
      expect(option).not.toBeNull();
      return option as HTMLElement;
    }));
    expect(await screen.findByText('融资担保')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: '增加事项' }));
    const dialog = await screen.findByRole('dialog', { name: '增加负面清单事项' });
    await userEvent.type(within(dialog).getByLabelText('事项'), '股票投资');
    await userEvent.click(within(dialog).getByRole('button', { name: /增\s*加/ }));
    await waitFor(() => expect(added).toEqual([{ orgUnitId: 'T3JnVW5pdDox', term: '股票投资', reason: null }]));
    expect(await screen.findByText('股票投资')).toBeInTheDocument();
  });
});

describe('采购项目详情: panel, documents, complaints', () => {
  it('appoints an evaluator picked from the eligible list, searched on the server', async () => {
    const searches: unknown[] = [];
    const appointed: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('procurementEligibleEvaluators')) {
        searches.push(variables.search);
        const all = [{ userId: 'VXNlcjo1', username: 'zhang', displayName: '张评审' }, { userId: 'VXNlcjo2', username: 'li', displayName: '' }];
        return { json: { data: { procurementEligibleEvaluators: variables.search ? all.filter((u) => u.username.includes(String(variables.search))) : all } } };
      }
      if (query.includes('procurementPanelAppoint')) {
        appointed.push(variables);
        return { json: { data: { procurementPanelAppoint: { member: { userId: variables.userId, username: 'zhang', declared: false, conflict: false }, errors: [] } } } };
      }
      return { json: { data: { procurementCall: call({ state: 'enquiries', stateLabel: '答疑中' }), procurementCallPanel: [] } } };
    });
    renderAt('/c/1', '/c/:id', <CallDetail />, APPROVER);
    await userEvent.click(await screen.findByRole('button', { name: '指定评审专家' }));
    const dialog = await screen.findByRole('dialog', { name: '指定评审专家' });
    expect(within(dialog).queryByText('用户ID')).toBeNull(); // no typing of ids
    await userEvent.type(within(dialog).getByRole('combobox', { name: '评审专家' }), 'zh');
    await waitFor(() => expect(searches).toContain('zh'));
    await userEvent.click(await waitFor(() => {
      const option = Array.from(document.querySelectorAll('.ant-select-item-option')).find((o) => o.textContent === '张评审（zhang）');
      expect(option).toBeDefined();
      return option as HTMLElement;
    }));
    await userEvent.click(within(dialog).getByRole('button', { name: /指\s*定/ }));
    await waitFor(() => expect(appointed).toEqual([{ callId: 'UHJvY3VyZW1lbnRDYWxsOjE=', userId: 'VXNlcjo1' }]));
  });

  it('downloads an opened bid document with the bearer token', async () => {
    const fetched: string[] = [];
    const fn = mockGraphQL(({ query }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('procurementCallBids')) {
        return { json: { data: { procurementCallBids: [{ id: 'QmlkOjE=', orgId: 'U29jaWFsT3JnOjE=', orgName: '江门社工服务中心', hasOwnUnion: false, priceFen: 3_000_000, submittedAt: '2026-12-02T01:00:00Z', documents: [{ id: 'QmlkRG9jdW1lbnQ6Nw==', filename: '投标书.pdf', size: 1024, downloadUrl: '/procurement/bid-documents/7' }] }] } } };
      }
      if (query.includes('procurementCallResults')) return { json: { data: { procurementCallResults: RESULTS } } };
      return { json: { data: { procurementCall: call({ state: 'evaluation', stateLabel: '评审中' }), procurementCallPanel: [] } } };
    });
    const graphql = fn.getMockImplementation()!;
    fn.mockImplementation(async (url: string | URL | Request, init?: RequestInit) => {
      if (String(url).startsWith('/procurement/bid-documents/')) {
        fetched.push(String(url));
        return new Response(new Blob(['%PDF-1.4']), { status: 200, headers: { 'Content-Type': 'application/pdf' } });
      }
      return graphql(url, init);
    });
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:x'), revokeObjectURL: vi.fn() }));
    renderAt('/c/1', '/c/:id', <CallDetail />, APPROVER);
    await userEvent.click(await screen.findByRole('button', { name: '下载 投标书.pdf' }));
    await waitFor(() => expect(fetched).toEqual(['/procurement/bid-documents/7']));
  });

  it('shows a complaint\'s text to the approver and resolves it only with a resolution', async () => {
    const resolved: Record<string, unknown>[] = [];
    let complaint = { id: 'Q2FsbENvbXBsYWludDox', orgId: 'U29jaWFsT3JnOjI=', orgName: '浦东社工服务社', text: '中标人讲师资质存疑', outcome: '', resolution: '', createdAt: '2026-12-03T00:00:00Z', decidedAt: null as string | null };
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('procurementComplaintResolve')) {
        resolved.push(variables);
        complaint = { ...complaint, outcome: 'dismissed', resolution: String(variables.resolution), decidedAt: '2026-12-03T01:00:00Z' };
        return { json: { data: { procurementComplaintResolve: { complaint: { id: complaint.id, outcome: 'dismissed', resolution: complaint.resolution }, call: { id: 'UHJvY3VyZW1lbnRDYWxsOjE=', state: 'standstill', stateLabel: '公示期' }, errors: [] } } } };
      }
      if (query.includes('procurementCallBids')) return { json: { data: { procurementCallBids: [] } } };
      if (query.includes('procurementCallResults')) return { json: { data: { procurementCallResults: RESULTS } } };
      const state = complaint.outcome ? { state: 'standstill', stateLabel: '公示期' } : { state: 'complaint', stateLabel: '投诉处理中' };
      return { json: { data: { procurementCall: call({ ...state, complaints: [complaint] }), procurementCallPanel: [] } } };
    });
    renderAt('/c/1', '/c/:id', <CallDetail />, APPROVER);
    const table = await screen.findByRole('table', { name: '投诉' });
    expect(within(table).getByText('中标人讲师资质存疑')).toBeInTheDocument();
    expect(within(table).getByText('待处理')).toBeInTheDocument();
    fireEvent.click(within(table).getByRole('button', { name: '驳回投诉' }));
    const dialog = await screen.findByRole('dialog', { name: '驳回投诉（公示期重新计算）' });
    await userEvent.click(within(dialog).getByRole('button', { name: '驳回投诉' }));
    expect(await within(dialog).findByText('请填写处理意见')).toBeInTheDocument();
    expect(resolved).toEqual([]);
    await userEvent.type(within(dialog).getByLabelText('处理意见'), '证书在有效期内');
    await userEvent.click(within(dialog).getByRole('button', { name: '驳回投诉' }));
    await waitFor(() => expect(resolved).toEqual([{ complaintId: 'Q2FsbENvbXBsYWludDox', uphold: false, resolution: '证书在有效期内' }]));
    expect(await within(await screen.findByRole('table', { name: '投诉' })).findByText('证书在有效期内')).toBeInTheDocument();
  });
});

describe('我的投标', () => {
  it('offers no document link while the bid is sealed, and the link once it is open', async () => {
    mockGraphQL(({ query }) => {
      if (query.includes('procurementMyBids')) {
        return { json: { data: { procurementMyBids: [
          { id: 'QmlkOjE=', callId: 'UHJvY3VyZW1lbnRDYWxsOjE=', submittedAt: '2026-12-02T01:00:00Z', priceFen: null, documents: [] },
          { id: 'QmlkOjI=', callId: 'UHJvY3VyZW1lbnRDYWxsOjI=', submittedAt: '2026-12-01T01:00:00Z', priceFen: 2_000_000, documents: [{ id: 'QmlkRG9jdW1lbnQ6OQ==', filename: '方案.pdf', size: 10, downloadUrl: '/procurement/bid-documents/9' }] },
        ] } } };
      }
      return { json: { data: { procurementCalls: [call(), call({ id: 'UHJvY3VyZW1lbnRDYWxsOjI=', title: '心理关爱', state: 'evaluation', stateLabel: '评审中' })] } } };
    });
    renderAt('/b', '/b', <MyBids />, ['procurement.org.self']);
    const sealedRow = (await screen.findByText('法律知识进企业')).closest('tr') as HTMLElement;
    expect(within(sealedRow).getByText('已密封')).toBeInTheDocument();
    expect(within(sealedRow).getByText('投标截止后可下载')).toBeInTheDocument();
    expect(within(sealedRow).queryByRole('button')).toBeNull();
    const openRow = screen.getByText('心理关爱').closest('tr') as HTMLElement;
    expect(within(openRow).getByRole('button', { name: '下载 方案.pdf' })).toBeInTheDocument();
  });
});

describe('合同终止', () => {
  const contract = (over: Record<string, unknown>) => ({
    id: 'Q29udHJhY3Q6MQ==', callId: 'UHJvY3VyZW1lbnRDYWxsOjE=', orgId: 'U29jaWFsT3JnOjE=', orgUnitId: 'T3JnVW5pdDox', valueFen: 3_000_000, reservationId: '1',
    signedAt: '2026-12-03T00:00:00Z', status: 'active', terminationReasons: [], terminatedAt: null, releasedFen: 0, evaluations: [],
    milestones: [
      { id: 'TWlsZXN0b25lOjE=', seq: 1, title: '首期', deliverable: '启动', percent: 30, amountFen: 900_000, status: 'paid', deliveryNote: '', deliveredAt: null, acceptedAt: null, paidAt: '2026-12-03T00:00:00Z', entryId: '1' },
      { id: 'TWlsZXN0b25lOjI=', seq: 2, title: '尾期', deliverable: '总结', percent: 70, amountFen: 2_100_000, status: 'pending', deliveryNote: '', deliveredAt: null, acceptedAt: null, paidAt: null, entryId: null },
    ],
    ...over,
  });

  it('terminates with reasons, says what is released, and shows the contract terminated', async () => {
    const sent: Record<string, unknown>[] = [];
    let current = contract({});
    mockGraphQL(({ query, variables }) => {
      if (query.includes('procurementContractTerminate')) {
        sent.push(variables);
        current = contract({
          status: 'terminated', terminationReasons: variables.reasons, terminatedAt: '2026-12-04T00:00:00Z', releasedFen: 2_100_000,
          milestones: current.milestones.map((m) => (m.status === 'paid' ? m : { ...m, status: 'closed' })),
        });
        return { json: { data: { procurementContractTerminate: { contract: current, errors: [] } } } };
      }
      return { json: { data: { procurementContracts: [current], procurementCalls: [{ id: 'UHJvY3VyZW1lbnRDYWxsOjE=', title: '法律知识进企业' }] } } };
    });
    const router = createMemoryRouter([{ path: '/', element: <ContractsView mine={false} /> }]);
    render(<Providers><WithAuth value={fakeAuth([...READ, 'procurement.contract.terminate'])}><RouterProvider router={router} /></WithAuth></Providers>);
    await userEvent.click(await screen.findByRole('button', { name: '终止合同' }));
    const dialog = await screen.findByRole('dialog', { name: '终止合同' });
    expect(within(dialog).getByText(/未支付的 1 期付款节点将关闭/)).toHaveTextContent('¥21,000.00');
    await userEvent.type(within(dialog).getByLabelText('终止理由（每行一条）'), '擅自更换讲师{enter}双方协商解除');
    await userEvent.click(within(dialog).getByRole('button', { name: '终止合同' }));
    await waitFor(() => expect(sent).toEqual([{ contractId: 'Q29udHJhY3Q6MQ==', reasons: ['擅自更换讲师', '双方协商解除'] }]));
    expect(await screen.findByText('已终止')).toBeInTheDocument();
    expect(screen.getByText('释放预留资金 ¥21,000.00')).toBeInTheDocument();
    expect(screen.getByText('已关闭（合同终止）')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: '终止合同' })).toBeNull();
  });

  it('offers termination to nobody without the permission', async () => {
    mockGraphQL(() => ({ json: { data: { procurementContracts: [contract({})], procurementCalls: [] } } }));
    const router = createMemoryRouter([{ path: '/', element: <ContractsView mine={false} /> }]);
    render(<Providers><WithAuth value={fakeAuth([...READ, 'procurement.contract.pay'])}><RouterProvider router={router} /></WithAuth></Providers>);
    expect(await screen.findByText('履行中')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: '终止合同' })).toBeNull();
  });
});

describe('起草采购项目 and 开放数据', () => {
  it('fills the draft from the need picked and sends its id', async () => {
    const created: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: { data: UNITS } };
      if (query.includes('procurementCallCreate')) {
        created.push(variables);
        return { json: { data: { procurementCallCreate: { call: null, errors: [{ field: 'budgetFen', code: 'CAP_EXCEEDED', message: 'above', messageZh: '项目预算超过需求清单的预算' }] } } } };
      }
      if (query.includes('procurementNeeds')) {
        return { json: { data: { procurementNeeds: [{ id: 'U2VydmljZU5lZWQ6Mw==', orgUnitId: 'T3JnVW5pdDox', category: 'legal_aid', categoryLabel: '法律服务', title: '法律知识进企业', description: '12场', budgetFen: 4_000_000 }] } } };
      }
      return { json: { data: { procurementCalls: [], procurementCategories: [{ code: 'legal_aid', label: '法律服务' }] } } };
    });
    renderAt('/calls', '/calls', <Calls />, [...READ, 'procurement.call.draft']);
    await userEvent.click(await screen.findByRole('button', { name: '起草采购项目' }));
    const dialog = await screen.findByRole('dialog', { name: '起草采购项目' });
    fireEvent.mouseDown(within(dialog).getByLabelText('对应服务需求').closest('.ant-select-selector') as HTMLElement);
    await userEvent.click(await waitFor(() => {
      const option = Array.from(document.querySelectorAll('.ant-select-item-option')).find((o) => o.textContent?.startsWith('法律知识进企业'));
      expect(option).toBeDefined();
      return option as HTMLElement;
    }));
    expect(within(dialog).getByLabelText('项目名称')).toHaveValue('法律知识进企业');
    expect(within(dialog).getByLabelText('预算（元）')).toHaveValue('40000.00');
    await userEvent.click(within(dialog).getByRole('button', { name: '保存草稿' }));
    await waitFor(() => expect(created).toHaveLength(1));
    expect(created[0]).toMatchObject({ input: { needId: 'U2VydmljZU5lZWQ6Mw==', orgUnitId: 'T3JnVW5pdDox', category: 'legal_aid', budgetFen: 4_000_000 } });
  });

  it('lists the awarded contracts from the public route and downloads a call\'s OCDS package', async () => {
    const fetched: { url: string; auth: boolean }[] = [];
    const fn = mockGraphQL(() => ({ json: { data: { procurementCalls: [call({ id: 'UHJvY3VyZW1lbnRDYWxsOjEy', state: 'contracted', stateLabel: '已签约' }), call({ id: 'UHJvY3VyZW1lbnRDYWxsOjEz', title: '草稿项目', state: 'draft', stateLabel: '草稿' })], procurementCategories: [] } } }));
    const graphql = fn.getMockImplementation()!;
    fn.mockImplementation(async (url: string | URL | Request, init?: RequestInit) => {
      const u = String(url);
      if (u.startsWith('/public/')) {
        fetched.push({ url: u, auth: !!(init?.headers as Record<string, string> | undefined)?.Authorization });
        if (u.endsWith('/awards')) {
          return new Response(JSON.stringify({ contracts: [{ ocid: 'ocds-huijia-shanghai-12', title: '法律知识进企业', category: 'legal_aid', buyer: '上海市总工会', supplier: { name: '江门社工服务中心', creditCode: '52440700MJ00000120' }, valueFen: 3_000_000, signedAt: '2026-12-03T00:00:00Z', status: 'terminated' }] }), { status: 200 });
        }
        return new Response(JSON.stringify({ version: '1.1', releases: [] }), { status: 200 });
      }
      return graphql(url, init);
    });
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:x'), revokeObjectURL: vi.fn() }));
    renderAt('/od', '/od', <OpenData />, READ);
    const awards = await screen.findByRole('table', { name: '中标合同公示' });
    expect(await within(awards).findByText('江门社工服务中心')).toBeInTheDocument();
    expect(within(awards).getByText('¥30,000.00')).toBeInTheDocument();
    expect(within(awards).getByText('已终止')).toBeInTheDocument();
    expect(fetched[0]).toEqual({ url: '/public/procurement/shanghai/awards', auth: false }); // as the public sees it
    const packages = screen.getByRole('table', { name: 'OCDS数据包' });
    expect(within(packages).queryByText('草稿项目')).toBeNull(); // a draft is not published
    await userEvent.click(within(packages).getByRole('button', { name: '下载项目12的OCDS数据包' }));
    await waitFor(() => expect(fetched.map((f) => f.url)).toContain('/public/procurement/shanghai/ocds/12'));
  });
});
