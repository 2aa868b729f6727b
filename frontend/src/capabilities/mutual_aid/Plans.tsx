/** 互助保障计划: the province's plans as the API gives them, each rule in plain words. */
import { Card, Descriptions, Space, Tag, Typography } from 'antd';
import { PageContainer } from '../../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { formatDate } from '../../lib/format';
import { formatYuan } from '../../lib/money';
import { LEVEL_LABELS, UNIT_KIND_LABELS, pct } from './labels';
import { usePlans, type Plan } from './shared';

const cap = (fen: number | string | null | undefined) => (fen == null ? '不设上限' : formatYuan(fen));

function term(p: Plan): string {
  if (p.termKind === 'calendar_year') return '自然年度（1月1日至12月31日）';
  const n = p.termNumber != null ? `第${p.termNumber}期 ` : '';
  return `${n}${formatDate(p.termStartsOn)} 至 ${formatDate(p.termEndsOn)}`;
}

export function PlanRules({ plan: p }: { plan: Plan }) {
  return (
    <Descriptions size="small" column={{ xs: 1, md: 2 }} bordered>
      <Descriptions.Item label="每份会费">
        {formatYuan(p.premiumPerShareFen)}
        {p.payers.length > 0 && (
          <Typography.Text type="secondary">
            （{p.payers.map((x) => `${LEVEL_LABELS[x.level] ?? x.level}承担${formatYuan(x.amountFen)}`).join('，')}）
          </Typography.Text>
        )}
      </Descriptions.Item>
      <Descriptions.Item label="每人份数">{p.equalShares ? `最多 ${p.maxShares} 份，同一单位每人份数相同` : `最多 ${p.maxShares} 份`}</Descriptions.Item>
      <Descriptions.Item label="保障期">{term(p)}</Descriptions.Item>
      <Descriptions.Item label="保障生效">{p.coverAfterDays <= 1 ? '参保次日起生效' : `参保后第 ${p.coverAfterDays} 天起生效（等待期）`}</Descriptions.Item>
      <Descriptions.Item label="参保比例">
        {p.groupOnly ? '以单位为整体参加；' : ''}最低 {pct(p.minRatioBp)}
        {p.minRatioByUnitKind.map((r) => `；${UNIT_KIND_LABELS[r.unitKind.toUpperCase() as keyof typeof UNIT_KIND_LABELS] ?? r.unitKind} ${pct(r.minRatioBp)}`).join('')}
        {p.smallUnitStaff != null && p.smallUnitRatioBp != null && `；${p.smallUnitStaff} 人及以下的单位 ${pct(p.smallUnitRatioBp)}`}
      </Descriptions.Item>
      <Descriptions.Item label="申请期限">
        {p.claimWithinDays != null ? `事故发生后 ${p.claimWithinDays} 天内` : '—'}
        {p.claimDeadline && `；本期最迟 ${formatDate(p.claimDeadline)}`}
      </Descriptions.Item>
      <Descriptions.Item label="给付上限">
        每次 {cap(p.capPerCaseFen)}；每年 {cap(p.capPerYearFen)}；每期 {cap(p.capPerTermFen)}
      </Descriptions.Item>
      <Descriptions.Item label="给付项目">
        <Space size={[4, 4]} wrap>
          {p.claimKinds.map((k) => (
            <Tag key={k.code}>{k.label}</Tag>
          ))}
        </Space>
      </Descriptions.Item>
      {p.excludes.length > 0 && <Descriptions.Item label="不可同时参加">{p.excludes.join('、')}</Descriptions.Item>}
      {p.newHireDays != null && <Descriptions.Item label="新入职">入职 {p.newHireDays} 天内可补充参保</Descriptions.Item>}
      {p.retireesExcluded && <Descriptions.Item label="退休人员">不可参保</Descriptions.Item>}
      <Descriptions.Item label="互助金">
        <span className="hj-mono-small">{p.fund}</span>
      </Descriptions.Item>
    </Descriptions>
  );
}

export default function MutualAidPlans() {
  const { plans, data, error, refetch } = usePlans();
  return (
    <PageContainer title="互助保障计划" subTitle="由本省规则提供；参保、申请与结算均按以下规则办理">
      {error ? (
        <ErrorState error={error} onRetry={() => void refetch()} />
      ) : !data ? (
        <LoadingState />
      ) : plans.length === 0 ? (
        <EmptyState description="本省暂未开办互助保障计划" />
      ) : (
        plans.map((p) => (
          <Card key={p.code} size="small" className="hj-panel" title={p.nameZh} extra={<span className="hj-mono-small">{p.code}</span>} style={{ marginBottom: 16 }} data-testid="mutual-aid-plan">
            <PlanRules plan={p} />
          </Card>
        ))
      )}
    </PageContainer>
  );
}
