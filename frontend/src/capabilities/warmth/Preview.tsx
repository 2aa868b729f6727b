/** 测算预览: by target group and org unit, who targeting finds, who is on the list already, who is left
 * out and why, with the cash against the budget; a chart of the counts by group. */
import type { ReactNode } from 'react';
import { lazy, Suspense } from 'react';
import { Alert, Button, Table } from 'antd';
import { useGql } from '../../api/useGql';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { WarmthPreviewDocument, type WarmthPreviewQuery } from '../../graphql/generated';
import { formatFen, formatYuan } from '../../lib/money';

const BarChartView = lazy(() => import('../../components/charts/BarChart'));

type Row = WarmthPreviewQuery['warmthPreview']['rows'][number];

export function PreviewPanel({ campaignId, groupLabel, unitName }: { campaignId: string; groupLabel: (g: string) => string; unitName: (id: string) => ReactNode }) {
  const q = useGql(WarmthPreviewDocument, { campaignId });
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const p = q.data.warmthPreview;
  const byGroup = new Map<string, number>();
  for (const r of p.rows) byGroup.set(r.group, (byGroup.get(r.group) ?? 0) + r.eligible + r.alreadyCovered);
  return (
    <>
      <Alert
        type={p.withinBudget ? 'info' : 'warning'}
        showIcon
        style={{ marginBottom: 12 }}
        data-testid="warmth-preview-total"
        message={`测算金额 ${formatYuan(p.totalFen)}，预算 ${formatYuan(p.budgetFen)}${p.withinBudget ? '' : '：超出预算，审批将被拒绝'}`}
        action={<Button size="small" onClick={() => void q.refetch()}>重新测算</Button>}
      />
      {p.rows.length === 0 ? (
        <EmptyState description="按所选慰问对象没有找到符合条件的人员" />
      ) : (
        <>
          <Suspense fallback={<LoadingState minHeight={220} />}>
            <BarChartView title="各类对象人数（含已在名单）" height={220} data={[...byGroup].map(([g, v]) => ({ label: groupLabel(g), value: v }))} />
          </Suspense>
          <Table<Row>
            size="small"
            rowKey={(r) => `${r.group}:${r.orgUnitId}`}
            pagination={false}
            scroll={{ x: 720 }}
            dataSource={[...p.rows]}
            columns={[
              { title: '慰问对象', dataIndex: 'group', render: groupLabel },
              { title: '工会', dataIndex: 'orgUnitId', render: unitName },
              { title: '可纳入', dataIndex: 'eligible', align: 'right' },
              { title: '已在名单', dataIndex: 'alreadyCovered', align: 'right' },
              { title: '重复（同人同户）', dataIndex: 'duplicate', align: 'right' },
              { title: '近期已慰问', dataIndex: 'recent', align: 'right' },
              { title: '不符合条件', dataIndex: 'notEligible', align: 'right' },
              { title: '金额（元）', dataIndex: 'amountFen', align: 'right', render: (v) => formatFen(v) },
            ]}
          />
        </>
      )}
    </>
  );
}
