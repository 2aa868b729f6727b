import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Providers } from '../../router';
import { WithAuth, fakeAuth, mockGraphQL } from '../../test/utils';
import { WorkerContextProvider, type Worker } from '../../portal/worker';
import HardshipCases from './Cases';
import HardshipCaseDetail from './CaseDetail';
import HardshipDashboard from './Dashboard';
import SelfTest from './SelfTest';
import MyCases from './MyCases';
import { grantActions } from './Grants';
import { orderedActions } from './Actions';
import { Attachments } from './Attachments';

vi.mock('../../components/charts/BarChart', () => ({ default: ({ title }: { title: string }) => <div data-testid="bar-chart">{title}</div> }));
vi.mock('../../components/charts/PieChart', () => ({ default: ({ title }: { title: string }) => <div data-testid="pie-chart">{title}</div> }));

vi.setConfig({ testTimeout: 30_000 });

const READ = ['hardship.read', 'member.read', 'org.read'];
const CLERK = [...READ, 'hardship.write'];
const APPROVER = [...READ, 'hardship.review', 'hardship.approve'];
const FINANCE = [...READ, 'hardship.pay'];
const ID = 'SGFyZHNoaXBBcmNoaXZlOjE=';

function cls(category: string, label: string, reasons: string[], ruleVersion = 'national-2026.1') {
  return { category, categoryLabel: label, reasons, ruleVersion, excluded: false, at: '2026-01-02T03:00:00Z' };
}

function archive(over: Record<string, unknown> = {}) {
  return {
    id: ID, householdId: 'SG91c2Vob2xkOjE=', householdName: '张困难', orgUnitId: 'T3JnVW5pdDox', state: 'reviewed', stateLabel: '已初审',
    version: 2, kind: 'regular', tier: 'GRASSROOTS', areaCode: '310101', householdSize: 3, migrant: false, workStatus: 'laid_off',
    housing: '', medicalInsurance: '', singleParent: true, zeroEmployment: false, mainCause: '因病', secondaryCauses: [],
    bankCardMasked: '**** 3445', reverifyDueOn: null, createdAt: '2026-01-02T03:00:00Z', allowedActions: [],
    classification: cls('deep', '深度困难', ['家庭人均收入低于当地低保标准']),
    classificationHistory: [cls('deep', '深度困难', ['家庭人均收入低于当地低保标准'])],
    timeline: [
      { seq: 1, action: 'open', actionLabel: '建档申请', fromState: null, toState: 'applied', actorName: '王经办', reasons: [], at: '2026-01-02T03:00:00Z' },
      { seq: 2, action: 'review', actionLabel: '初审', fromState: 'applied', toState: 'reviewed', actorName: '李审批', reasons: [], at: '2026-01-03T03:00:00Z' },
    ],
    attachments: [],
    ...over,
  };
}

const HOUSEHOLD = { household: { id: 'SG91c2Vob2xkOjE=', size: 1, people: [{ id: 'p1', name: '张困难', relationLabel: '本人', idNumberMasked: '310101********0011', gender: 'MALE', birthYear: 1980 }] } };

type Reply = (variables: Record<string, unknown>, query: string) => unknown;

function server(replies: Record<string, Reply>) {
  return mockGraphQL(({ query, variables }) => {
    const name = /(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? '';
    const reply = replies[name];
    if (!reply) throw new Error(`unexpected operation ${name}`);
    return { json: { data: reply(variables, query) } };
  });
}

function renderPage(path: string, pattern: string, element: ReactNode, permissions: string[]) {
  const router = createMemoryRouter([{ path: pattern, element }], { initialEntries: [path] });
  render(
    <Providers>
      <WithAuth value={fakeAuth(permissions)}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
}

const detail = (permissions: string[]) => renderPage(`/hardship/cases/${ID}`, '/hardship/cases/:id', <HardshipCaseDetail />, permissions);

function headerButtons(): string[] {
  const header = document.querySelector('.hj-page-header') as HTMLElement;
  return within(header)
    .queryAllByRole('button')
    .map((b) => (b.textContent ?? '').replace(/\s/g, ''));
}

afterEach(() => vi.unstubAllGlobals());

describe('pure rules', () => {
  it('offers exactly the actions the server allows, in workflow order', () => {
    expect(orderedActions(['reject', 'review'])).toEqual(['review', 'reject']);
    expect(orderedActions([])).toEqual([]);
  });
  it('grant actions follow state and permission', () => {
    const can = (perms: string[]) => (p: string) => perms.includes(p);
    expect(grantActions('proposed', can(APPROVER))).toEqual(['APPROVE', 'REJECT']);
    expect(grantActions('proposed', can(CLERK))).toEqual([]);
    expect(grantActions('approved', can(FINANCE))).toEqual(['PAY']);
    expect(grantActions('approved', can(APPROVER))).toEqual(['CANCEL']);
    expect(grantActions('paid', can([...APPROVER, 'hardship.pay']))).toEqual([]);
  });
  it('downloads an attachment from the URL the server gives for it', async () => {
    const fetchMock = vi.fn(async () => new Response('%PDF-1.4', { status: 200, headers: { 'Content-Disposition': 'attachment; filename="a.pdf"' } }));
    vi.stubGlobal('fetch', fetchMock);
    const { createObjectURL, revokeObjectURL } = URL;
    Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:x'), revokeObjectURL: vi.fn() });
    const row = { id: 'SGFyZHNoaXBBdHRhY2htZW50OjQy', kind: 'APPLICATION_LETTER' as const, filename: '申请书.pdf', contentType: 'application/pdf',
                  size: 2048, createdAt: '2026-01-02T03:00:00Z', downloadUrl: '/hardship/attachments/42' };
    render(<Providers><Attachments archiveId={ID} attachments={[row]} canUpload={false} onChanged={() => undefined} /></Providers>);
    await userEvent.setup().click(screen.getByRole('button', { name: '下载 申请书.pdf' }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    expect((fetchMock.mock.calls[0] as unknown[])[0]).toBe('/hardship/attachments/42');
    Object.assign(URL, { createObjectURL, revokeObjectURL });
  });
});

describe('困难职工档案 list', () => {
  it('lists archives with the filters sent to the server, and 建档申请 only for hardship.write', async () => {
    const fetch = server({
      HardshipArchives: () => ({
        hardshipArchives: {
          totalCount: 1,
          nodes: [{ id: ID, householdName: '张困难', state: 'notice', stateLabel: '公示中', kind: 'regular', tier: 'GRASSROOTS', areaCode: '310101', householdSize: 3, createdAt: '2026-01-02T03:00:00Z', reverifyDueOn: null, classification: { category: 'deep', categoryLabel: '深度困难' } }],
          pageInfo: { hasNextPage: false, endCursor: null },
        },
      }),
    });
    renderPage('/hardship/cases', '/hardship/cases', <HardshipCases />, READ);
    expect(await screen.findByRole('link', { name: '张困难' })).toHaveAttribute('href', `/hardship/cases/${encodeURIComponent(ID)}`);
    expect(screen.getByText('公示中')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /建档申请/ })).toBeNull();
    fireEvent.change(screen.getByLabelText('姓名'), { target: { value: ' 张 ' } });
    fireEvent.click(screen.getByRole('button', { name: /查\s*询/ }));
    await waitFor(() => expect(JSON.parse(String(fetch.mock.calls.at(-1)?.[1]?.body)).variables).toMatchObject({ text: '张', first: 20 }));
  });
});

describe('档案详情', () => {
  it('shows masked data, the classification with reasons, the timeline, and only the allowed steps (clerk)', async () => {
    server({ HardshipArchive: () => ({ hardshipArchive: archive({ allowedActions: ['visit'] }) }), HardshipGrants: () => ({ hardshipGrants: [] }), HardshipHousehold: () => HOUSEHOLD });
    detail(CLERK);
    expect(await screen.findByRole('heading', { level: 1, name: '张困难家庭档案' })).toBeInTheDocument();
    expect(screen.getByText('**** 3445')).toBeInTheDocument();
    expect(await screen.findByText('310101********0011')).toBeInTheDocument();
    expect(screen.getByText('家庭人均收入低于当地低保标准')).toBeInTheDocument();
    expect(within(screen.getByTestId('hardship-timeline')).getByText(/李审批/)).toBeInTheDocument();
    expect(headerButtons()).toEqual(['入户走访']);
    expect(screen.getByRole('button', { name: /上传材料/ })).toBeInTheDocument();
  });

  it('an approver sees approval and rejection, no upload; a rejection needs reasons before any request', async () => {
    const fetch = server({ HardshipArchive: () => ({ hardshipArchive: archive({ state: 'ready', stateLabel: '待审批', allowedActions: ['approve', 'reject'] }) }), HardshipGrants: () => ({ hardshipGrants: [] }), HardshipHousehold: () => HOUSEHOLD });
    detail(APPROVER);
    await screen.findByRole('heading', { level: 1, name: '张困难家庭档案' });
    expect(headerButtons()).toEqual(['审批建档', '不予建档']);
    expect(screen.queryByRole('button', { name: /上传材料/ })).toBeNull();
    const calls = fetch.mock.calls.length;
    await userEvent.setup().click(screen.getByRole('button', { name: '不予建档' }));
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: /不予建档/ }));
    expect(await within(dialog).findByText('请填写理由')).toBeInTheDocument();
    expect(fetch.mock.calls.length).toBe(calls);
  });

  it('shows a refused step in Chinese (the server names the missing signed documents)', async () => {
    server({
      HardshipArchive: () => ({ hardshipArchive: archive({ allowedActions: ['visit'] }) }),
      HardshipGrants: () => ({ hardshipGrants: [] }),
      HardshipHousehold: () => HOUSEHOLD,
      HardshipArchiveStep: () => ({ hardshipArchiveStep: { archive: null, errors: [{ field: 'attachments', code: 'NOT_ELIGIBLE', message: 'the signed application letter and the economic-check authorisation must be attached first', messageZh: '请先上传签字的帮扶申请书、家庭经济状况核对授权委托书' }] } }),
    });
    detail(CLERK);
    await screen.findByRole('heading', { level: 1, name: '张困难家庭档案' });
    await userEvent.setup().click(screen.getByRole('button', { name: '入户走访' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText(/尚未上传/)).toBeInTheDocument();
    fireEvent.click(within(dialog).getByRole('button', { name: /入户走访/ }));
    expect(await within(dialog).findByText('请先上传签字的帮扶申请书和家庭经济状况核对授权委托书')).toBeInTheDocument();
    expect(within(dialog).queryByText(/must be attached/)).toBeNull();
  });

  it('shows the old and the new classification side by side after a re-check', async () => {
    server({
      HardshipArchive: () => ({
        hardshipArchive: archive({
          state: 'archived',
          stateLabel: '已建档',
          classification: cls('relative', '相对困难', ['人均收入高于低保标准但低于1.5倍'], 'national-2027.1'),
          classificationHistory: [cls('relative', '相对困难', ['人均收入高于低保标准但低于1.5倍'], 'national-2027.1'), cls('deep', '深度困难', ['家庭人均收入低于当地低保标准'])],
          timeline: [{ seq: 7, action: 'recheck', actionLabel: '复核', fromState: 'archived', toState: 'archived', actorName: '王经办', reasons: [], at: '2027-01-02T03:00:00Z' }],
        }),
      }),
      HardshipGrants: () => ({ hardshipGrants: [] }),
      HardshipHousehold: () => HOUSEHOLD,
    });
    detail(READ);
    const compare = await screen.findByTestId('recheck-compare');
    expect(within(within(compare).getByTestId('classification-原认定')).getByText('深度困难')).toBeInTheDocument();
    expect(within(within(compare).getByTestId('classification-复核认定')).getByText('相对困难')).toBeInTheDocument();
    expect(within(compare).getByText(/national-2027.1/)).toBeInTheDocument();
  });

  it('a reclassification by the civil-affairs check is listed, not shown as a re-check', async () => {
    server({
      HardshipArchive: () => ({ hardshipArchive: archive({ state: 'checked', stateLabel: '已核对', classificationHistory: [cls('none', '不符合建档条件', ['民政核对发现家庭财产']), cls('deep', '深度困难', ['家庭人均收入低于当地低保标准'])], classification: cls('none', '不符合建档条件', ['民政核对发现家庭财产']) }) }),
      HardshipGrants: () => ({ hardshipGrants: [] }),
      HardshipHousehold: () => HOUSEHOLD,
    });
    detail(READ);
    const history = await screen.findByTestId('classification-history');
    expect(within(history).getAllByRole('listitem')).toHaveLength(2);
    expect(screen.queryByTestId('recheck-compare')).toBeNull();
    expect(screen.getByText('民政核对发现家庭财产')).toBeInTheDocument();
  });

  it('the aid form shows the breakdown and the cap (used / allowed) before submitting; finance pays an approved grant', async () => {
    const grant = { id: 'g1', aidType: 'LIVING', year: 2026, amountFen: 300000, capFen: 500000, usedBeforeFen: 100000, breakdown: [{ labelZh: '生活救助（家庭）', amountFen: 300000 }], ruleVersion: 'shanghai-2019.19', escalation: '', state: 'approved', version: 2, createdAt: '2026-02-01T00:00:00Z' };
    server({
      HardshipArchive: () => ({ hardshipArchive: archive({ state: 'archived', stateLabel: '已建档' }) }),
      HardshipGrants: () => ({ hardshipGrants: [grant] }),
      HardshipHousehold: () => HOUSEHOLD,
      HardshipAidQuote: () => ({ hardshipAidQuote: { amountFen: 500000, capFen: 500000, usedFen: 100000, allowedFen: 400000, breakdown: [{ labelZh: '生活救助（每户每年）', amountFen: 500000 }], refusals: [], ruleVersion: 'shanghai-2019.19' } }),
    });
    detail([...CLERK, 'hardship.pay']);
    await screen.findByRole('heading', { level: 1, name: '张困难家庭档案' });
    const grants = screen.getByTestId('hardship-grants');
    expect(await within(grants).findByRole('button', { name: /发\s*放/ })).toBeInTheDocument();
    await userEvent.setup().click(within(grants).getByRole('button', { name: /申请救助/ }));
    const dialog = await screen.findByRole('dialog');
    expect(await within(dialog).findByText('年度上限 ¥5,000.00 · 今年已用 ¥1,000.00 · 本次最多 ¥4,000.00', {}, { timeout: 5000 })).toBeInTheDocument();
    expect(within(dialog).getByText('生活救助（每户每年）')).toBeInTheDocument();
  });
});

describe('帮扶统计', () => {
  it('shows counts and money by group as charts with tables', async () => {
    server({
      HardshipStats: () => ({
        hardshipStats: {
          byCategory: [{ key: 'deep', archives: 3, paidFen: 600000 }],
          byTier: [{ key: 'grassroots', archives: 3, paidFen: 600000 }],
          byState: [{ key: 'archived', archives: 2, paidFen: 600000 }, { key: 'applied', archives: 1, paidFen: 0 }],
          paidByAidType: [{ key: 'living', archives: 2, paidFen: 600000 }],
        },
      }),
    });
    renderPage('/hardship/dashboard', '/hardship/dashboard', <HardshipDashboard />, READ);
    expect(await screen.findByText('档案总数')).toBeInTheDocument();
    expect(screen.getByText('6,000.00', { selector: '.ant-statistic-content-value' })).toBeInTheDocument();
    expect(await screen.findAllByTestId('bar-chart')).toHaveLength(3);
    expect(screen.getByTestId('pie-chart')).toHaveTextContent('已发放救助（按类型）');
    expect(screen.getAllByText('深度困难').length).toBeGreaterThan(0);
  });
});

const WORKER: Worker = { id: 'w1', name: '王小明', idNumberMasked: '310101********1234', phoneMasked: '139****0001', status: 'MEMBER', memberId: 'm1', joinDeadlineWorkingDays: 3, capabilities: ['hardship'], provinceName: '上海市总工会' };

function renderPortal(element: ReactNode) {
  const router = createMemoryRouter(
    [
      { path: '/hardship/self-test', element },
      { path: '/hardship/cases', element: <div>我的帮扶已打开</div> },
    ],
    { initialEntries: ['/hardship/self-test'] },
  );
  render(
    <Providers>
      <WorkerContextProvider value={{ worker: WORKER, reload: async () => {} }}>
        <RouterProvider router={router} />
      </WorkerContextProvider>
    </Providers>,
  );
}

describe('职工之家: 困难自测 and 我的帮扶', () => {
  it('tests without storing, then applies; a second application is refused in Chinese', async () => {
    const ops: string[] = [];
    server({
      HardshipSelfTest: (v) => {
        ops.push('test');
        expect(v.input).toMatchObject({ householdSize: 1, monthlyIncomeFen: 120000, monthlyRigidExpenseFen: 50000 });
        return { hardshipSelfTest: { category: 'deep', categoryLabel: '深度困难', reasons: ['家庭人均收入低于当地低保标准'], excluded: false, eligible: true, ruleVersion: 'national-2026.1' } };
      },
      HardshipApply: () => {
        ops.push('apply');
        return { hardshipApply: { case: null, errors: [{ field: 'householdId', code: 'DUPLICATE', message: 'the household already has an open archive', messageZh: null }] } };
      },
    });
    renderPortal(<SelfTest />);
    fireEvent.change(await screen.findByLabelText('家庭月收入（元）'), { target: { value: '1200' } });
    fireEvent.change(screen.getByLabelText('月刚性支出（元）'), { target: { value: '500' } });
    fireEvent.click(screen.getByRole('button', { name: /开始自测/ }));
    const result = await screen.findByTestId('self-test-result');
    expect(within(result).getByText('深度困难')).toBeInTheDocument();
    expect(ops).toEqual(['test']);
    fireEvent.click(within(result).getByRole('button', { name: /申请帮扶/ }));
    expect(await screen.findByText('您的家庭已有在办或在档的帮扶档案，请在“我的帮扶”查看进度')).toBeInTheDocument();
    expect(ops).toEqual(['test', 'apply']);
  });

  it('an applied case shows its status and dated steps with a refusal’s reasons', async () => {
    server({
      MyHardshipCases: () => ({
        myHardshipCases: [{ id: 'c1', state: 'rejected', stateLabel: '未通过', category: 'deep', categoryLabel: '深度困难', reasons: [], createdAt: '2026-01-02T03:00:00Z', timeline: [{ actionLabel: '提交申请', stateLabel: '已申请', reasons: [], at: '2026-01-02T03:00:00Z' }, { actionLabel: '不予建档', stateLabel: '未通过', reasons: ['家庭收入核实高于标准'], at: '2026-01-05T03:00:00Z' }], grants: [] }],
      }),
    });
    renderPortal(<MyCases />);
    const card = await screen.findByTestId('my-hardship-case');
    expect(within(card).getAllByText('未通过').length).toBeGreaterThan(0);
    expect(within(card).getByText('理由：家庭收入核实高于标准')).toBeInTheDocument();
  });
});
