import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import dayjs from 'dayjs';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Providers } from '../../router';
import { WithAuth, fakeAuth, mockGraphQL } from '../../test/utils';
import { WorkerContextProvider, type Worker } from '../../portal/worker';
import Campaigns, { campaignInput } from './Campaigns';
import CampaignDetail from './CampaignDetail';
import MyBenefits from './MyBenefits';
import Figures from './Figures';
import { jobPercent } from './Distribution';
import { stepsFor } from './labels';

vi.mock('../../components/charts/BarChart', () => ({ default: ({ title, data }: { title: string; data: { label: string; value: number }[] }) => <div data-testid="bar-chart">{title}：{data.map((d) => `${d.label}=${d.value}`).join(',')}</div> }));
vi.mock('../../components/charts/PieChart', () => ({ default: ({ title }: { title: string }) => <div data-testid="pie-chart">{title}</div> }));

vi.setConfig({ testTimeout: 30_000 });

const READ = ['warmth.read', 'member.read', 'org.read', 'ledger.read'];
const CLERK = [...READ, 'warmth.write'];
const APPROVER = [...READ, 'warmth.approve'];
const ID = 'V2FybXRoQ2FtcGFpZ246MQ==';
const UNIT = 'T3JnVW5pdDox';

function campaign(over: Record<string, unknown> = {}) {
  return {
    id: ID, name: '2026年元旦春节送温暖', kind: 'spring_festival', kindZh: '元旦春节', startsOn: '2026-01-01', endsOn: '2026-02-15',
    fund: 'general', orgUnitId: UNIT, state: 'draft', stateZh: '草稿', version: 1, distributionJobId: null,
    benefits: [{ group: 'holiday_frontline', form: 'cash', amountFen: 50000, item: null, perHousehold: false }],
    budgets: [{ orgUnitId: UNIT, budgetFen: 10000000 }],
    beneficiaries: [],
    ...over,
  };
}

function beneficiary(over: Record<string, unknown> = {}) {
  return {
    id: 'b1', memberId: 'm1', group: 'holiday_frontline', reason: '按条件生成', amountFen: 50000, frozen: true, paid: true,
    paidAt: '2026-01-10T02:00:00Z', itemGiven: null, receiptStatus: 'unconfirmed', receiptMethod: null, receiptAt: null, receiptFileUrl: null, ...over,
  };
}

const COMMON = {
  WarmthOrgUnitName: () => ({ orgUnit: { id: UNIT, name: '百联集团有限公司工会' } }),
  OrgUnitsPage: () => ({ orgUnits: { nodes: [{ id: UNIT, name: '百联集团有限公司工会', code: 'x', level: 'GRASSROOTS', parentId: null, path: '1', active: true, childCount: 0 }], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 1 } }),
  WarmthTargetGroups: () => ({ warmthTargetGroups: [{ code: 'holiday_frontline', labelZh: '节日坚守一线职工', perHousehold: false }, { code: 'hardship_household', labelZh: '困难职工家庭', perHousehold: true }] }),
  Funds: () => ({ funds: [{ id: 'f1', code: 'general', kind: 'GENERAL', name: '工会经费', active: true }] }),
};

type Reply = (variables: Record<string, unknown>) => unknown;

function server(replies: Record<string, Reply>) {
  const all: Record<string, Reply> = { ...COMMON, ...replies };
  const calls: { name: string; variables: Record<string, unknown> }[] = [];
  mockGraphQL(({ query, variables }) => {
    if (!query) return { json: { file: true } }; // an authenticated file download (GET)
    const name = /(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? '';
    const reply = all[name];
    if (!reply) throw new Error(`unexpected operation ${name}`);
    calls.push({ name, variables });
    return { json: { data: reply(variables) } };
  });
  return calls;
}

function renderPage(path: string, pattern: string, element: ReactNode, permissions: string[]) {
  const router = createMemoryRouter(
    [
      { path: pattern, element },
      { path: '/warmth/campaigns/:id', element: <div>详情已打开</div> },
    ],
    { initialEntries: [path] },
  );
  render(
    <Providers>
      <WithAuth value={fakeAuth(permissions)}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
}

const detail = (permissions: string[]) => renderPage(`/warmth/campaigns/${ID}`, '/warmth/campaigns/:id', <CampaignDetail />, permissions);

afterEach(() => vi.unstubAllGlobals());

describe('送温暖活动 list and wizard', () => {
  it('lists campaigns with their state and links to the detail', async () => {
    server({ WarmthCampaigns: () => ({ warmthCampaigns: [campaign({ state: 'approved', stateZh: '已审批' })] }) });
    renderPage('/warmth/campaigns', '/warmth/campaigns', <Campaigns />, CLERK);
    const link = await screen.findByRole('link', { name: '2026年元旦春节送温暖' });
    expect(link).toHaveAttribute('href', `/warmth/campaigns/${ID}`);
    expect(screen.getByText('已审批')).toBeInTheDocument();
    expect(await screen.findByText('百联集团有限公司工会')).toBeInTheDocument();
  });

  it('an auditor has no 新建活动; an empty list says what to do', async () => {
    server({ WarmthCampaigns: () => ({ warmthCampaigns: [] }) });
    renderPage('/warmth/campaigns', '/warmth/campaigns', <Campaigns />, READ);
    expect(await screen.findByText(/暂无活动/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /新建活动/ })).toBeNull();
  });

  it('the wizard checks the first step before any request', async () => {
    const calls = server({ WarmthCampaigns: () => ({ warmthCampaigns: [] }) });
    renderPage('/warmth/campaigns', '/warmth/campaigns', <Campaigns />, CLERK);
    await userEvent.click((await screen.findAllByRole('button', { name: /新建活动/ }))[0]);
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: '下一步' }));
    expect(await within(dialog).findByText('请输入活动名称')).toBeInTheDocument();
    expect(within(dialog).getByText('请选择活动时间'.replace('活动时间', '开始和结束日期'))).toBeInTheDocument();
    expect(calls.some((c) => c.name === 'WarmthCampaignCreate')).toBe(false);
  });

  it('turns the wizard values into the API input, money in fen', () => {
    const input = campaignInput({
      name: ' 春送温暖 ', kind: 'spring_festival', window: [dayjs('2026-01-01'), dayjs('2026-02-15')], orgUnitId: UNIT, fund: 'general',
      benefits: [{ group: 'holiday_frontline', form: 'cash', amountYuan: 500.5 }, { group: 'hardship_household', form: 'in_kind', amountYuan: null, item: ' 米油 ' }],
      budgets: [{ orgUnitId: UNIT, budgetYuan: '100000' }],
    });
    expect(input).toEqual({
      name: '春送温暖', kind: 'spring_festival', startsOn: '2026-01-01', endsOn: '2026-02-15', orgUnitId: UNIT, fund: 'general',
      benefits: [{ group: 'holiday_frontline', form: 'cash', amountFen: 50050, item: null }, { group: 'hardship_household', form: 'in_kind', amountFen: 0, item: '米油' }],
      budgets: [{ orgUnitId: UNIT, budgetFen: 10000000 }],
    });
  });
});

describe('活动详情', () => {
  it('steps follow state and permission', () => {
    const can = (ps: string[]) => (p: string) => ps.includes(p);
    expect(stepsFor('draft', can(CLERK)).map((s) => s.transition)).toEqual(['submit']);
    expect(stepsFor('submitted', can(CLERK))).toEqual([]);
    expect(stepsFor('submitted', can(APPROVER)).map((s) => s.transition)).toEqual(['approve', 'return', 'cancel']);
    expect(stepsFor('approved', can(CLERK)).map((s) => s.transition)).toEqual(['distribute']);
  });

  it('shows INSUFFICIENT_FUNDS and BUDGET_EXCEEDED on approval in Chinese, with the version sent', async () => {
    let refusal = 'INSUFFICIENT_FUNDS';
    const calls = server({
      WarmthCampaign: () => ({ warmthCampaign: campaign({ state: 'submitted', stateZh: '待审批', version: 3 }) }),
      WarmthCampaignStep: () => ({ warmthCampaignStep: { campaign: null, errors: [{ field: null, code: refusal, message: 'refused', messageZh: null }] } }),
    });
    detail(APPROVER);
    await userEvent.click(await screen.findByRole('button', { name: '审批通过' }));
    let dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getAllByRole('button', { name: '审批通过' }).at(-1)!);
    expect(await within(dialog).findByText(/支付经费可用余额不足/)).toBeInTheDocument();
    expect(calls.find((c) => c.name === 'WarmthCampaignStep')?.variables).toMatchObject({ id: ID, transition: 'approve', expectedVersion: 3 });
    refusal = 'BUDGET_EXCEEDED';
    await userEvent.click(within(dialog).getAllByRole('button', { name: '审批通过' }).at(-1)!);
    dialog = await screen.findByRole('dialog');
    expect(await within(dialog).findByText(/超出预算/)).toBeInTheDocument();
  });

  it('a return needs a reason before any request', async () => {
    const calls = server({ WarmthCampaign: () => ({ warmthCampaign: campaign({ state: 'submitted', stateZh: '待审批' }) }) });
    detail(APPROVER);
    await userEvent.click(await screen.findByRole('button', { name: /退\s*回/ }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getAllByRole('button', { name: /退\s*回/ }).at(-1)!);
    expect(await within(dialog).findByText('请填写理由')).toBeInTheDocument();
    expect(calls.some((c) => c.name === 'WarmthCampaignStep')).toBe(false);
  });

  it('previews counts by group and unit with a chart and warns when over budget', async () => {
    server({
      WarmthCampaign: () => ({ warmthCampaign: campaign() }),
      WarmthPreview: () => ({
        warmthPreview: {
          rows: [{ group: 'holiday_frontline', orgUnitId: UNIT, eligible: 12, alreadyCovered: 3, duplicate: 1, recent: 0, notEligible: 2, amountFen: 750000 }],
          totalFen: 750000, budgetFen: 500000, withinBudget: false,
        },
      }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '测算预览' }));
    expect(await screen.findByText(/测算金额 ¥7,500\.00，预算 ¥5,000\.00：超出预算/)).toBeInTheDocument();
    expect(await screen.findByTestId('bar-chart')).toHaveTextContent('节日坚守一线职工=15');
    const row = await screen.findByRole('row', { name: /节日坚守一线职工\s*百联集团有限公司工会/ });
    expect(within(row).getByText('12')).toBeInTheDocument();
    expect(within(row).getByText('7,500.00')).toBeInTheDocument();
  });

  it('builds the list in a draft and removes a person with a reason', async () => {
    const calls = server({
      WarmthCampaign: () => ({ warmthCampaign: campaign({ beneficiaries: [beneficiary({ paid: false, receiptStatus: 'not_given', amountFen: null, frozen: false })] }) }),
      WarmthTargetingBuild: () => ({ warmthTargetingBuild: { added: 5, errors: [] } }),
      WarmthBeneficiaryRemove: () => ({ warmthBeneficiaryRemove: { removed: true, errors: [] } }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '发放名单' }));
    await userEvent.click(await screen.findByRole('button', { name: '按条件生成名单' }));
    expect(await screen.findByText('已加入 5 人')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: /移\s*出/ }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('移出理由'), '已调离本单位');
    await userEvent.click(within(dialog).getAllByRole('button', { name: /移\s*出/ }).at(-1)!);
    await waitFor(() => expect(calls.find((c) => c.name === 'WarmthBeneficiaryRemove')?.variables).toEqual({ campaignId: ID, beneficiaryId: 'b1', reason: '已调离本单位' }));
  });

  it('shows the distribution progress from the job and offers 继续发放 after a failure', async () => {
    let status = 'RUNNING';
    const calls = server({
      WarmthCampaign: () => ({ warmthCampaign: campaign({ state: 'distributing', stateZh: '发放中', distributionJobId: 'j1' }) }),
      Job: () => ({ job: { id: 'j1', name: 'warmth.distribute', status, progress: 40, total: 100, attempts: 1, result: null, errors: null, createdAt: '', updatedAt: '', heartbeatAt: null, retryable: false } }),
      WarmthDistributionResume: () => ({ warmthDistributionResume: { campaign: campaign({ state: 'distributing', stateZh: '发放中', distributionJobId: 'j1' }), errors: [] } }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '发放' }));
    expect(await screen.findByText('发放进度：40 / 100', {}, { timeout: 5000 })).toBeInTheDocument();
    status = 'FAILED';
    const resume = await screen.findByRole('button', { name: '继续发放' }, { timeout: 5000 });
    await userEvent.click(resume);
    await waitFor(() => expect(calls.some((c) => c.name === 'WarmthDistributionResume')).toBe(true));
  });

  it('says which goods ran out when the distribution stopped on the stock', async () => {
    server({
      WarmthCampaign: () => ({ warmthCampaign: campaign({ state: 'distributing', stateZh: '发放中', distributionJobId: 'j1' }) }),
      Job: () => ({ job: { id: 'j1', name: 'warmth.distribute', status: 'FAILED', progress: 3, total: 5, attempts: 1, result: null, errors: [{ code: 'OUT_OF_STOCK', message: 'the stock ran out', messageZh: '慰问品「米面油礼包」库存不足，已发放3/5人；补充库存后可继续发放' }], createdAt: '', updatedAt: '', heartbeatAt: null, retryable: true } }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '发放' }));
    expect(await screen.findByText('慰问品库存不足，发放已暂停', {}, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.getByText(/慰问品「米面油礼包」库存不足，已发放3\/5人/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: '继续发放' })).toBeInTheDocument();
  });

  it('lists the unconfirmed with follow-up notes and records a follow-up', async () => {
    const calls = server({
      WarmthCampaign: () => ({ warmthCampaign: campaign({ state: 'distributed', stateZh: '已发放', beneficiaries: [beneficiary(), beneficiary({ id: 'b2', receiptStatus: 'confirmed' })] }) }),
      WarmthUnconfirmed: () => ({ warmthUnconfirmed: [{ beneficiary: beneficiary(), followups: [{ note: '电话未接通', createdAt: '2026-01-12T02:00:00Z' }] }] }),
      WarmthFollowupAdd: () => ({ warmthFollowupAdd: { followup: { note: '已电话确认', createdAt: '2026-01-13T02:00:00Z' }, errors: [] } }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '签收回执' }));
    expect(await screen.findByTestId('warmth-receipt-summary')).toHaveTextContent('已确认 1 人，待确认 1 人');
    expect(screen.getByText(/电话未接通/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: '记录回访' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('回访情况'), '已电话确认');
    await userEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    await waitFor(() => expect(calls.find((c) => c.name === 'WarmthFollowupAdd')?.variables).toEqual({ beneficiaryId: 'b1', note: '已电话确认' }));
  });

  it('cross-matches a large file as a job and shows its result', async () => {
    let polls = 0;
    const calls = server({
      WarmthCampaign: () => ({ warmthCampaign: campaign() }),
      WarmthCrossMatchStart: () => ({ warmthCrossMatchStart: { jobId: 'j7', errors: [] } }),
      Job: () => ({
        job: {
          id: 'j7', name: 'warmth.crossmatch', status: ++polls > 1 ? 'SUCCEEDED' : 'RUNNING', progress: 0, total: null, attempts: 1,
          result: { line: 'work_injury', rows: 2, matched: 1, new: 1, unmatched: 1, invalid: 0, errors: [], members: [{ memberId: 'm2', orgUnitId: UNIT, onList: false }], missedHouseholds: [] },
          errors: null, createdAt: '', updatedAt: '', heartbeatAt: null, retryable: false,
        },
      }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '十条线比对' }));
    const input = document.querySelector('input[type=file]') as HTMLInputElement;
    const big = new File(['身份证号\n', 'x'.repeat(2 * 1024 * 1024)], 'line.csv', { type: 'text/csv' });
    await userEvent.upload(input, big);
    await userEvent.click(screen.getByRole('button', { name: '开始比对' }));
    expect(await screen.findByTestId('warmth-crossmatch-result', {}, { timeout: 5000 })).toHaveTextContent('未在名单');
    expect(calls.some((c) => c.name === 'WarmthCrossMatch')).toBe(false);
    expect(calls.filter((c) => c.name === 'Job').length).toBeGreaterThanOrEqual(2);
  });

  it('cross-matches an uploaded CSV and lists its bad rows by number', async () => {
    const calls = server({
      WarmthCampaign: () => ({ warmthCampaign: campaign() }),
      WarmthCrossMatch: () => ({
        warmthCrossMatch: {
          result: {
            line: 'civil_affairs_low_income', rows: 3, matched: 1, new: 0, unmatched: 1, invalid: 1,
            errors: [{ row: 3, code: 'INVALID_ID_NUMBER', message: 'bad', messageZh: '身份证号码无效' }],
            members: [{ memberId: 'm1', orgUnitId: UNIT, onList: true }], missedHouseholds: [],
          },
          errors: [],
        },
      }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '十条线比对' }));
    await userEvent.click(await screen.findByRole('button', { name: '开始比对' }));
    expect(await screen.findByText('请选择 CSV 文件')).toBeInTheDocument();
    const input = document.querySelector('input[type=file]') as HTMLInputElement;
    await userEvent.upload(input, new File(['身份证号\n1\n2\n'], 'line.csv', { type: 'text/csv' }));
    await userEvent.click(screen.getByRole('button', { name: '开始比对' }));
    expect(await screen.findByText('第 3 行：身份证号码无效')).toBeInTheDocument();
    const sent = calls.find((c) => c.name === 'WarmthCrossMatch')!.variables;
    expect(sent.line).toBe('civil_affairs_low_income');
    expect(new TextDecoder().decode(Uint8Array.from(atob(String(sent.contentBase64)), (ch) => ch.charCodeAt(0)))).toBe('身份证号\n1\n2\n');
  });

  it('records a receipt photo as base64 of the file', async () => {
    const calls = server({
      WarmthCampaign: () => ({ warmthCampaign: campaign({ state: 'distributed', stateZh: '已发放', beneficiaries: [beneficiary()] }) }),
      WarmthUnconfirmed: () => ({ warmthUnconfirmed: [{ beneficiary: beneficiary(), followups: [] }] }),
      WarmthReceiptRecord: () => ({ warmthReceiptRecord: { beneficiary: beneficiary({ receiptStatus: 'confirmed', receiptMethod: 'photo' }), errors: [] } }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '签收回执' }));
    await userEvent.click(await screen.findByRole('button', { name: '登记签收' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    expect(await within(dialog).findByText('请上传签收凭证')).toBeInTheDocument();
    await userEvent.upload(dialog.querySelector('input[type=file]') as HTMLInputElement, new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'sign.png', { type: 'image/png' }));
    await userEvent.click(within(dialog).getByRole('button', { name: /保\s*存/ }));
    await waitFor(() => expect(calls.find((c) => c.name === 'WarmthReceiptRecord')?.variables).toEqual({ beneficiaryId: 'b1', kind: 'signature', contentBase64: 'iVBORw==' }));
  });

  it('opens a recorded receipt file from the list', async () => {
    const objectUrl = vi.fn(() => 'blob:r');
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: objectUrl, revokeObjectURL: vi.fn() }));
    server({
      WarmthCampaign: () => ({
        warmthCampaign: campaign({
          state: 'distributed', stateZh: '已发放',
          beneficiaries: [beneficiary({ receiptStatus: 'confirmed', receiptMethod: 'photo', receiptFileUrl: '/warmth-files/receipts/7' }), beneficiary({ id: 'b2' })],
        }),
      }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '发放名单' }));
    const buttons = await screen.findAllByRole('button', { name: '查看凭证' });
    expect(buttons).toHaveLength(1);
    await userEvent.click(buttons[0]);
    await waitFor(() => expect(objectUrl).toHaveBeenCalled());
  });

  it('downloads the 台账 once its job succeeded', async () => {
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:x'), revokeObjectURL: vi.fn() }));
    let polls = 0;
    const calls = server({
      WarmthCampaign: () => ({ warmthCampaign: campaign({ state: 'distributed', stateZh: '已发放', distributionJobId: null }) }),
      WarmthStock: () => ({ warmthStock: [] }),
      WarmthLedgerFileStart: () => ({ warmthLedgerFileStart: { jobId: 'j9', downloadUrl: '/warmth-files/j9', errors: [] } }),
      Job: () => ({ job: { id: 'j9', name: 'warmth.ledger_file', status: ++polls > 1 ? 'SUCCEEDED' : 'RUNNING', progress: 1, total: 2, attempts: 1, result: null, errors: null, createdAt: '', updatedAt: '', heartbeatAt: null, retryable: false } }),
    });
    detail(CLERK);
    await userEvent.click(await screen.findByRole('tab', { name: '发放' }));
    await userEvent.click(await screen.findByRole('button', { name: /导出台账/ }));
    expect(await screen.findByText('台账已下载', {}, { timeout: 5000 })).toBeInTheDocument();
    expect(calls.filter((c) => c.name === 'Job').length).toBeGreaterThanOrEqual(2);
  });

  it('job percent is whole and capped', () => {
    expect(jobPercent({ status: 'RUNNING', progress: '1', total: '3' })).toBe(33);
    expect(jobPercent({ status: 'SUCCEEDED', progress: 0, total: 0 })).toBe(100);
    expect(jobPercent(null)).toBe(0);
  });
});

describe('送温暖统计', () => {
  it('shows the national figures of the chosen year', async () => {
    const calls = server({ WarmthNationalFigures: (v) => ({ warmthNationalFigures: v.year === 2025 ? { total: 9, hardship: 4, keyGroups: 3, modelWorkers: 2 } : { total: 0, hardship: 0, keyGroups: 0, modelWorkers: 0 } }) });
    renderPage('/warmth/figures', '/warmth/figures', <Figures />, READ);
    await screen.findByText('慰问总人数');
    const year = screen.getByLabelText('年度');
    await userEvent.clear(year);
    await userEvent.type(year, '2025');
    await waitFor(() => expect(screen.getByTestId('bar-chart')).toHaveTextContent('困难职工=4,重点群体=3,劳动模范=2'));
    expect(calls.some((c) => c.variables.year === 2025)).toBe(true);
  });
});

const WORKER: Worker = { id: 'w1', name: '王小明', idNumberMasked: '310101********1234', phoneMasked: '139****0001', status: 'MEMBER', memberId: 'm1', joinDeadlineWorkingDays: 3, capabilities: ['warmth'], provinceName: '上海市总工会' };

describe('职工之家: 我的慰问', () => {
  it('confirms receipt of the worker’s own benefit, then shows it confirmed', async () => {
    let confirmed = false;
    const calls = server({
      MyWarmthBenefits: () => ({
        myWarmthBenefits: [
          { campaignName: '2026年元旦春节送温暖', beneficiary: beneficiary(confirmed ? { receiptStatus: 'confirmed', receiptMethod: 'portal', receiptAt: '2026-01-11T02:00:00Z' } : {}) },
          { campaignName: '2026年夏送清凉', beneficiary: beneficiary({ id: 'b9', paid: false, paidAt: null, receiptStatus: 'not_given' }) },
        ],
      }),
      WarmthReceiptConfirm: (v) => {
        confirmed = true;
        return { warmthReceiptConfirm: { beneficiary: beneficiary({ id: v.beneficiaryId, receiptStatus: 'confirmed' }), errors: [] } };
      },
    });
    const router = createMemoryRouter([{ path: '/warmth/benefits', element: <MyBenefits /> }], { initialEntries: ['/warmth/benefits'] });
    render(
      <Providers>
        <WorkerContextProvider value={{ worker: WORKER, reload: async () => {} }}>
          <RouterProvider router={router} />
        </WorkerContextProvider>
      </Providers>,
    );
    const cards = await screen.findAllByTestId('my-warmth-benefit');
    expect(within(cards[0]).getByText('¥500.00')).toBeInTheDocument();
    expect(within(cards[1]).getByText('尚未发放，发放后可确认收到')).toBeInTheDocument();
    expect(screen.getAllByRole('button', { name: '确认收到' })).toHaveLength(1);
    await userEvent.click(screen.getByRole('button', { name: '确认收到' }));
    expect(await screen.findByText(/已确认（职工本人确认）/)).toBeInTheDocument();
    expect(calls.find((c) => c.name === 'WarmthReceiptConfirm')?.variables).toEqual({ beneficiaryId: 'b1' });
  });
});
