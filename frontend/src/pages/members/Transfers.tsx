/**
 * 会籍转移: the transfers this province takes part in (within it, outgoing, incoming). Approvers
 * approve or reject; each side's union approves, by two different people, and the second
 * approval completes the transfer. The source union's clerk can withdraw a pending request.
 */
import { useState } from 'react';
import { Link } from 'react-router';
import { App, Badge, Button, Card, Form, Input, Segmented, Select, Space, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { CheckCircleFilled, ClockCircleOutlined } from '@ant-design/icons';
import { gql } from '../../api/client';
import { describeError, errorMessage, type ErrorMessages } from '../../api/errors';
import { useGql } from '../../api/useGql';
import {
  LoginTenantsDocument,
  MemberTransferApproveDocument,
  MemberTransferCancelDocument,
  MemberTransferRejectDocument,
  type MemberTransferRejectMutation,
  MemberTransfersDocument,
  type MemberTransferDirection,
  type MemberTransferFieldsFragment,
  type MemberTransferStatus,
} from '../../graphql/generated';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable, useConnection } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { TRANSFER_DIRECTION_LABELS, TRANSFER_STATUS_LABELS } from '../../lib/labels';
import { formatDateTime } from '../../lib/format';

type Row = MemberTransferFieldsFragment;
const PAGE_SIZE = 20;
const STATUS_BADGES: Record<MemberTransferStatus, 'processing' | 'success' | 'error' | 'default'> = {
  PENDING: 'processing',
  COMPLETED: 'success',
  REJECTED: 'error',
  CANCELLED: 'default',
};

export const TRANSFER_MESSAGES: ErrorMessages = {
  SELF_APPROVAL: '申请人不能审批自己提交的转移，另一方工会的审批也须由另一位审核人办理',
  'id.FORBIDDEN': '您无权审批这一方工会的转移，或这一方已审批',
  FORBIDDEN: '您无权办理此转移',
  'id.INVALID_STATE': '该转移已处理，或会员状态已变化，请刷新',
  CONFLICT: '该职工在转入省份已是在会会员，不能完成转移',
  'note.INVALID_INPUT': '驳回说明不能超过 500 个字',
};

/**
 * Whether the approve button makes sense for this side of the transfer: a side that has approved
 * is done; for a transfer between provinces only our own side is ours to approve.
 */
export function canApproveHere(t: Pick<Row, 'status' | 'direction' | 'sourceApprovedAt' | 'destApprovedAt'>): boolean {
  if (t.status !== 'PENDING') return false;
  if (t.direction === 'OUTGOING') return !t.sourceApprovedAt;
  if (t.direction === 'INCOMING') return !t.destApprovedAt;
  return !t.sourceApprovedAt || !t.destApprovedAt;
}

function Approval({ label, by, at }: { label: string; by?: string | null; at?: string | null }) {
  return (
    <div>
      {at ? <CheckCircleFilled style={{ color: '#389e0d' }} aria-hidden /> : <ClockCircleOutlined aria-hidden />} {label}：
      {at ? (
        <span>
          {by || '—'} 已同意 <Typography.Text type="secondary">{formatDateTime(at)}</Typography.Text>
        </span>
      ) : (
        <Typography.Text type="secondary">待审批</Typography.Text>
      )}
    </div>
  );
}

export default function MemberTransfers() {
  const { can } = useAuth();
  const { message, modal } = App.useApp();
  const [status, setStatus] = useState<MemberTransferStatus | 'ALL'>('PENDING');
  const [direction, setDirection] = useState<MemberTransferDirection | 'ALL'>('ALL');
  const q = useConnection(MemberTransfersDocument, { status: status === 'ALL' ? null : status, direction: direction === 'ALL' ? null : direction }, (d) => d.memberTransfers, { pageSize: PAGE_SIZE });
  const tenants = useGql(LoginTenantsDocument);
  const [rejecting, setRejecting] = useState<Row | null>(null);
  const mayApprove = can('member.transfer.approve');
  const mayCancel = can('member.write');
  const provinceName = (code: string) => tenants.data?.loginTenants.find((t) => t.code === code)?.name ?? code;

  const act = async (run: () => Promise<{ errors: readonly { field: string | null; code: string }[] }>, ok: string) => {
    try {
      const r = await run();
      if (r.errors.length) {
        message.error(errorMessage(r.errors[0].code, r.errors[0].field, TRANSFER_MESSAGES));
        return;
      }
      message.success(ok);
      await q.refetch();
    } catch (e) {
      message.error(describeError(e));
    }
  };

  const approve = (t: Row) =>
    modal.confirm({
      title: '同意会籍转移？',
      content: `${t.personName}：${provinceName(t.sourceTenantCode)} ${t.sourceUnitName} → ${provinceName(t.destTenantCode)} ${t.destUnitName}。双方工会都同意后转移即完成。`,
      okText: '同意',
      cancelText: '取消',
      onOk: () => act(async () => (await gql(MemberTransferApproveDocument, { id: t.id })).memberTransferApprove, '已同意'),
    });

  const cancel = (t: Row) =>
    modal.confirm({
      title: '撤回会籍转移申请？',
      content: `撤回后${t.personName}恢复为原工会的在会会员。`,
      okText: '撤回申请',
      cancelText: '取消',
      onOk: () => act(async () => (await gql(MemberTransferCancelDocument, { id: t.id })).memberTransferCancel, '已撤回'),
    });

  const columns: ColumnsType<Row> = [
    {
      title: '会员',
      key: 'person',
      render: (_, t) => (
        <Space direction="vertical" size={0}>
          {/* an incoming transfer's member lives in the other province until it completes */}
          {t.direction !== 'INCOMING' || t.status === 'COMPLETED' ? <Link to={`/members/${encodeURIComponent(t.memberId)}`}>{t.personName}</Link> : <span>{t.personName}</span>}
          <span className="hj-mono-small">{t.idNumberMasked}</span>
        </Space>
      ),
    },
    {
      title: '转出 → 转入',
      key: 'route',
      render: (_, t) => (
        <Space direction="vertical" size={0}>
          <span>
            <Tag>{TRANSFER_DIRECTION_LABELS[t.direction] ?? '会籍转移'}</Tag>
          </span>
          <span>
            转出：{t.sourceTenantCode !== t.destTenantCode ? `${provinceName(t.sourceTenantCode)} ` : ''}
            {t.sourceUnitName}
          </span>
          <span>
            转入：{t.sourceTenantCode !== t.destTenantCode ? `${provinceName(t.destTenantCode)} ` : ''}
            {t.destUnitName}
          </span>
        </Space>
      ),
    },
    {
      title: '状态',
      dataIndex: 'status',
      width: 100,
      render: (s: MemberTransferStatus) => <Badge status={STATUS_BADGES[s]} text={TRANSFER_STATUS_LABELS[s]} />,
    },
    {
      title: '双方审批',
      key: 'approvals',
      responsive: ['md'],
      render: (_, t) => (
        <Space direction="vertical" size={0}>
          <Approval label="转出方" by={t.sourceApprovedByName} at={t.sourceApprovedAt} />
          <Approval label="转入方" by={t.destApprovedByName} at={t.destApprovedAt} />
          {(t.status === 'REJECTED' || t.status === 'CANCELLED') && (
            <Typography.Text type="secondary">
              {t.status === 'REJECTED' ? '驳回' : '撤回'}：{t.decidedByName || '—'}
              {t.decisionNote ? `（${t.decisionNote}）` : ''}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    {
      title: '申请',
      key: 'request',
      responsive: ['lg'],
      render: (_, t) => (
        <Space direction="vertical" size={0}>
          <span>{t.requestedByName}</span>
          <Typography.Text type="secondary">{formatDateTime(t.createdAt)}</Typography.Text>
          {t.reason ? <Typography.Text type="secondary">原因：{t.reason}</Typography.Text> : null}
        </Space>
      ),
    },
  ];
  if (mayApprove || mayCancel) {
    columns.push({
      title: '操作',
      key: 'actions',
      width: 150,
      render: (_, t) =>
        t.status === 'PENDING' ? (
          <Space size={0} wrap>
            {mayApprove && canApproveHere(t) && (
              <Button type="link" size="small" onClick={() => approve(t)} aria-label={`同意${t.personName}的会籍转移`}>
                同意
              </Button>
            )}
            {mayApprove && (
              <Button type="link" size="small" danger onClick={() => setRejecting(t)} aria-label={`驳回${t.personName}的会籍转移`}>
                驳回
              </Button>
            )}
            {mayCancel && t.direction !== 'INCOMING' && (
              <Button type="link" size="small" onClick={() => cancel(t)} aria-label={`撤回${t.personName}的会籍转移`}>
                撤回
              </Button>
            )}
            {mayApprove && !canApproveHere(t) && <Typography.Text type="secondary">等待对方审批</Typography.Text>}
          </Space>
        ) : null,
    });
  }

  return (
    <PageContainer title="会籍转移" subTitle="会员在工会之间（含跨省）转移会籍，须转出、转入双方工会各由一位审核人同意">
      <Card size="small" className="hj-panel">
        <Space wrap style={{ marginBottom: 12 }}>
          <Segmented<MemberTransferStatus | 'ALL'>
            aria-label="转移状态"
            value={status}
            onChange={(v) => {
              setStatus(v);
            }}
            options={[
              { value: 'PENDING', label: '待审批' },
              { value: 'COMPLETED', label: '已完成' },
              { value: 'REJECTED', label: '已驳回' },
              { value: 'CANCELLED', label: '已撤回' },
              { value: 'ALL', label: '全部' },
            ]}
          />
          <Select<MemberTransferDirection | 'ALL'>
            aria-label="转移方向"
            value={direction}
            style={{ width: 140 }}
            onChange={(v) => {
              setDirection(v);
            }}
            options={[
              { value: 'ALL', label: '全部方向' },
              { value: 'OUTGOING', label: '转出' },
              { value: 'INCOMING', label: '转入' },
            ]}
          />
        </Space>
        <ConnectionTable<Row>
          source={q}
          emptyText={status === 'PENDING' ? '没有待审批的会籍转移；在会员详情页可申请转移' : '暂无记录'}
          size="middle"
          columns={columns}
        />
      </Card>
      {rejecting && (
        <RejectDialog
          transfer={rejecting}
          onClose={() => setRejecting(null)}
          onDone={() => {
            setRejecting(null);
            message.success('已驳回');
            void q.refetch();
          }}
        />
      )}
    </PageContainer>
  );
}

function RejectDialog({ transfer, onClose, onDone }: { transfer: Row; onClose: () => void; onDone: () => void }) {
  return (
    <MutationDialog<{ note: string }, MemberTransferRejectMutation['memberTransferReject']>
      title={`驳回${transfer.personName}的会籍转移`}
      okText="驳回"
      danger
      name="transfer-reject"
      onClose={onClose}
      intro={<Typography.Paragraph type="secondary">驳回后会员留在原工会（{transfer.sourceUnitName}），恢复为在会状态。</Typography.Paragraph>}
      mutate={async (v) => (await gql(MemberTransferRejectDocument, { id: transfer.id, note: v.note.trim() })).memberTransferReject}
      onDone={() => onDone()}
      errorOptions={{ messages: TRANSFER_MESSAGES }}
    >
      <Form.Item label="驳回说明" name="note" rules={[{ required: true, whitespace: true, message: '请填写驳回说明' }, { max: 500, message: '驳回说明不能超过 500 个字' }]}>
        <Input.TextArea rows={3} maxLength={500} showCount autoFocus />
      </Form.Item>
    </MutationDialog>
  );
}
