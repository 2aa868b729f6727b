/** 帮扶统计: archives and aid paid in the caller's subtree, by category, tier, state and aid type. */
import { lazy, Suspense } from 'react';
import { Card, Col, Row, Statistic, Table, Typography } from 'antd';
import { useGql } from '../../api/useGql';
import { HardshipStatsDocument, type HardshipStatsQuery } from '../../graphql/generated';
import { PageContainer } from '../../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { formatFen, toBigInt } from '../../lib/money';
import { AID_KEY_LABELS, CATEGORY_LABELS, STATE_LABELS, TIER_KEY_LABELS } from './labels';

const BarChartView = lazy(() => import('../../components/charts/BarChart'));
const PieChartView = lazy(() => import('../../components/charts/PieChart'));

type Stat = HardshipStatsQuery['hardshipStats']['byCategory'][number];

const yuan = (fen: number | string) => Number(toBigInt(fen)) / 100;

function StatTable({ rows, labels, countTitle }: { rows: readonly Stat[]; labels: Record<string, string>; countTitle: string }) {
  return (
    <Table
      size="small"
      pagination={false}
      rowKey="key"
      dataSource={[...rows]}
      columns={[
        { title: '分组', dataIndex: 'key', render: (k: string) => labels[k] ?? k },
        { title: countTitle, dataIndex: 'archives', align: 'right' },
        { title: '已发放（元）', dataIndex: 'paidFen', align: 'right', render: (v) => formatFen(v) },
      ]}
    />
  );
}

function Panel({ title, rows, labels, chart, countTitle = '档案数' }: { title: string; rows: readonly Stat[]; labels: Record<string, string>; chart: 'bar' | 'pie'; countTitle?: string }) {
  const data = rows.map((r) => ({ label: labels[r.key] ?? r.key, value: chart === 'pie' ? yuan(r.paidFen) : r.archives }));
  return (
    <Card size="small" className="hj-panel" title={<Typography.Title level={2} className="hj-card-title">{title}</Typography.Title>}>
      {rows.length === 0 ? (
        <EmptyState description="暂无数据" />
      ) : (
        <>
          <Suspense fallback={<LoadingState minHeight={240} />}>
            {chart === 'bar' ? <BarChartView data={data} title={title} height={240} /> : <PieChartView data={data} title={title} height={260} unit="元" />}
          </Suspense>
          <StatTable rows={rows} labels={labels} countTitle={countTitle} />
        </>
      )}
    </Card>
  );
}

export default function HardshipDashboard() {
  const q = useGql(HardshipStatsDocument);
  const s = q.data?.hardshipStats;
  const total = s ? s.byState.reduce((n, r) => n + r.archives, 0) : 0;
  const archived = s ? s.byState.find((r) => r.key === 'archived')?.archives ?? 0 : 0;
  const paid = s ? s.paidByAidType.reduce((n, r) => n + toBigInt(r.paidFen), 0n) : 0n;
  return (
    <PageContainer title="帮扶统计" subTitle="本单位及下级工会的困难职工档案和已发放救助">
      {q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : !s ? (
        <LoadingState />
      ) : total === 0 && s.paidByAidType.length === 0 ? (
        <EmptyState description="暂无困难职工档案；建档后在此查看统计" />
      ) : (
        <Row gutter={[16, 16]}>
          <Col xs={24} md={8}>
            <Card size="small" className="hj-stat-card">
              <Statistic title="档案总数" value={total} />
            </Card>
          </Col>
          <Col xs={24} md={8}>
            <Card size="small" className="hj-stat-card">
              <Statistic title="在档（已建档）" value={archived} />
            </Card>
          </Col>
          <Col xs={24} md={8}>
            <Card size="small" className="hj-stat-card">
              <Statistic title="已发放救助（元）" value={formatFen(paid)} />
            </Card>
          </Col>
          <Col xs={24} xl={12}>
            <Panel title="按困难类别" rows={s.byCategory} labels={CATEGORY_LABELS} chart="bar" />
          </Col>
          <Col xs={24} xl={12}>
            <Panel title="按建档级别" rows={s.byTier} labels={TIER_KEY_LABELS} chart="bar" />
          </Col>
          <Col xs={24} xl={12}>
            <Panel title="按办理状态" rows={s.byState} labels={STATE_LABELS} chart="bar" />
          </Col>
          <Col xs={24} xl={12}>
            <Panel title="已发放救助（按类型）" rows={s.paidByAidType} labels={AID_KEY_LABELS} chart="pie" countTitle="笔数" />
          </Col>
        </Row>
      )}
    </PageContainer>
  );
}
