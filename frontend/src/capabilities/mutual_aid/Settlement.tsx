/**
 * 年度结算: a plan's term — premiums, claims and claims ratio by unit and level, with charts — and,
 * for finance after the hard claim deadline, closing the term (the surplus moves where the province says).
 */
import { lazy, Suspense, useState } from 'react';
import { Alert, App, Button, Card, Col, DatePicker, Form, Popconfirm, Row, Select, Statistic, Table, Tag } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { gql } from '../../api/client';
import { describeError } from '../../api/errors';
import { useGql } from '../../api/useGql';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { MutualAidSettleDocument, MutualAidSettlementDocument, type MutualAidSettlementFieldsFragment } from '../../graphql/generated';
import { formatDate } from '../../lib/format';
import { formatYuan, toBigInt } from '../../lib/money';
import { LEVEL_LABELS, pct } from './labels';
import { planOptions, usePlans, type Plan, errorText } from './shared';

const BarChartView = lazy(() => import('../../components/charts/BarChart'));
const PieChartView = lazy(() => import('../../components/charts/PieChart'));

const yuan = (fen: number | string) => Number(toBigInt(fen)) / 100;

export function defaultTermStart(plan: Plan | undefined, today = dayjs()): string {
  if (plan?.termStartsOn) return plan.termStartsOn;
  return `${today.year()}-01-01`;
}

export function SettlementReport({ report: r }: { report: MutualAidSettlementFieldsFragment }) {
  const levelLabel = (l: string) => LEVEL_LABELS[l] ?? l;
  return (
    <>
      <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
        <Col xs={12} md={6}>
          <Statistic title="会费收入" value={formatYuan(r.premiumsFen)} />
        </Col>
        <Col xs={12} md={6}>
          <Statistic title="给付支出" value={formatYuan(r.claimsFen)} />
        </Col>
        <Col xs={12} md={6}>
          <Statistic title="赔付率" value={pct(r.ratioBp)} />
        </Col>
        <Col xs={12} md={6}>
          <Statistic title="状态" valueRender={() => (r.closed ? <Tag color="green">已结算关闭</Tag> : <Tag>未结算</Tag>)} />
        </Col>
      </Row>
      {r.closed && r.surplusFen != null && (
        <Alert type="success" showIcon style={{ marginBottom: 16 }} message={`结余 ${formatYuan(r.surplusFen)} 已转入 ${r.surplusMovedTo ?? '—'}`} />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={24} md={12}>
          <Card size="small" title="赔付率（按单位层级，%）">
            <Suspense fallback={<LoadingState minHeight={240} />}>
              <BarChartView title="赔付率（按单位层级）" height={240} data={r.unitLevels.map((l) => ({ label: levelLabel(l.level), value: (l.ratioBp ?? 0) / 100 }))} />
            </Suspense>
          </Card>
        </Col>
        <Col xs={24} md={12}>
          <Card size="small" title="会费来源（按承担层级）">
            <Suspense fallback={<LoadingState minHeight={240} />}>
              <PieChartView title="会费来源" unit="元" height={260} data={r.payerLevels.map((l) => ({ label: levelLabel(l.level), value: yuan(l.premiumsFen) }))} />
            </Suspense>
          </Card>
        </Col>
        <Col xs={24}>
          <Card size="small" title="给付支出（按单位，元）">
            <Suspense fallback={<LoadingState minHeight={240} />}>
              <BarChartView title="给付支出（按单位）" height={240} data={r.units.map((u) => ({ label: u.name, value: yuan(u.claimsFen) }))} />
            </Suspense>
          </Card>
        </Col>
      </Row>
      <Card size="small" title="分单位明细" style={{ marginTop: 16 }}>
        <Table
          size="small"
          rowKey="orgUnitId"
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          dataSource={r.units}
          scroll={{ x: 640 }}
          columns={[
            { title: '单位', dataIndex: 'name' },
            { title: '层级', dataIndex: 'level', render: levelLabel },
            { title: '会费', dataIndex: 'premiumsFen', align: 'right', render: (v: number) => formatYuan(v) },
            { title: '申请数', dataIndex: 'claims', align: 'right' },
            { title: '核定给付', dataIndex: 'claimsFen', align: 'right', render: (v: number) => formatYuan(v) },
            { title: '已给付', dataIndex: 'paidFen', align: 'right', render: (v: number) => formatYuan(v) },
            { title: '赔付率', dataIndex: 'ratioBp', align: 'right', render: pct },
          ]}
        />
      </Card>
    </>
  );
}

export default function MutualAidSettlement() {
  const { can } = useAuth();
  const { message } = App.useApp();
  const { plans } = usePlans();
  const [planCode, setPlanCode] = useState<string>();
  const [term, setTerm] = useState<Dayjs>();
  const plan = plans.find((p) => p.code === planCode);
  const termStart = term ? term.format('YYYY-MM-DD') : defaultTermStart(plan);
  const q = useGql(MutualAidSettlementDocument, { plan: planCode ?? '', termStart }, { skip: !planCode });
  const r = q.data?.mutualAidSettlement;

  const settle = async () => {
    try {
      const { mutualAidSettle: res } = await gql(MutualAidSettleDocument, { plan: planCode!, termStart });
      if (res.errors.length) message.error(res.errors.map((e) => errorText(e)).join('；'));
      else message.success('已结算并关闭该期');
      await q.refetch();
    } catch (e) {
      message.error(describeError(e));
    }
  };

  return (
    <PageContainer
      title="年度结算"
      subTitle="会费、给付与赔付率；过了最迟申请日且无在办申请后方可结算关闭，关闭后不再受理该期申请"
      extra={
        can('mutual_aid.settle') && r && !r.closed ? (
          <Popconfirm title="结算并关闭该期？结余将转出，关闭后不再受理申请。" okText="结算关闭" cancelText="取消" onConfirm={() => void settle()}>
            <Button danger>
              结算关闭
            </Button>
          </Popconfirm>
        ) : undefined
      }
    >
      <Card size="small" className="hj-panel" style={{ marginBottom: 16 }}>
        <Form layout="inline" name="mutual-aid-settlement">
          <Form.Item label="保障计划" htmlFor="mutual-aid-settlement-plan">
            <Select id="mutual-aid-settlement-plan" style={{ minWidth: 220 }} options={planOptions(plans)} value={planCode} onChange={(v) => { setPlanCode(v); setTerm(undefined); }} />
          </Form.Item>
          <Form.Item label="保障期起始日" htmlFor="mutual-aid-settlement-term">
            <DatePicker id="mutual-aid-settlement-term" value={dayjs(termStart)} onChange={(d) => setTerm(d ?? undefined)} allowClear={false} />
          </Form.Item>
          {r && <Form.Item label="最迟申请日">{formatDate(r.claimDeadline)}</Form.Item>}
        </Form>
      </Card>
      {!planCode ? (
        <EmptyState description="请选择计划" />
      ) : q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : !r ? (
        <LoadingState />
      ) : (
        <SettlementReport report={r} />
      )}
    </PageContainer>
  );
}
