/**
 * The dashboard's panel registry. Each capability adds its panels here: a key, a title, the
 * permission it needs, its size and a component. Stat cards (`kind: 'stat'`) form the top row;
 * other panels flow below. See docs/ui.md.
 */
import { lazy, Suspense, type ComponentType } from 'react';
import { Link } from 'react-router';
import { Card, List, Statistic, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useGql } from '../api/useGql';
import { describeError } from '../api/errors';
import {
  AuditRecentCountDocument,
  OrgLevelCountsDocument,
  TenantsDocument,
  UserCountDocument,
  type OrgLevel,
} from '../graphql/generated';
import { useAuth } from '../auth/AuthProvider';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { LEVEL_LABELS, LEVEL_ORDER, ROLE_LABELS } from '../lib/labels';
import type { PermissionRequirement } from '../routes/access';
import { SCREENS } from '../routes/registry';
import { visibleEntries } from '../routes/access';

const BarChartView = lazy(() => import('../components/charts/BarChart'));

export interface DashboardPanel {
  key: string;
  title: string;
  permission?: PermissionRequirement;
  kind: 'stat' | 'panel';
  /** Column span at ≥ xl (24 = full width); panels are full width on phones. */
  span?: number;
  component: ComponentType;
}

function StatCard({ title, value, loading, error, suffix, to }: { title: string; value?: number; loading: boolean; error: unknown; suffix?: string; to?: string }) {
  return (
    <Card className="hj-stat-card" size="small">
      <Statistic
        title={title}
        value={error ? '—' : value ?? 0}
        loading={loading && value === undefined}
        suffix={suffix}
        groupSeparator=","
      />
      {error ? (
        <Typography.Text type="warning" role="alert">
          {describeError(error)}
        </Typography.Text>
      ) : to ? (
        <Link to={to}>查看详情</Link>
      ) : null}
    </Card>
  );
}

function OrgCountStat() {
  const q = useGql(OrgLevelCountsDocument);
  const active = q.data ? q.data.all.totalCount - q.data.inactive.totalCount : undefined;
  return <StatCard title="在用组织" value={active} suffix="个" loading={q.loading} error={q.error} to="/org" />;
}

function UserCountStat() {
  const q = useGql(UserCountDocument);
  return <StatCard title="系统用户" value={q.data?.users.totalCount} suffix="人" loading={q.loading} error={q.error} to="/users" />;
}

function AuditWeekStat() {
  const since = dayjs().subtract(7, 'day').startOf('day').toISOString();
  const q = useGql(AuditRecentCountDocument, { since });
  return <StatCard title="近 7 日审计记录" value={q.data?.auditRecords.totalCount} suffix="条" loading={q.loading} error={q.error} to="/audit" />;
}

function TenantCountStat() {
  const q = useGql(TenantsDocument);
  const provinces = q.data?.tenants.filter((t) => !t.isPlatform).length;
  return <StatCard title="已开通省份" value={provinces} suffix="个" loading={q.loading} error={q.error} to="/platform/tenants" />;
}

function OrgLevelPanel() {
  const q = useGql(OrgLevelCountsDocument);
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const counts: Record<OrgLevel, number> = {
    PROVINCE: q.data.province.totalCount,
    CITY: q.data.city.totalCount,
    COUNTY: q.data.county.totalCount,
    INDUSTRY: q.data.industry.totalCount,
    GRASSROOTS: q.data.grassroots.totalCount,
  };
  const data = LEVEL_ORDER.map((l) => ({ label: LEVEL_LABELS[l], value: counts[l] }));
  if (data.every((d) => d.value === 0)) return <EmptyState description="暂无组织" />;
  return (
    <>
      <Suspense fallback={<LoadingState minHeight={280} />}>
        <BarChartView data={data} title="各级组织数量" />
      </Suspense>
      <Table
        className="hj-sr-only"
        size="small"
        pagination={false}
        rowKey="label"
        caption="各级组织数量（表格）"
        columns={[
          { title: '层级', dataIndex: 'label' },
          { title: '组织数', dataIndex: 'value' },
        ]}
        dataSource={data}
      />
    </>
  );
}

function MyGrantsPanel() {
  const { me } = useAuth();
  if (me.grants.length === 0) return <EmptyState description="您还没有任何角色授权，请联系本级工会管理员" />;
  return (
    <List
      size="small"
      dataSource={me.grants}
      renderItem={(g) => (
        <List.Item>
          <Tag color="red">{ROLE_LABELS[g.role]}</Tag>
          <span>{g.orgUnit?.name ?? '—'}</span>
        </List.Item>
      )}
    />
  );
}

function QuickLinksPanel() {
  const { permissions } = useAuth();
  const links = visibleEntries(SCREENS, permissions).filter((s) => s.path !== '/' && !s.hideInMenu);
  if (links.length === 0) return <EmptyState description="暂无可用功能" />;
  return (
    <div className="hj-quick-links">
      {links.map((s) => (
        <Link key={s.path} to={s.path} className="hj-quick-link">
          <span aria-hidden="true">{s.icon}</span>
          <span>{s.label}</span>
        </Link>
      ))}
    </div>
  );
}

function Upcoming({ text }: { text: string }) {
  return <EmptyState description={text} />;
}

function FundsPlaceholder() {
  return <Upcoming text="经费台账上线后，这里显示各级组织、各项经费的收支与余额" />;
}

function MembersPlaceholder() {
  return <Upcoming text="会员管理上线后，这里显示各级组织的会员人数" />;
}

export const PANELS: DashboardPanel[] = [
  { key: 'stat-org', title: '在用组织', permission: 'org.read', kind: 'stat', component: OrgCountStat },
  { key: 'stat-users', title: '系统用户', permission: 'user.read', kind: 'stat', component: UserCountStat },
  { key: 'stat-audit', title: '近 7 日审计记录', permission: 'audit.read', kind: 'stat', component: AuditWeekStat },
  { key: 'stat-tenants', title: '已开通省份', permission: 'tenant.list', kind: 'stat', component: TenantCountStat },
  { key: 'org-levels', title: '各级组织数量', permission: 'org.read', kind: 'panel', span: 16, component: OrgLevelPanel },
  { key: 'my-grants', title: '我的角色', kind: 'panel', span: 8, component: MyGrantsPanel },
  // Placeholders until the funds (issue 3) and members (issue 4) APIs land; replace with real panels.
  { key: 'funds-position', title: '经费概况', permission: 'org.read', kind: 'panel', span: 12, component: FundsPlaceholder },
  { key: 'member-counts', title: '会员人数', permission: 'org.read', kind: 'panel', span: 12, component: MembersPlaceholder },
  { key: 'quick-links', title: '常用功能', kind: 'panel', span: 24, component: QuickLinksPanel },
];
