/**
 * The dashboard's panel registry. Each capability adds its panels here: a key, a title, the
 * permission it needs, its size and a component. Stat cards (`kind: 'stat'`) form the top row;
 * other panels flow below. See docs/ui.md.
 */
import { lazy, Suspense, useEffect, useState, type ComponentType } from 'react';
import { Link } from 'react-router';
import { Card, List, Statistic, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useGql } from '../api/useGql';
import { describeError } from '../api/errors';
import {
  AuditRecentCountDocument,
  FundStatementReportDocument,
  MemberCountDocument,
  OrgChildrenDocument,
  OrgLevelCountsDocument,
  PendingDraftCountDocument,
  TenantsDocument,
  UserCountDocument,
  type OrgLevel,
} from '../graphql/generated';
import { useAuth } from '../auth/AuthProvider';
import { EmptyState, ErrorState, LoadingState } from '../components/states';
import { LEVEL_LABELS, ROLE_LABELS, STAFF_ROLES } from '../lib/labels';
import { useOrgLevels } from '../api/reference';
import { gql } from '../api/client';
import type { PermissionRequirement } from '../routes/access';
import { allScreens } from '../routes/registry';
import { visibleEntries } from '../routes/access';
import { formatYuan, toBigInt } from '../lib/money';

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
  const rules = useOrgLevels().data;
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const counts: Record<OrgLevel, number> = {
    PROVINCE: q.data.province.totalCount,
    CITY: q.data.city.totalCount,
    COUNTY: q.data.county.totalCount,
    INDUSTRY: q.data.industry.totalCount,
    GRASSROOTS: q.data.grassroots.totalCount,
  };
  // the API's top-down order; the counts' own order until it has come
  const data = (rules?.map((r) => r.level) ?? (Object.keys(counts) as OrgLevel[])).map((l) => ({ label: LEVEL_LABELS[l], value: counts[l] }));
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
          <span>
            <Tag color="red">{ROLE_LABELS[g.role]}</Tag>
            {g.orgUnit?.name ?? '—'}
          </span>
        </List.Item>
      )}
    />
  );
}

function QuickLinksPanel() {
  const { permissions, capabilities } = useAuth();
  const links = visibleEntries(allScreens(), permissions, capabilities).filter((s) => s.path !== '/' && !s.hideInMenu);
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

function PendingDraftsStat() {
  const q = useGql(PendingDraftCountDocument);
  return <StatCard title="待审批记账" value={q.data?.ledgerDrafts.totalCount} suffix="笔" loading={q.loading} error={q.error} to="/funds/approvals" />;
}

/** 经费概况: cash at the end of today per fund, summed over the user's subtree (fund statement). */
function FundsPositionPanel() {
  const today = dayjs().format('YYYY-MM-DD');
  const q = useGql(FundStatementReportDocument, { input: { dateTo: today } });
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const byFund = new Map<string, { name: string; closing: bigint; reserved: bigint }>();
  for (const r of q.data.fundStatement) {
    const key = r.fund?.code ?? '?';
    const cur = byFund.get(key) ?? { name: r.fund?.name ?? key, closing: 0n, reserved: 0n };
    cur.closing += toBigInt(r.closingCashFen);
    cur.reserved += toBigInt(r.reservedFen);
    byFund.set(key, cur);
  }
  const funds = [...byFund.values()];
  if (funds.length === 0) return <EmptyState description="尚无经费收支记录" />;
  const total = funds.reduce((a, f) => a + f.closing, 0n);
  return (
    <>
      <Statistic title="货币资金合计（元）" value={formatYuan(total)} />
      <Suspense fallback={<LoadingState minHeight={220} />}>
        <BarChartView title="各项经费货币资金（元）" height={220} data={funds.map((f) => ({ label: f.name.replace(/[（(].*$/, ''), value: Number(f.closing) / 100 }))} />
      </Suspense>
      <Link to="/funds">查看账户余额</Link>
    </>
  );
}

function MemberTotalStat() {
  const q = useGql(MemberCountDocument, { filter: { states: ['JOINED'] } });
  return <StatCard title="在会会员" value={q.data?.members.totalCount} suffix="人" loading={q.loading} error={q.error} to="/members" />;
}

/** 会员人数: members in each unit directly below the user's top unit (subtree counts). */
function MembersByUnitPanel() {
  const { me } = useAuth();
  const top = me.grants.find((g) => STAFF_ROLES.has(g.role) && g.orgUnit)?.orgUnit ?? null;
  const [state, setState] = useState<{ data?: { label: string; value: number }[]; total?: number; error?: unknown }>({});
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!top) return;
    let live = true;
    (async () => {
      try {
        const [{ orgUnit }, all] = await Promise.all([
          gql(OrgChildrenDocument, { id: top.id }),
          gql(MemberCountDocument, { filter: { subtreeOf: top.id, states: ['JOINED'] } }),
        ]);
        const children = (orgUnit?.children ?? []).filter((c) => c.active).slice(0, 20);
        const counts = await Promise.all(children.map((c) => gql(MemberCountDocument, { filter: { subtreeOf: c.id, states: ['JOINED'] } })));
        if (live) setState({ total: all.members.totalCount, data: children.map((c, i) => ({ label: c.name.replace(/(总工会|工会)$/, ''), value: counts[i].members.totalCount })) });
      } catch (e) {
        if (live) setState({ error: e });
      }
    })();
    return () => {
      live = false;
    };
  }, [top?.id, attempt]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!top) return <EmptyState description="没有可查看的组织" />;
  if (state.error) return <ErrorState error={state.error} onRetry={() => setAttempt((n) => n + 1)} />;
  if (!state.data) return <LoadingState />;
  return (
    <>
      <Statistic title={`${top.name}在会会员（人）`} value={state.total ?? 0} groupSeparator="," />
      {state.data.length === 0 || state.data.every((d) => d.value === 0) ? (
        <EmptyState description="下级组织暂无会员" />
      ) : (
        <Suspense fallback={<LoadingState minHeight={220} />}>
          <BarChartView title="各下级组织会员人数" height={220} data={state.data} />
        </Suspense>
      )}
      <Link to="/members">查看会员</Link>
    </>
  );
}

export const PANELS: DashboardPanel[] = [
  { key: 'stat-org', title: '在用组织', permission: 'org.read', kind: 'stat', component: OrgCountStat },
  { key: 'stat-members', title: '在会会员', permission: 'member.read', kind: 'stat', component: MemberTotalStat },
  { key: 'stat-drafts', title: '待审批记账', permission: 'ledger.read', kind: 'stat', component: PendingDraftsStat },
  { key: 'stat-users', title: '系统用户', permission: 'user.read', kind: 'stat', component: UserCountStat },
  { key: 'stat-audit', title: '近 7 日审计记录', permission: 'audit.read', kind: 'stat', component: AuditWeekStat },
  { key: 'stat-tenants', title: '已开通省份', permission: 'tenant.list', kind: 'stat', component: TenantCountStat },
  { key: 'org-levels', title: '各级组织数量', permission: 'org.read', kind: 'panel', span: 16, component: OrgLevelPanel },
  { key: 'my-grants', title: '我的角色', kind: 'panel', span: 8, component: MyGrantsPanel },
  { key: 'funds-position', title: '经费概况', permission: 'report.read', kind: 'panel', span: 12, component: FundsPositionPanel },
  { key: 'member-counts', title: '会员人数', permission: 'member.read', kind: 'panel', span: 12, component: MembersByUnitPanel },
  { key: 'quick-links', title: '常用功能', kind: 'panel', span: 24, component: QuickLinksPanel },
];
