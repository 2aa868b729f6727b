/**
 * 申请详情: the claim, its itemised benefit against the plan's caps, where it stands on the workflow,
 * its documents, and the steps the caller's role allows (reject and cancel need reasons).
 */
import { useState } from 'react';
import { useParams } from 'react-router';
import { Alert, App, Button, Card, Descriptions, Empty, Form, Input, List, Space, Steps, Table, Tag, Timeline, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { downloadFile } from '../../api/files';
import { gql } from '../../api/client';
import { describeError } from '../../api/errors';
import { useGql } from '../../api/useGql';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { MutationDialog } from '../../components/MutationDialog';
import { ErrorState, LoadingState } from '../../components/states';
import { MutualAidClaimDocument, MutualAidClaimStepDocument, type MutualAidClaimAction, type MutualAidClaimStepMutation, type MutualAidClaimFieldsFragment } from '../../graphql/generated';
import { formatDate, formatDateTime } from '../../lib/format';
import { formatYuan } from '../../lib/money';
import { ACTIONS_BY_STATE, ACTION_LABELS, DOCUMENT_LABELS, MUTUAL_AID_ERRORS, SOURCE_LABELS, STATE_COLORS } from './labels';
import { usePlans, type Plan, errorText } from './shared';

const FLOW = ['entered', 'checked', 'approved', 'paid'];

export function ClaimProgress({ state }: { state: string }) {
  const rejected = state === 'rejected';
  const at = rejected ? 1 : FLOW.indexOf(state);
  return (
    <Steps
      size="small"
      current={at}
      status={rejected ? 'error' : state === 'paid' ? 'finish' : 'process'}
      items={[{ title: '受理' }, { title: rejected ? '未通过' : '核查' }, { title: '审批' }, { title: '给付' }]}
    />
  );
}

type TimelineStep = MutualAidClaimFieldsFragment['timeline'][number];
type ClaimDocument = MutualAidClaimFieldsFragment['documents'][number];

/** The review's dated steps, oldest first: who took each, and the reasons of a rejection or cancel. */
export function ClaimTimeline({ steps }: { steps: readonly TimelineStep[] }) {
  if (steps.length === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="暂无办理记录" />;
  return (
    <Timeline
      data-testid="claim-timeline"
      style={{ marginTop: 16 }}
      items={steps.map((s) => ({
        key: s.seq,
        color: s.toState === 'rejected' ? 'red' : s.toState === 'paid' ? 'green' : 'blue',
        children: (
          <>
            <div>
              <strong>{s.actionLabel}</strong> · {s.stateLabel}
            </div>
            <Typography.Text type="secondary">
              {formatDateTime(s.at)} · {s.actorName || '系统'}
            </Typography.Text>
            {s.reasons.length > 0 && (
              <ul style={{ margin: '4px 0 0', paddingLeft: 18 }}>
                {s.reasons.map((r, i) => (
                  <li key={i}>{r}</li>
                ))}
              </ul>
            )}
          </>
        ),
      }))}
    />
  );
}

/** The claim's documents, each a download (the file route wants the bearer token, so no plain link). */
export function ClaimDocuments({ documents, emptyText }: { documents: readonly ClaimDocument[]; emptyText: string }) {
  const { message } = App.useApp();
  const [busy, setBusy] = useState<string | null>(null);
  const get = async (d: ClaimDocument) => {
    setBusy(d.id);
    try {
      await downloadFile(d.downloadUrl, d.filename);
    } catch (e) {
      message.error(`下载失败：${describeError(e, MUTUAL_AID_ERRORS)}`);
    } finally {
      setBusy(null);
    }
  };
  return (
    <List
      size="small"
      dataSource={[...documents]}
      locale={{ emptyText }}
      renderItem={(d) => (
        <List.Item
          actions={[
            <Button key="get" size="small" type="link" icon={<DownloadOutlined />} loading={busy === d.id} aria-label={`下载 ${d.filename}`} onClick={() => void get(d)}>
              下载
            </Button>,
          ]}
        >
          {DOCUMENT_LABELS[d.kind.toUpperCase() as keyof typeof DOCUMENT_LABELS] ?? d.kind}：{d.filename}（{Math.max(1, Math.round(d.size / 1024))} KB）
        </List.Item>
      )}
    />
  );
}

export function BenefitTable({ claim, plan }: { claim: MutualAidClaimFieldsFragment; plan?: Plan }) {
  const cap = plan?.capPerCaseFen;
  return (
    <>
      <Table
        size="small"
        pagination={false}
        rowKey={(_, i) => String(i)}
        dataSource={claim.breakdown}
        columns={[
          { title: '项目', dataIndex: 'label' },
          { title: '计算说明', dataIndex: 'note' },
          { title: '金额', dataIndex: 'amountFen', align: 'right', render: (v: number) => formatYuan(v) },
        ]}
        summary={() => (
          <Table.Summary.Row>
            <Table.Summary.Cell index={0} colSpan={2}>
              <strong>应给付（已按限额核减）</strong>
            </Table.Summary.Cell>
            <Table.Summary.Cell index={2} align="right">
              <strong data-testid="claim-amount">{formatYuan(claim.amountFen)}</strong>
            </Table.Summary.Cell>
          </Table.Summary.Row>
        )}
      />
      {claim.cappedBy && <Alert style={{ marginTop: 8 }} type="info" showIcon message={`受限额约束：${claim.cappedBy}`} />}
      {plan && (
        <Descriptions size="small" style={{ marginTop: 8 }} column={{ xs: 1, md: 3 }}>
          <Descriptions.Item label="每次限额">
            {cap == null ? '不设上限' : `${formatYuan(cap)}（本次已用 ${formatYuan(claim.amountFen)}，余 ${formatYuan(Math.max(0, Number(cap) - Number(claim.amountFen)))}）`}
          </Descriptions.Item>
          <Descriptions.Item label="每年限额">{plan.capPerYearFen == null ? '不设上限' : formatYuan(plan.capPerYearFen)}</Descriptions.Item>
          <Descriptions.Item label="每期限额">{plan.capPerTermFen == null ? '不设上限' : formatYuan(plan.capPerTermFen)}</Descriptions.Item>
        </Descriptions>
      )}
    </>
  );
}

export default function MutualAidClaimDetail() {
  const { id = '' } = useParams();
  const { can } = useAuth();
  const { message } = App.useApp();
  const { plans } = usePlans();
  const { data, error, refetch } = useGql(MutualAidClaimDocument, { id });
  const [withReasons, setWithReasons] = useState<MutualAidClaimAction | null>(null);
  const [busy, setBusy] = useState(false);
  if (error) return <ErrorState error={error} onRetry={() => void refetch()} />;
  if (!data) return <LoadingState />;
  const c = data.mutualAidClaim;
  const plan = plans.find((p) => p.code === c.planCode);
  const actions = (ACTIONS_BY_STATE[c.state] ?? []).filter((a) => can(a.permission));

  const step = async (action: MutualAidClaimAction) => {
    setBusy(true);
    try {
      const { mutualAidClaimStep: r } = await gql(MutualAidClaimStepDocument, { id: c.id, action, expectedVersion: c.version });
      if (r.errors.length) message.error(r.errors.map((e) => errorText(e)).join('；'));
      else message.success(`已${ACTION_LABELS[action]}`);
      await refetch();
    } catch (e) {
      message.error(describeError(e, MUTUAL_AID_ERRORS));
    } finally {
      setBusy(false);
    }
  };

  return (
    <PageContainer
      title={`互助申请 · ${plan?.claimKinds.find((k) => k.code === c.kind)?.label ?? c.kind}`}
      subTitle={<Tag color={STATE_COLORS[c.state]}>{c.stateLabel}</Tag>}
      extra={
        <Space>
          {actions.map(({ action }) =>
            action === 'REJECT' || action === 'CANCEL' ? (
              <Button key={action} danger onClick={() => setWithReasons(action)}>
                {ACTION_LABELS[action]}
              </Button>
            ) : (
              <Button key={action} type="primary" loading={busy} onClick={() => void step(action)}>
                {ACTION_LABELS[action]}
              </Button>
            ),
          )}
        </Space>
      }
    >
      <Card size="small" className="hj-panel" style={{ marginBottom: 16 }} title="办理进度">
        <ClaimProgress state={c.state} />
        <Typography.Text type="secondary">受理于 {formatDateTime(c.createdAt)}</Typography.Text>
        <ClaimTimeline steps={c.timeline} />
      </Card>
      <Card size="small" className="hj-panel" style={{ marginBottom: 16 }} title="申请信息">
        <Descriptions size="small" column={{ xs: 1, md: 2 }}>
          <Descriptions.Item label="计划">{plan?.nameZh ?? c.planCode}</Descriptions.Item>
          <Descriptions.Item label="来源">{SOURCE_LABELS[c.source] ?? c.source}</Descriptions.Item>
          <Descriptions.Item label="事故日期">{formatDate(c.eventDate)}</Descriptions.Item>
          <Descriptions.Item label="住院">{c.admittedOn ? `${formatDate(c.admittedOn)} 至 ${formatDate(c.dischargedOn)}` : '—'}</Descriptions.Item>
          <Descriptions.Item label="医院">{c.hospitalMasked || '—'}</Descriptions.Item>
          <Descriptions.Item label="医保范围内费用">{formatYuan(c.coveredCostFen)}</Descriptions.Item>
          <Descriptions.Item label="个人自付">{formatYuan(c.ownCostFen)}</Descriptions.Item>
          {c.caseRef && <Descriptions.Item label="病案号">{c.caseRef}</Descriptions.Item>}
          {c.gradedOn && <Descriptions.Item label="伤残评定日期">{formatDate(c.gradedOn)}</Descriptions.Item>}
          {c.gradedOn && <Descriptions.Item label="治疗终结日期">{c.treatmentEndedOn ? formatDate(c.treatmentEndedOn) : '评定时尚未终结'}</Descriptions.Item>}
        </Descriptions>
      </Card>
      <Card size="small" className="hj-panel" style={{ marginBottom: 16 }} title="给付计算">
        <BenefitTable claim={c} plan={plan} />
      </Card>
      <Card size="small" className="hj-panel" title="申请材料">
        <ClaimDocuments documents={c.documents} emptyText={c.source === 'automatic' ? '免申即享，无需材料' : '暂无材料'} />
      </Card>
      {withReasons && (
        <MutationDialog<{ reasons: string }, MutualAidClaimStepMutation['mutualAidClaimStep']>
          title={ACTION_LABELS[withReasons]}
          okText="确定"
          danger
          name="mutual-aid-reasons"
          onClose={() => setWithReasons(null)}
          errorOptions={{ messages: MUTUAL_AID_ERRORS }}
          mutate={async (v) => (await gql(MutualAidClaimStepDocument, { id: c.id, action: withReasons, reasons: v.reasons.split(/\n+/).map((s) => s.trim()).filter(Boolean), expectedVersion: c.version })).mutualAidClaimStep}
          onDone={async () => {
            setWithReasons(null);
            await refetch();
          }}
        >
          <Form.Item label="理由（每行一条）" name="reasons" rules={[{ required: true, whitespace: true, message: '请填写理由' }]}>
            <Input.TextArea rows={3} />
          </Form.Item>
        </MutationDialog>
      )}
    </PageContainer>
  );
}
