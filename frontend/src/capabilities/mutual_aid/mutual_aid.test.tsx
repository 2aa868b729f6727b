import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Providers } from '../../router';
import { WithAuth, fakeAuth, mockGraphQL } from '../../test/utils';
import { WorkerContextProvider, type Worker } from '../../portal/worker';
import MutualAidPlans from './Plans';
import MutualAidClaimDetail from './ClaimDetail';
import MutualAidCoverLookup from './Cover';
import MutualAidSettlement, { SettlementReport } from './Settlement';
import MyCover from './MyCover';
import MutualAidPayouts from './Payouts';
import MutualAidEnrol, { RatioCheck, TemplateEnrol } from './Enrol';
import MutualAidClaims from './Claims';
import { StaysReport } from './Stays';
import { ratioBp, requiredRatioBp, type Plan } from './shared';

vi.mock('../../components/charts/BarChart', () => ({ default: ({ title }: { title: string }) => <div data-testid="bar-chart">{title}</div> }));
vi.mock('../../components/charts/PieChart', () => ({ default: ({ title }: { title: string }) => <div data-testid="pie-chart">{title}</div> }));

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const READ = ['mutual_aid.read', 'member.read', 'org.read'];
const CLERK = [...READ, 'mutual_aid.enrol', 'mutual_aid.claim', 'mutual_aid.check'];
const APPROVER = [...READ, 'mutual_aid.check', 'mutual_aid.approve', 'mutual_aid.import'];
const FINANCE = [...READ, 'mutual_aid.pay', 'mutual_aid.premium', 'mutual_aid.settle'];

const PLAN: Plan = {
  code: 'shanghai_class_b', nameZh: '会员专享基本保障（B类·重大病）', fund: 'mutual_aid.shanghai_class_b', premiumPerShareFen: 2400,
  payers: [{ level: 'district', amountFen: 1200 }, { level: 'city', amountFen: 1200 }], maxShares: 1, equalShares: true,
  termKind: 'calendar_year', termNumber: null, termStartsOn: null, termEndsOn: null, coverAfterDays: 90, claimWithinDays: 30,
  claimDeadline: null, capPerCaseFen: 1000000, capPerYearFen: null, capPerTermFen: 2000000, excludes: [],
  claimKinds: [{ code: 'serious_illness', label: '重大疾病' }], groupOnly: true, minRatioBp: 8000,
  minRatioByUnitKind: [{ unitKind: 'government', minRatioBp: 10000 }], smallUnitStaff: 10, smallUnitRatioBp: 10000,
  newHireDays: null, retireesExcluded: true, disabilityGradingDay: null, disabilityKinds: [],
};

const CLAIM = {
  id: 'TXV0dWFsQWlkQ2xhaW06MQ==', planCode: PLAN.code, kind: 'serious_illness', state: 'checked', stateLabel: '已核查', version: 2, source: 'unit',
  memberId: 'm1', orgUnitId: 'o1', enrolmentId: 'e1', termStart: '2026-01-01', eventDate: '2026-11-20', admittedOn: null, dischargedOn: null,
  hospitalMasked: '瑞金**', coveredCostFen: 0, ownCostFen: 0, tier: null, caseRef: '', amountFen: 1000000, cappedBy: '每次给付上限',
  breakdown: [{ label: '重大疾病一次性补助', amountFen: 1000000, note: '每份10,000元' }],
  gradedOn: null, treatmentEndedOn: null,
  documents: [{ id: 'd1', kind: 'diagnosis', filename: '诊断.pdf', contentType: 'application/pdf', size: 2048, downloadUrl: '/mutual_aid/documents/1' }], createdAt: '2026-11-21T03:00:00Z',
  timeline: [
    { seq: 1, action: 'submit', actionLabel: '受理', fromState: null, toState: 'entered', stateLabel: '已受理', actorName: '李办事员', reasons: [], at: '2026-11-21T03:00:00Z' },
    { seq: 2, action: 'check', actionLabel: '核查', fromState: 'entered', toState: 'checked', stateLabel: '已核查', actorName: '王核查', reasons: [], at: '2026-11-22T02:30:00Z' },
  ],
};

/** Serve file routes (documents, the template) beside the GraphQL mock, recording what was fetched and with which token. */
function serveFiles(fn: ReturnType<typeof mockGraphQL>, prefix: string, fetched: { url: string; auth: boolean }[], status = 200) {
  const graphql = fn.getMockImplementation()!;
  fn.mockImplementation(async (url: string | URL | Request, init?: RequestInit) => {
    if (String(url).startsWith(prefix)) {
      fetched.push({ url: String(url), auth: !!(init?.headers as Record<string, string> | undefined)?.Authorization });
      return status === 200
        ? new Response(new Blob(['%PDF-1.4']), { status, headers: { 'Content-Type': 'application/octet-stream' } })
        : new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'document not found' } }), { status, headers: { 'Content-Type': 'application/json' } });
    }
    return graphql(url, init);
  });
  vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:x'), revokeObjectURL: vi.fn() }));
}

const COVER = {
  memberId: 'm1', nameMasked: '张*', idNumberMasked: '310101********0011',
  covers: [{ planCode: PLAN.code, planName: PLAN.nameZh, enrolmentId: 'e1', shares: 1, coverFrom: '2026-04-01', coverTo: '2026-12-31', active: true, paidInTermFen: 500000, paidInYearFen: 500000, termLeftFen: 1500000, yearLeftFen: null, capPerCaseFen: 1000000 }],
};

type Reply = (variables: Record<string, unknown>) => unknown;

function server(replies: Record<string, Reply>) {
  return mockGraphQL(({ query, variables }) => {
    const name = /(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? '';
    const reply = replies[name];
    if (!reply) throw new Error(`unexpected operation ${name}`);
    const data = reply(variables);
    return data instanceof Error ? { json: { data: null, errors: [{ message: data.message, extensions: { code: 'NOT_FOUND' } }] } } : { json: { data } };
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

describe('pure rules', () => {
  it('takes the small-unit ratio at or below its size, else the unit kind’s, else the plan’s', () => {
    expect(requiredRatioBp(PLAN, 'OTHER', 10)).toBe(10000);
    expect(requiredRatioBp(PLAN, 'GOVERNMENT', 50)).toBe(10000);
    expect(requiredRatioBp(PLAN, 'OTHER', 50)).toBe(8000);
    // rounded down, so 79.99% never shows as meeting 80%
    expect(ratioBp(3999, 5000)).toBe(7998);
    expect(ratioBp(1, 0)).toBe(0);
  });
});

describe('互助保障 staff screens', () => {
  it('shows each plan’s rules in plain words', async () => {
    server({ MutualAidPlans: () => ({ mutualAidPlans: [PLAN] }) });
    renderPage('/mutual-aid/plans', '/mutual-aid/plans', <MutualAidPlans />, READ);
    const card = await screen.findByTestId('mutual-aid-plan');
    expect(within(card).getByText(PLAN.nameZh)).toBeInTheDocument();
    expect(within(card).getByText(/区县级承担¥12\.00，市级承担¥12\.00/)).toBeInTheDocument();
    expect(within(card).getByText('参保后第 90 天起生效（等待期）')).toBeInTheDocument();
    expect(within(card).getByText(/最低 80%；机关 100%；10 人及以下的单位 100%/)).toBeInTheDocument();
    expect(within(card).getByText(/每次 ¥10,000\.00；每年 不设上限；每期 ¥20,000\.00/)).toBeInTheDocument();
    expect(within(card).getByText('重大疾病')).toBeInTheDocument();
  });

  it('shows the enrolment ratio against the minimum as members are chosen', () => {
    const { rerender } = render(<RatioCheck eligible={20} chosen={15} requiredBp={8000} shares={1} maxShares={1} />);
    expect(screen.getByText('75%')).toBeInTheDocument();
    expect(screen.getByText('未达到最低参保比例，还需至少 1 人')).toBeInTheDocument();
    rerender(<RatioCheck eligible={20} chosen={16} requiredBp={8000} shares={1} maxShares={1} />);
    expect(screen.getByText('已达到最低参保比例')).toBeInTheDocument();
  });

  it('a claim shows its itemised benefit, the caps, and only the steps the role allows', async () => {
    const steps: unknown[] = [];
    server({
      MutualAidPlans: () => ({ mutualAidPlans: [PLAN] }),
      MutualAidClaim: () => ({ mutualAidClaim: CLAIM }),
      MutualAidClaimStep: (v) => {
        steps.push(v);
        return { mutualAidClaimStep: { claim: null, errors: [{ field: 'id', code: 'SELF_APPROVAL', message: 'the person who entered a claim cannot approve it', messageZh: null }] } };
      },
    });
    renderPage(`/mutual-aid/claims/${CLAIM.id}`, '/mutual-aid/claims/:id', <MutualAidClaimDetail />, APPROVER);
    expect(await screen.findByText('重大疾病一次性补助')).toBeInTheDocument();
    expect(screen.getByTestId('claim-amount')).toHaveTextContent('¥10,000.00');
    expect(screen.getByText('受限额约束：每次给付上限')).toBeInTheDocument();
    expect(await screen.findByText(/¥10,000.00（本次已用 ¥10,000.00，余 ¥0.00）/)).toBeInTheDocument();
    expect(screen.getByText(/诊断证明：诊断.pdf/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^给\s*付$/ })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: /审\s*批/ }));
    expect(await screen.findByText('录入人不能审批自己录入的申请')).toBeInTheDocument();
    expect(steps).toEqual([{ id: CLAIM.id, action: 'APPROVE', expectedVersion: 2 }]);
  });

  it('a clerk sees no approval on a checked claim, only checking steps', async () => {
    server({ MutualAidPlans: () => ({ mutualAidPlans: [PLAN] }), MutualAidClaim: () => ({ mutualAidClaim: CLAIM }) });
    renderPage(`/mutual-aid/claims/${CLAIM.id}`, '/mutual-aid/claims/:id', <MutualAidClaimDetail />, CLERK);
    expect(await screen.findByText('重大疾病一次性补助')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /审\s*批/ })).toBeNull();
    expect(screen.getByRole('button', { name: '不予给付' })).toBeInTheDocument();
  });

  it('finance pays an approved claim and the page shows it paid', async () => {
    let state = 'approved';
    const steps: unknown[] = [];
    server({
      MutualAidPlans: () => ({ mutualAidPlans: [PLAN] }),
      MutualAidClaim: () => ({ mutualAidClaim: { ...CLAIM, state, stateLabel: state === 'paid' ? '已给付' : '已审批', version: 3 } }),
      MutualAidClaimStep: (v) => {
        steps.push(v);
        state = 'paid';
        return { mutualAidClaimStep: { claim: { ...CLAIM, state, stateLabel: '已给付' }, errors: [] } };
      },
    });
    renderPage(`/mutual-aid/claims/${CLAIM.id}`, '/mutual-aid/claims/:id', <MutualAidClaimDetail />, FINANCE);
    fireEvent.click(await screen.findByRole('button', { name: /^给\s*付$/ }));
    await waitFor(() => expect(screen.queryByRole('button', { name: /^给\s*付$/ })).toBeNull());
    expect(steps).toEqual([{ id: CLAIM.id, action: 'PAY', expectedVersion: 3 }]);
    expect(screen.getAllByText('已给付').length).toBeGreaterThan(0);
  });

  it('payouts open on the approved claims, with no claim entry', async () => {
    const asked: unknown[] = [];
    server({
      MutualAidPlans: () => ({ mutualAidPlans: [PLAN] }),
      MutualAidClaims: (v) => {
        asked.push(v.filter);
        return { mutualAidClaims: { totalCount: 1, nodes: [{ ...CLAIM, state: 'approved', stateLabel: '已审批' }], pageInfo: { hasNextPage: false, endCursor: null } } };
      },
    });
    renderPage('/mutual-aid/payouts', '/mutual-aid/payouts', <MutualAidPayouts />, FINANCE);
    expect(await screen.findByRole('link', { name: '重大疾病' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 1, name: '给付管理' })).toBeInTheDocument();
    expect(asked[0]).toEqual({ state: 'APPROVED' });
    expect(screen.queryByRole('button', { name: /录入申请/ })).toBeNull();
  });

  it('looks up cover by ID number, masked, and says so in Chinese when there is no such member', async () => {
    server({ MutualAidCover: (v) => (v.idNumber === '310101198001010011' ? { mutualAidCover: COVER } : new Error('no member with this ID number')) });
    renderPage('/mutual-aid/cover', '/mutual-aid/cover', <MutualAidCoverLookup />, READ);
    const input = await screen.findByLabelText('身份证号码');
    fireEvent.change(input, { target: { value: '12345' } });
    fireEvent.click(screen.getByRole('button', { name: /查询/ }));
    expect(await screen.findByText('请输入18位身份证号码')).toBeInTheDocument();
    fireEvent.change(input, { target: { value: '310101198001010011' } });
    fireEvent.click(screen.getByRole('button', { name: /查询/ }));
    const cover = await screen.findByTestId('mutual-aid-cover');
    expect(screen.getByText('310101********0011')).toBeInTheDocument();
    expect(within(cover).getByText('¥15,000.00')).toBeInTheDocument();
    fireEvent.change(input, { target: { value: '310101198001010022' } });
    fireEvent.click(screen.getByRole('button', { name: /查询/ }));
    expect(await screen.findByText('未找到该身份证号码的会员')).toBeInTheDocument();
  });

  it('reports a stay file’s result with the unmatched rows by number and reason', () => {
    render(
      <StaysReport
        result={{ rows: 5, created: 2, amount_fen: 240000, already_claimed: 1, unmatched: 2, unmatched_by_reason: { NOT_A_MEMBER: 1, WAITING_PERIOD: 1 }, unmatched_rows: [{ row: 3, reason: 'NOT_A_MEMBER' }, { row: 5, reason: 'WAITING_PERIOD' }] }}
      />,
    );
    expect(screen.getByText('2 件')).toBeInTheDocument();
    expect(screen.getByText('¥2,400.00')).toBeInTheDocument();
    expect(screen.getByText('查无此会员 1 行；尚在等待期 1 行')).toBeInTheDocument();
    expect(screen.getAllByText('查无此会员').length).toBe(1);
    expect(screen.getByText('3')).toBeInTheDocument();
  });

  it('settlement shows totals, the claims ratio and charts by unit and level', async () => {
    const report = {
      planCode: PLAN.code, termStart: '2026-01-01', claimDeadline: '2027-03-31', premiumsFen: 2400000, claimsFen: 1800000, ratioBp: 7500,
      units: [{ orgUnitId: 'o1', name: '某某公司工会', level: 'grassroots', premiumsFen: 2400000, claimsFen: 1800000, paidFen: 1000000, claims: 3, ratioBp: 7500 }],
      payerLevels: [{ level: 'district', premiumsFen: 1200000, claimsFen: 0, ratioBp: null }], unitLevels: [{ level: 'grassroots', premiumsFen: 2400000, claimsFen: 1800000, ratioBp: 7500 }],
      closed: false, surplusFen: null, surplusMovedTo: null,
    };
    render(<SettlementReport report={report} />);
    expect(screen.getAllByText('75%').length).toBeGreaterThan(0);
    expect(await screen.findAllByTestId('bar-chart')).toHaveLength(2);
    expect(screen.getByTestId('pie-chart')).toHaveTextContent('会费来源');
    expect(screen.getByText('某某公司工会')).toBeInTheDocument();
  });

  it('the settlement page asks for a plan and offers no closing to a clerk', async () => {
    server({ MutualAidPlans: () => ({ mutualAidPlans: [PLAN] }) });
    renderPage('/mutual-aid/settlement', '/mutual-aid/settlement', <MutualAidSettlement />, CLERK);
    expect(await screen.findByText('请选择计划')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: '结算关闭' })).toBeNull();
  });
});

const WORKER: Worker = { id: 'w1', name: '王小明', idNumberMasked: '310101********1234', phoneMasked: '139****0001', status: 'MEMBER', memberId: 'm1', joinDeadlineWorkingDays: 3, capabilities: ['mutual_aid'], provinceName: '上海市总工会' };

describe('职工之家: 我的互助保障', () => {
  it('shows my cover with what is left and my claims with where they stand', async () => {
    server({
      MutualAidMyPortal: () => ({
        mutualAidMyCover: COVER,
        mutualAidMyPlans: [{ code: PLAN.code, nameZh: PLAN.nameZh, claimKinds: PLAN.claimKinds }],
        mutualAidMyClaims: [{ ...CLAIM, state: 'paid', stateLabel: '已给付' }],
      }),
    });
    const router = createMemoryRouter([{ path: '/mutual-aid/cover', element: <MyCover /> }], { initialEntries: ['/mutual-aid/cover'] });
    render(
      <Providers>
        <WorkerContextProvider value={{ worker: WORKER, reload: async () => {} }}>
          <RouterProvider router={router} />
        </WorkerContextProvider>
      </Providers>,
    );
    const cover = await screen.findByTestId('mutual-aid-cover');
    expect(within(cover).getByText('保障中')).toBeInTheDocument();
    expect(within(cover).getByText('¥15,000.00')).toBeInTheDocument();
    const claim = screen.getByTestId('my-mutual-aid-claim');
    expect(within(claim).getAllByText('已给付').length).toBeGreaterThan(0);
    expect(within(claim).getByText('¥10,000.00')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: '申请互助金' }));
    fireEvent.click(await screen.findByRole('button', { name: '提交申请' }));
    await waitFor(() => expect(screen.getByText('请上传至少一份材料')).toBeInTheDocument());
  });
});

const XLSX = () => new File([new Uint8Array([0x50, 0x4b, 0x03, 0x04])], '名单.xlsx', { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
const uploadInput = (root: HTMLElement) => root.querySelector('input[type="file"]') as HTMLInputElement;

describe('互助保障: enrolment from the template and new hires', () => {
  it('downloads the plan’s template and lists an upload’s refusals by row, enrolling nothing', async () => {
    const sent: Record<string, unknown>[] = [];
    const fn = server({
      MutualAidEnrolFromTemplate: (v) => {
        sent.push(v.input as Record<string, unknown>);
        return {
          mutualAidEnrolFromTemplate: {
            enrolments: [],
            errors: [
              { field: 'content', code: 'INVALID_INPUT', message: 'row 3: invalid ID number', messageZh: '第3行：身份证号码无效', extensions: { row: 3 } },
              { field: 'content', code: 'NOT_ELIGIBLE', message: 'row 5: not of this unit', messageZh: '第5行：不是本单位会员', extensions: { row: 5 } },
              { field: 'memberIds', code: 'NOT_ELIGIBLE', message: 'enrolment refused', messageZh: '参保人数未达到最低比例（80%）', extensions: null },
            ],
          },
        };
      },
    });
    const fetched: { url: string; auth: boolean }[] = [];
    serveFiles(fn, '/mutual_aid/enrolment-template/', fetched);
    const enrolled = vi.fn();
    render(
      <Providers>
        <TemplateEnrol plan={PLAN} unitId="o1" unitKind="OTHER" onEnrolled={enrolled} />
      </Providers>,
    );
    await userEvent.click(screen.getByRole('button', { name: /下载模板/ }));
    await waitFor(() => expect(fetched.map((f) => f.url)).toEqual(['/mutual_aid/enrolment-template/shanghai_class_b']));
    fireEvent.change(uploadInput(screen.getByTestId('enrol-template')), { target: { files: [XLSX()] } });
    const table = await screen.findByTestId('template-refusals');
    const rows = within(table).getAllByRole('row').slice(1).map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent));
    expect(rows).toEqual([['3', '身份证号码无效'], ['5', '不是本单位会员'], ['—', '参保人数未达到最低比例（80%）']]);
    expect(screen.getByText(/未予办理：共 3 处问题/)).toBeInTheDocument();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ plan: PLAN.code, orgUnitId: 'o1', unitKind: 'OTHER', contentBase64: 'UEsDBA==' });
    expect(enrolled).not.toHaveBeenCalled();
  });

  it('a clean upload enrols the list and refreshes the enrolments', async () => {
    server({
      MutualAidEnrolFromTemplate: () => ({
        mutualAidEnrolFromTemplate: { enrolments: [{ id: 'e1', planCode: PLAN.code, memberId: 'm1', orgUnitId: 'o1', shares: 1, coverFrom: '2026-04-01', coverTo: '2026-12-31', premiumFen: 2400 }], errors: [] },
      }),
    });
    const enrolled = vi.fn();
    render(
      <Providers>
        <TemplateEnrol plan={PLAN} unitId="o1" unitKind="OTHER" onEnrolled={enrolled} />
      </Providers>,
    );
    fireEvent.change(uploadInput(screen.getByTestId('enrol-template')), { target: { files: [XLSX()] } });
    await waitFor(() => expect(enrolled).toHaveBeenCalledWith(1));
    expect(await screen.findByText('已按名单为 1 名会员办理参保')).toBeInTheDocument();
    expect(screen.queryByTestId('template-refusals')).toBeNull();
  });

  const UNITS = { orgUnits: { totalCount: 1, nodes: [{ id: 'T3JnVW5pdDox', name: '某某公司工会', code: 'u1', level: 'GRASSROOTS', path: '1', active: true, childCount: 0, parent: null }], pageInfo: { hasNextPage: false, endCursor: null } } };
  const NEW_HIRE = [{ id: btoa('Member:7'), name: '赵新人', idNumberMasked: '310101********0077', age: 30, stateLabel: '在册' }];

  /** The enrolment page with the unit enrolled under a plan with a new-hire rule, its cover ending on coverTo. */
  async function enrolPage(coverTo: string, enrol: Reply = () => ({ mutualAidEnrol: { enrolments: [], errors: [] } })) {
    server({
      MutualAidPlans: () => ({ mutualAidPlans: [{ ...PLAN, newHireDays: 30 }] }),
      OrgUnitsPage: () => UNITS,
      MutualAidUnitMembers: () => ({ members: { totalCount: 1, nodes: NEW_HIRE, pageInfo: { hasNextPage: false, endCursor: null } } }),
      MutualAidEnrolments: (v) => {
        const enrolled = v.plan && v.orgUnitId;
        return { mutualAidEnrolments: { totalCount: enrolled ? 1 : 0, nodes: enrolled ? [{ id: 'e1', planCode: PLAN.code, memberId: 'm1', orgUnitId: 'T3JnVW5pdDox', shares: 1, coverFrom: '2000-04-01', coverTo, premiumFen: 2400 }] : [], pageInfo: { hasNextPage: false, endCursor: null } } };
      },
      MutualAidEnrol: enrol,
    });
    renderPage('/mutual-aid/enrol', '/mutual-aid/enrol', <MutualAidEnrol />, CLERK);
    const pick = async (label: string, text: string | null, option: string) => {
      const box = await screen.findByRole('combobox', { name: label });
      if (text) await userEvent.type(box, text);
      else await userEvent.click(box);
      await userEvent.click(await waitFor(() => {
        const o = Array.from(document.querySelectorAll('.ant-select-item-option')).find((x) => x.textContent?.includes(option));
        expect(o).toBeDefined();
        return o as HTMLElement;
      }));
    };
    await pick('保障计划', null, PLAN.nameZh);
    await pick('参保单位', '某某', '某某公司工会');
  }

  it('an enrolled unit adds new hires without the ratio check, and shows the refusal outside the window by name', async () => {
    const asked: unknown[] = [];
    // a cover that runs to the end of next year is the current term's, whatever today is
    await enrolPage(`${new Date().getFullYear() + 1}-12-31`, (v) => {
      asked.push(v.input);
      return { mutualAidEnrol: { enrolments: [], errors: [{ field: 'memberIds', code: 'NOT_ELIGIBLE', message: 'enrolment refused for member 7', messageZh: '已超过入职后30天的补充参保期限（2026-09-01入职）', extensions: { memberId: 7 } }] } };
    });
    expect(await screen.findByTestId('new-hire-mode')).toHaveTextContent('入职不超过 30 天');
    expect(screen.queryByTestId('ratio-check')).toBeNull();
    const row = (await screen.findByText('赵新人')).closest('tr') as HTMLElement;
    await userEvent.click(within(row).getByRole('checkbox'));
    await userEvent.click(screen.getByRole('button', { name: /补充参保（1 人）/ }));
    expect(await screen.findByText('赵新人：已超过入职后30天的补充参保期限（2026-09-01入职）')).toBeInTheDocument();
    expect(asked).toMatchObject([{ plan: PLAN.code, orgUnitId: 'T3JnVW5pdDox', memberIds: [btoa('Member:7')] }]);
  });

  it('a unit enrolled only in a past term enrols afresh, with the ratio check', async () => {
    await enrolPage('2000-12-31');
    expect(await screen.findByTestId('ratio-check')).toBeInTheDocument();
    expect(screen.queryByTestId('new-hire-mode')).toBeNull();
    expect(await screen.findByText('赵新人')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /办理参保（0 人）/ })).toBeDisabled();
  });
});

describe('互助保障: the claim’s timeline, documents and the day-180 rule', () => {
  it('shows the dated steps with who took them and downloads a document with the bearer route', async () => {
    const fn = server({ MutualAidPlans: () => ({ mutualAidPlans: [PLAN] }), MutualAidClaim: () => ({ mutualAidClaim: CLAIM }) });
    const fetched: { url: string; auth: boolean }[] = [];
    serveFiles(fn, '/mutual_aid/documents/', fetched);
    renderPage(`/mutual-aid/claims/${CLAIM.id}`, '/mutual-aid/claims/:id', <MutualAidClaimDetail />, CLERK);
    const timeline = await screen.findByTestId('claim-timeline');
    expect(within(timeline).getByText(/李办事员/)).toBeInTheDocument();
    expect(within(timeline).getByText(/王核查/)).toBeInTheDocument();
    expect(within(timeline).getAllByRole('listitem')).toHaveLength(2);
    await userEvent.click(screen.getByRole('button', { name: '下载 诊断.pdf' }));
    await waitFor(() => expect(fetched.map((f) => f.url)).toEqual(['/mutual_aid/documents/1']));
  });

  it('says so when a document cannot be downloaded, and a claim with no steps yet says that', async () => {
    const fn = server({ MutualAidPlans: () => ({ mutualAidPlans: [PLAN] }), MutualAidClaim: () => ({ mutualAidClaim: { ...CLAIM, timeline: [] } }) });
    serveFiles(fn, '/mutual_aid/documents/', [], 404);
    renderPage(`/mutual-aid/claims/${CLAIM.id}`, '/mutual-aid/claims/:id', <MutualAidClaimDetail />, CLERK);
    expect(await screen.findByText('暂无办理记录')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: '下载 诊断.pdf' }));
    expect(await screen.findByText(/^下载失败：/)).toBeInTheDocument();
  });

  it('the staff claim form asks for the grading dates of a disability and puts the grading refusal beside them', async () => {
    const plan = { ...PLAN, claimKinds: [{ code: 'serious_illness', label: '重大疾病' }, { code: 'accidental_death_disability', label: '意外身故或全残' }], disabilityGradingDay: 180, disabilityKinds: ['accidental_death_disability'] };
    const submitted: Record<string, unknown>[] = [];
    server({
      MutualAidPlans: () => ({ mutualAidPlans: [plan] }),
      MutualAidClaims: () => ({ mutualAidClaims: { totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } }),
      MutualAidCover: () => ({ mutualAidCover: COVER }),
      MutualAidClaimSubmit: (v) => {
        submitted.push(v.input as Record<string, unknown>);
        return { mutualAidClaimSubmit: { claim: null, errors: [{ field: 'eventDate', code: 'NOT_ELIGIBLE', message: 'claim refused: grading', messageZh: '治疗未终结的，伤残在事故后第180天（2026-11-28）评定，此前的评定不予受理', extensions: { reason: 'GRADING' } }] } };
      },
    });
    renderPage('/mutual-aid/claims', '/mutual-aid/claims', <MutualAidClaims />, CLERK);
    await userEvent.click(await screen.findByRole('button', { name: /录入申请/ }));
    const dialog = await screen.findByRole('dialog');
    const choose = async (label: string, option: string) => {
      await userEvent.click(within(dialog).getByRole('combobox', { name: label }));
      await userEvent.click(await waitFor(() => {
        const o = Array.from(document.querySelectorAll('.ant-select-item-option')).filter((x) => x.textContent === option).pop();
        expect(o).toBeDefined();
        return o as HTMLElement;
      }));
    };
    await choose('保障计划', plan.nameZh);
    await choose('给付项目', '重大疾病');
    expect(within(dialog).queryByLabelText('伤残评定日期')).toBeNull();
    await choose('给付项目', '意外身故或全残');
    const setDate = async (label: string, value: string) => {
      const input = within(dialog).getByLabelText(label);
      await userEvent.click(input);
      await userEvent.type(input, `${value}{enter}`);
    };
    await setDate('事故（发病）日期', '2026-06-01');
    await setDate('伤残评定日期', '2026-10-01');
    fireEvent.change(within(dialog).getByLabelText('会员身份证号码'), { target: { value: '310101198001010011' } });
    fireEvent.change(uploadInput(dialog), { target: { files: [new File(['%PDF-1.4'], '鉴定.pdf', { type: 'application/pdf' })] } });
    await userEvent.click(within(dialog).getByRole('button', { name: /提\s*交/ }));
    const grading = within(dialog).getByLabelText('伤残评定日期').closest('.ant-form-item') as HTMLElement;
    expect(await within(grading).findByText(/伤残在事故后第180天（2026-11-28）评定/)).toBeInTheDocument();
    expect(submitted).toHaveLength(1);
    expect(submitted[0]).toMatchObject({ kind: 'accidental_death_disability', eventDate: '2026-06-01', gradedOn: '2026-10-01', treatmentEndedOn: null });
  });
});

/** The open dropdown's option with this text, once it is there. */
const selectOption = (text: string) =>
  waitFor(() => {
    const o = Array.from(document.querySelectorAll('.ant-select-item-option')).filter((x) => x.textContent === text).pop();
    expect(o).toBeDefined();
    return o as HTMLElement;
  });

describe('职工之家: my claim’s steps, documents and grading dates', () => {
  it('shows my claim’s dated steps, lets me download my document, and asks for grading dates on a disability', async () => {
    const plan = { code: PLAN.code, nameZh: PLAN.nameZh, claimKinds: [{ code: 'accidental_death_disability', label: '意外身故或全残' }], disabilityGradingDay: 180, disabilityKinds: ['accidental_death_disability'] };
    const fn = server({
      MutualAidMyPortal: () => ({ mutualAidMyCover: COVER, mutualAidMyPlans: [plan], mutualAidMyClaims: [{ ...CLAIM, kind: 'accidental_death_disability' }] }),
    });
    const fetched: { url: string; auth: boolean }[] = [];
    serveFiles(fn, '/mutual_aid/documents/', fetched);
    const router = createMemoryRouter([{ path: '/mutual-aid/cover', element: <MyCover /> }], { initialEntries: ['/mutual-aid/cover'] });
    render(
      <Providers>
        <WorkerContextProvider value={{ worker: WORKER, reload: async () => {} }}>
          <RouterProvider router={router} />
        </WorkerContextProvider>
      </Providers>,
    );
    const claim = await screen.findByTestId('my-mutual-aid-claim');
    expect(within(within(claim).getByTestId('claim-timeline')).getByText(/王核查/)).toBeInTheDocument();
    await userEvent.click(within(claim).getByRole('button', { name: '下载 诊断.pdf' }));
    await waitFor(() => expect(fetched.map((f) => f.url)).toEqual(['/mutual_aid/documents/1']));
    await userEvent.click(screen.getByRole('button', { name: '申请互助金' }));
    const drawer = await screen.findByRole('dialog');
    expect(within(drawer).queryByLabelText('伤残评定日期')).toBeNull();
    await userEvent.click(within(drawer).getByRole('combobox', { name: '保障计划' }));
    await userEvent.click(await selectOption(PLAN.nameZh));
    await userEvent.click(within(drawer).getByRole('combobox', { name: '给付项目' }));
    await userEvent.click(await selectOption('意外身故或全残'));
    expect(await within(drawer).findByLabelText('伤残评定日期')).toBeInTheDocument();
    expect(within(drawer).getByLabelText('治疗终结日期')).toBeInTheDocument();
  });
});
