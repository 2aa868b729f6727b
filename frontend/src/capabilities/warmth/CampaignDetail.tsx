/** 活动详情: a campaign's benefits and budgets, its lifecycle steps, and tabs for the preview, the list,
 * the distribution, receipts, cross-matching and statistics. */
import { useState } from 'react';
import { useParams } from 'react-router';
import { App, Button, Descriptions, Form, Input, Space, Table, Tabs, Tag } from 'antd';
import { gql } from '../../api/client';
import type { UserError } from '../../api/errors';
import { useGql } from '../../api/useGql';
import { useAuth } from '../../auth/AuthProvider';
import { MutationDialog } from '../../components/MutationDialog';
import { PageContainer } from '../../components/PageContainer';
import { ErrorState, LoadingState } from '../../components/states';
import { FundsDocument, WarmthCampaignDocument, WarmthCampaignStepDocument, WarmthTargetGroupsDocument, type WarmthCampaignQuery } from '../../graphql/generated';
import { formatDate } from '../../lib/format';
import { formatFen } from '../../lib/money';
import { unitName } from './UnitName';
import { FORM_LABELS, STATE_COLORS, STEP_ERRORS, stepsFor, type STEPS } from './labels';
import { Beneficiaries } from './Beneficiaries';
import { Distribution } from './Distribution';
import { PreviewPanel } from './Preview';
import { Receipts } from './Receipts';
import { CrossMatch } from './CrossMatch';
import { StatsPanel } from './Stats';

export type CampaignDetailData = NonNullable<WarmthCampaignQuery['warmthCampaign']>;
type Step = (typeof STEPS)[number];

/** 提交/审批/开始发放/结项 and, with a reason, 退回/撤销. Refusals (INSUFFICIENT_FUNDS, BUDGET_EXCEEDED…) in Chinese at the top. */
function StepDialog({ campaign, step, onClose, onDone }: { campaign: CampaignDetailData; step: Step; onClose: () => void; onDone: () => void }) {
  return (
    <MutationDialog<{ reason?: string }, { errors: UserError[] }>
      title={`${step.label}：${campaign.name}`}
      okText={step.label}
      danger={step.danger}
      name={`warmth-step-${step.transition}`}
      onClose={onClose}
      intro={
        step.transition === 'approve' ? (
          <p style={{ color: '#666' }}>审批后按各工会预算从支付经费中预留资金，名单和金额随之冻结。</p>
        ) : step.transition === 'distribute' ? (
          <p style={{ color: '#666' }}>开始后逐人发放（现金记账、实物出库），可在“发放”页查看进度。</p>
        ) : undefined
      }
      mutate={async (v) =>
        (
          await gql(WarmthCampaignStepDocument, {
            id: campaign.id,
            transition: step.transition,
            expectedVersion: campaign.version,
            reasons: step.reasons ? [(v.reason ?? '').trim()] : null,
          })
        ).warmthCampaignStep
      }
      onDone={onDone}
      errorOptions={{ messages: STEP_ERRORS, fieldMap: { reasons: 'reason' } }}
    >
      {step.reasons ? (
        <Form.Item label="理由" name="reason" rules={[{ required: true, whitespace: true, message: '请填写理由' }]}>
          <Input.TextArea rows={3} maxLength={500} />
        </Form.Item>
      ) : (
        <p>确定{step.label}？</p>
      )}
    </MutationDialog>
  );
}

export default function CampaignDetail() {
  const { id = '' } = useParams();
  const q = useGql(WarmthCampaignDocument, { id });
  const groups = useGql(WarmthTargetGroupsDocument);
  const funds = useGql(FundsDocument);
  const { can } = useAuth();
  const { message } = App.useApp();
  const [step, setStep] = useState<Step | null>(null);
  const c = q.data?.warmthCampaign;
  if (q.error) return <PageContainer title="活动详情"><ErrorState error={q.error} onRetry={() => void q.refetch()} /></PageContainer>;
  if (!q.data) return <PageContainer title="活动详情"><LoadingState /></PageContainer>;
  if (!c) return <PageContainer title="活动详情"><ErrorState error={new Error('NOT_FOUND')} title="没有这个活动，或不在您的管辖范围内" /></PageContainer>;
  const groupLabel = (code: string) => groups.data?.warmthTargetGroups.find((g) => g.code === code)?.labelZh ?? code;
  const refresh = () => void q.refetch();
  const steps = stepsFor(c.state, can);
  const served = ['distributing', 'distributed', 'closed'].includes(c.state);
  return (
    <PageContainer
      title={c.name}
      subTitle={<Tag color={STATE_COLORS[c.state]} data-testid="warmth-state">{c.stateZh}</Tag>}
      extra={
        <Space wrap>
          {steps.map((s) => (
            <Button key={s.transition} danger={s.danger} type={s.danger ? 'default' : 'primary'} onClick={() => setStep(s)}>
              {s.label}
            </Button>
          ))}
        </Space>
      }
    >
      <Descriptions size="small" column={{ xs: 1, sm: 1, md: 2, lg: 3, xl: 3, xxl: 3 }} style={{ marginBottom: 16 }}>
        <Descriptions.Item label="类型">{c.kindZh}</Descriptions.Item>
        <Descriptions.Item label="时间">{formatDate(c.startsOn)} 至 {formatDate(c.endsOn)}</Descriptions.Item>
        <Descriptions.Item label="主办工会">{unitName(c.orgUnitId)}</Descriptions.Item>
        <Descriptions.Item label="支付经费">{funds.data?.funds.find((f) => f.code === c.fund)?.name ?? c.fund}</Descriptions.Item>
        <Descriptions.Item label="名单人数">{c.beneficiaries.length}</Descriptions.Item>
      </Descriptions>
      <Tabs
        items={[
          {
            key: 'plan',
            label: '对象与预算',
            children: (
              <Space direction="vertical" style={{ width: '100%' }}>
                <Table
                  size="small"
                  rowKey="group"
                  pagination={false}
                  dataSource={[...c.benefits]}
                  columns={[
                    { title: '慰问对象', dataIndex: 'group', render: groupLabel },
                    { title: '形式', dataIndex: 'form', render: (f: string) => FORM_LABELS[f] ?? f },
                    { title: '标准（元）', dataIndex: 'amountFen', align: 'right', render: (v) => (String(v) === '0' ? '按本省标准' : formatFen(v)) },
                    { title: '物品', dataIndex: 'item', render: (i) => i ?? '—' },
                  ]}
                />
                <Table
                  size="small"
                  rowKey="orgUnitId"
                  pagination={false}
                  locale={{ emptyText: '未分配预算' }}
                  dataSource={[...c.budgets]}
                  columns={[
                    { title: '预算工会', dataIndex: 'orgUnitId', render: unitName },
                    { title: '预算（元）', dataIndex: 'budgetFen', align: 'right', render: (v) => formatFen(v) },
                  ]}
                />
              </Space>
            ),
          },
          { key: 'preview', label: '测算预览', children: <PreviewPanel campaignId={c.id} groupLabel={groupLabel} unitName={unitName} /> },
          { key: 'list', label: '发放名单', children: <Beneficiaries campaign={c} groupLabel={groupLabel} onChanged={refresh} /> },
          { key: 'distribution', label: '发放', children: <Distribution campaign={c} onChanged={refresh} /> },
          ...(served ? [{ key: 'receipts', label: '签收回执', children: <Receipts campaign={c} groupLabel={groupLabel} /> }] : []),
          ...(can('warmth.write') ? [{ key: 'crossmatch', label: '十条线比对', children: <CrossMatch campaignId={c.id} unitName={unitName} /> }] : []),
          { key: 'stats', label: '统计', children: <StatsPanel campaignId={c.id} groupLabel={groupLabel} unitName={unitName} /> },
        ]}
      />
      {step && (
        <StepDialog
          campaign={c}
          step={step}
          onClose={() => setStep(null)}
          onDone={() => {
            setStep(null);
            message.success(`已${step.label}`);
            refresh();
          }}
        />
      )}
    </PageContainer>
  );
}
