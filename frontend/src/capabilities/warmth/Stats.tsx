/** 统计: coverage against eligible by group and unit, money spent against budget, the national figures. */
import type { ReactNode } from 'react';
import { lazy, Suspense } from 'react';
import { Card, Col, Row, Statistic, Table } from 'antd';
import { useGql } from '../../api/useGql';
import { ErrorState, LoadingState } from '../../components/states';
import { WarmthStatsDocument } from '../../graphql/generated';
import { formatFen, toBigInt } from '../../lib/money';

const BarChartView = lazy(() => import('../../components/charts/BarChart'));
const PieChartView = lazy(() => import('../../components/charts/PieChart'));

const RESERVATION_LABELS: Record<string, string> = { pending_approval: '待审批', open: '已预留', posted: '已支出', voided: '已释放', expired: '已过期' };

const yuan = (fen: number | string) => Number(toBigInt(fen)) / 100;

export function StatsPanel({ campaignId, groupLabel, unitName }: { campaignId: string; groupLabel: (g: string) => string; unitName: (id: string) => ReactNode }) {
  const q = useGql(WarmthStatsDocument, { campaignId });
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const s = q.data.warmthStats;
  const byGroup = new Map<string, { covered: number; paid: number }>();
  for (const c of s.coverage) {
    const g = byGroup.get(c.group) ?? { covered: 0, paid: 0 };
    g.covered += c.covered;
    g.paid += yuan(c.paidFen);
    byGroup.set(c.group, g);
  }
  return (
    <Row gutter={[16, 16]}>
      <Col xs={12} md={6}><Card size="small"><Statistic title="已慰问人数" value={s.figures.total} /></Card></Col>
      <Col xs={12} md={6}><Card size="small"><Statistic title="其中困难职工" value={s.figures.hardship} /></Card></Col>
      <Col xs={12} md={6}><Card size="small"><Statistic title="预算（元）" value={formatFen(s.budgetFen)} /></Card></Col>
      <Col xs={12} md={6}><Card size="small"><Statistic title="已支出（元）" value={formatFen(s.spentFen)} /></Card></Col>
      <Col xs={24} xl={12}>
        <Card size="small" title="各类对象已慰问人数">
          <Suspense fallback={<LoadingState minHeight={220} />}>
            <BarChartView title="各类对象已慰问人数" height={220} data={[...byGroup].map(([g, v]) => ({ label: groupLabel(g), value: v.covered }))} />
          </Suspense>
        </Card>
      </Col>
      <Col xs={24} xl={12}>
        <Card size="small" title="支出构成（按对象）">
          <Suspense fallback={<LoadingState minHeight={220} />}>
            <PieChartView title="支出构成（按对象）" height={240} unit="元" data={[...byGroup].map(([g, v]) => ({ label: groupLabel(g), value: v.paid }))} />
          </Suspense>
        </Card>
      </Col>
      <Col xs={24}>
        <Table
          size="small"
          rowKey={(r) => `${r.group}:${r.orgUnitId}`}
          pagination={false}
          scroll={{ x: 560 }}
          dataSource={[...s.coverage]}
          locale={{ emptyText: '暂无数据' }}
          columns={[
            { title: '慰问对象', dataIndex: 'group', render: groupLabel },
            { title: '工会', dataIndex: 'orgUnitId', render: unitName },
            { title: '应慰问', dataIndex: 'eligible', align: 'right' },
            { title: '已慰问', dataIndex: 'covered', align: 'right' },
            { title: '覆盖率', key: 'rate', align: 'right', render: (_, r) => (r.eligible ? `${Math.round((r.covered * 100) / r.eligible)}%` : '—') },
            { title: '已发（元）', dataIndex: 'paidFen', align: 'right', render: (v) => formatFen(v) },
          ]}
        />
      </Col>
      <Col xs={24}>
        <Table
          size="small"
          rowKey="orgUnitId"
          pagination={false}
          dataSource={[...s.budgets]}
          locale={{ emptyText: '未分配预算' }}
          columns={[
            { title: '预算工会', dataIndex: 'orgUnitId', render: unitName },
            { title: '预算（元）', dataIndex: 'budgetFen', align: 'right', render: (v) => formatFen(v) },
            { title: '已支出（元）', dataIndex: 'spentFen', align: 'right', render: (v) => formatFen(v) },
            { title: '预留', dataIndex: 'reservationStatus', render: (v: string | null) => RESERVATION_LABELS[v ?? ''] ?? (v ? v : '未预留') },
          ]}
        />
      </Col>
    </Row>
  );
}
