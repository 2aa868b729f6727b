/** 经费报表: trial balance, fund statement, expenditure structure, grassroots share — tables, charts, XLSX. */
import { lazy, Suspense, useState } from 'react';
import { App, Alert, Button, Card, Col, DatePicker, Form, Row, Statistic, Table, Tabs, Tag } from 'antd';
import { DownloadOutlined, SearchOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { gql } from '../../api/client';
import { describeError } from '../../api/errors';
import { downloadFile } from '../../api/files';
import { usePoll } from '../../api/usePoll';
import { useGql } from '../../api/useGql';
import {
  ExpenditureStructureReportDocument,
  FundStatementReportDocument,
  GrassrootsShareReportDocument,
  JobDocument,
  LedgerReportFileStartDocument,
  TrialBalanceReportDocument,
  type AccountType,
  type LedgerReport,
  type ReportInput,
} from '../../graphql/generated';
import { PageContainer } from '../../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { ACCOUNT_TYPE_LABELS, GRASSROOTS_LEVEL_LABELS } from '../../lib/labels';
import { formatBp, formatFen, toBigInt } from '../../lib/money';
import { Amount, FundSelect } from './shared';

const BarChartView = lazy(() => import('../../components/charts/BarChart'));
const PieChartView = lazy(() => import('../../components/charts/PieChart'));

const yuan = (fen: number | string) => Number(toBigInt(fen)) / 100;

interface FilterForm {
  range: [Dayjs, Dayjs];
  subtreeOf?: string;
  fund?: string;
}

function toInput(v: FilterForm): ReportInput {
  return { dateFrom: v.range[0].format('YYYY-MM-DD'), dateTo: v.range[1].format('YYYY-MM-DD'), subtreeOf: v.subtreeOf ?? null, fund: v.fund ?? null };
}

type ReportFileJob = { id: string; status: string; downloadUrl: string };

/** 导出 Excel: the file is written by a job; poll it, then download it from its audited route. */
export function ExportButton({ report, input }: { report: LedgerReport; input: ReportInput }) {
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const [job, setJob] = useState<ReportFileJob | null>(null);
  const running = !!job && (job.status === 'QUEUED' || job.status === 'RUNNING');

  const finish = async (j: ReportFileJob, result: unknown) => {
    setJob(null);
    if (j.status === 'SUCCEEDED') {
      try {
        const name = await downloadFile(j.downloadUrl, '经费报表.xlsx');
        const rows = (result as { rowCount?: number } | null)?.rowCount;
        message.success(rows === undefined ? `已导出 ${name}` : `已导出 ${name}（${rows} 行）`);
      } catch (e) {
        message.error(`下载失败：${describeError(e)}`);
      }
    } else {
      message.error(j.status === 'INTERRUPTED' ? '导出中断，请重新导出' : '导出失败，请稍后重试');
    }
    setBusy(false);
  };

  usePoll(
    async () => {
      if (!job) return;
      const { job: row } = await gql(JobDocument, { id: job.id });
      if (!row) return;
      const next = { ...job, status: row.status };
      if (next.status === 'QUEUED' || next.status === 'RUNNING') setJob(next);
      else await finish(next, row.result);
    },
    1000,
    running,
  );

  return (
    <Button
      icon={<DownloadOutlined />}
      loading={busy}
      onClick={async () => {
        setBusy(true);
        try {
          const { ledgerReportFileStart: r } = await gql(LedgerReportFileStartDocument, { report, format: 'XLSX', input });
          if (r.errors.length || !r.job || !r.downloadUrl) {
            message.error(`导出失败：${r.errors[0]?.message ?? '未知错误'}`);
            setBusy(false);
            return;
          }
          const started = { id: r.job.id, status: r.job.status, downloadUrl: r.downloadUrl };
          if (started.status === 'QUEUED' || started.status === 'RUNNING') setJob(started);
          else await finish(started, r.job.result);
        } catch (e) {
          message.error(`导出失败：${describeError(e)}`);
          setBusy(false);
        }
      }}
    >
      导出 Excel
    </Button>
  );
}

function TrialBalanceTab({ input }: { input: ReportInput }) {
  const q = useGql(TrialBalanceReportDocument, { input });
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const tb = q.data.trialBalance;
  return (
    <>
      <div className="hj-report-head">
        {tb.balanced ? <Tag color="success">借贷平衡</Tag> : <Tag color="error">借贷不平衡</Tag>}
        <span>
          本期借方 <Amount fen={tb.totalDebitFen} strong /> · 本期贷方 <Amount fen={tb.totalCreditFen} strong />
        </span>
        <ExportButton report="TRIAL_BALANCE" input={input} />
      </div>
      <Table
        size="small"
        rowKey="code"
        pagination={false}
        scroll={{ x: 720 }}
        dataSource={tb.rows}
        locale={{ emptyText: <EmptyState description="该期间没有发生额" /> }}
        columns={[
          { title: '科目', key: 'acct', render: (_, r) => `${r.code} ${r.name}` },
          { title: '类型', dataIndex: 'type', width: 80, render: (t: AccountType) => ACCOUNT_TYPE_LABELS[t] },
          { title: '期初（借+）', dataIndex: 'openingFen', align: 'right', render: (v) => <Amount fen={v} /> },
          { title: '本期借方', dataIndex: 'debitFen', align: 'right', render: (v) => <Amount fen={v} /> },
          { title: '本期贷方', dataIndex: 'creditFen', align: 'right', render: (v) => <Amount fen={v} /> },
          { title: '期末（借+）', dataIndex: 'closingFen', align: 'right', render: (v) => <Amount fen={v} strong /> },
        ]}
      />
    </>
  );
}

function FundStatementTab({ input }: { input: ReportInput }) {
  const q = useGql(FundStatementReportDocument, { input });
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const rows = q.data.fundStatement;
  return (
    <>
      <div className="hj-report-head">
        <span>各组织、各项经费的现金收支（元）</span>
        <ExportButton report="FUND_STATEMENT" input={input} />
      </div>
      <Table
        size="small"
        rowKey={(r) => `${r.orgUnit?.id}:${r.fund?.id}`}
        pagination={false}
        scroll={{ x: 820 }}
        dataSource={rows}
        locale={{ emptyText: <EmptyState description="该期间没有经费收支" /> }}
        columns={[
          { title: '组织', key: 'unit', render: (_, r) => r.orgUnit?.name ?? '—' },
          { title: '经费', key: 'fund', render: (_, r) => r.fund?.name ?? '—' },
          { title: '期初', dataIndex: 'openingCashFen', align: 'right', render: (v) => <Amount fen={v} /> },
          { title: '收入', dataIndex: 'incomeFen', align: 'right', render: (v) => <Amount fen={v} /> },
          { title: '支出', dataIndex: 'expenseFen', align: 'right', render: (v) => <Amount fen={v} /> },
          { title: '调拨等', dataIndex: 'otherCashFen', align: 'right', render: (v) => <Amount fen={v} /> },
          { title: '期末', dataIndex: 'closingCashFen', align: 'right', render: (v) => <Amount fen={v} strong /> },
          { title: '已预留', dataIndex: 'reservedFen', align: 'right', render: (v) => <Amount fen={v} /> },
        ]}
      />
    </>
  );
}

function ExpenditureTab({ input }: { input: ReportInput }) {
  const q = useGql(ExpenditureStructureReportDocument, { input });
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const es = q.data.expenditureStructure;
  const nonZero = es.rows.filter((r) => toBigInt(r.amountFen) !== 0n);
  return (
    <>
      <div className="hj-report-head">
        <span>
          支出合计 <Amount fen={es.totalFen} strong /> 元
        </span>
        <ExportButton report="EXPENDITURE_STRUCTURE" input={input} />
      </div>
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          {nonZero.length === 0 ? (
            <EmptyState description="该期间没有支出" />
          ) : (
            <Suspense fallback={<LoadingState minHeight={300} />}>
              <PieChartView title="支出结构" unit=" 元" data={nonZero.map((r) => ({ label: r.name, value: yuan(r.amountFen) }))} />
            </Suspense>
          )}
        </Col>
        <Col xs={24} lg={12}>
          <Table
            size="small"
            rowKey="code"
            pagination={false}
            dataSource={es.rows}
            columns={[
              { title: '支出类别', key: 'c', render: (_, r) => `${r.code} ${r.name}` },
              { title: '金额（元）', dataIndex: 'amountFen', align: 'right', render: (v) => <Amount fen={v} /> },
              { title: '占比', dataIndex: 'shareBp', align: 'right', render: formatBp },
            ]}
          />
        </Col>
      </Row>
    </>
  );
}

function GrassrootsTab({ input }: { input: ReportInput }) {
  const q = useGql(GrassrootsShareReportDocument, { input });
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const g = q.data.grassrootsShare;
  return (
    <>
      <div className="hj-report-head">
        <span>经费向基层一线倾斜：基层工会支出占全部支出的比例（不含补助下级支出 506）</span>
        <ExportButton report="GRASSROOTS_SHARE" input={input} />
      </div>
      <Row gutter={[16, 16]}>
        <Col xs={24} md={8}>
          <Card size="small">
            <Statistic title="基层支出占比" value={formatBp(g.shareBp)} />
            <Statistic title="基层支出（元）" value={formatFen(g.grassrootsSpendingFen)} style={{ marginTop: 12 }} />
            <Statistic title="全部支出（元）" value={formatFen(g.totalSpendingFen)} style={{ marginTop: 12 }} />
          </Card>
        </Col>
        <Col xs={24} md={16}>
          {g.byLevel.length === 0 || toBigInt(g.totalSpendingFen) === 0n ? (
            <EmptyState description="该期间没有支出" />
          ) : (
            <Suspense fallback={<LoadingState minHeight={280} />}>
              <BarChartView title="各级支出（元）" data={g.byLevel.map((l) => ({ label: GRASSROOTS_LEVEL_LABELS[l.level] ?? l.level, value: yuan(l.spendingFen) }))} />
            </Suspense>
          )}
        </Col>
      </Row>
    </>
  );
}

export default function FundsReports() {
  const [form] = Form.useForm<FilterForm>();
  const initial: FilterForm = { range: [dayjs().startOf('year'), dayjs()] };
  const [input, setInput] = useState<ReportInput>(toInput(initial));
  const [tab, setTab] = useState('trial');
  return (
    <PageContainer title="经费报表" subTitle="按组织（含全部下级）和期间汇总；金额单位：元">
      <Card size="small" className="hj-panel">
        <Form<FilterForm> form={form} layout="inline" className="hj-filter-form" name="report-filter" initialValues={initial} onFinish={(v) => setInput(toInput(v))}>
          <Form.Item label="期间" name="range" rules={[{ required: true, message: '请选择期间' }]}>
            <DatePicker.RangePicker allowClear={false} />
          </Form.Item>
          <Form.Item label="组织（含下级）" name="subtreeOf">
            <OrgUnitPicker placeholder="本人所辖全部组织" />
          </Form.Item>
          <Form.Item label="经费" name="fund">
            <FundSelect />
          </Form.Item>
          <Form.Item>
            <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
              查询
            </Button>
          </Form.Item>
        </Form>
        <Alert type="info" showIcon style={{ marginBottom: 12 }} message={`期间：${input.dateFrom} 至 ${input.dateTo}`} />
        <Tabs
          activeKey={tab}
          onChange={setTab}
          destroyOnHidden
          items={[
            { key: 'trial', label: '试算平衡表', children: <TrialBalanceTab input={input} /> },
            { key: 'statement', label: '经费收支表', children: <FundStatementTab input={input} /> },
            { key: 'structure', label: '支出结构', children: <ExpenditureTab input={input} /> },
            { key: 'grassroots', label: '基层支出占比', children: <GrassrootsTab input={input} /> },
          ]}
        />
      </Card>
    </PageContainer>
  );
}
