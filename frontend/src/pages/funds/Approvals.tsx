/** 记账审批: manual entries above the threshold wait for a second person (maker-checker). */
import { useState } from 'react';
import { App, Badge, Button, Card, Form, Input, Segmented, Space, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { gql } from '../../api/client';
import { describeError, errorMessage } from '../../api/errors';
import { LedgerDraftApproveDocument, LedgerDraftRejectDocument, LedgerDraftsDocument, type DraftStatus, type LedgerDraftFieldsFragment, type LedgerDraftRejectMutation } from '../../graphql/generated';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable, useConnection } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { DRAFT_STATUS_LABELS } from '../../lib/labels';
import { formatDate, formatDateTime } from '../../lib/format';
import { Amount, PostingsTable } from './shared';

type Row = LedgerDraftFieldsFragment;
const PAGE_SIZE = 20;
const STATUS_COLORS: Record<DraftStatus, string> = { PENDING_APPROVAL: 'processing', APPROVED: 'success', REJECTED: 'error' };

const DRAFT_MESSAGES = {
  SELF_APPROVAL: '不能审批自己提交的记账，请由另一位审核人审批',
  INVALID_STATE: '该笔记账已被处理',
  'amountFen.INSUFFICIENT_FUNDS': '可用余额不足，无法入账',
  'amountFen.BUDGET_EXCEEDED': '超出本年度预算，无法入账',
};

export default function FundsApprovals() {
  const { me, can } = useAuth();
  const { message, modal } = App.useApp();
  const [status, setStatus] = useState<DraftStatus | 'ALL'>('PENDING_APPROVAL');
  const q = useConnection(LedgerDraftsDocument, { status: status === 'ALL' ? null : status }, (d) => d.ledgerDrafts, { pageSize: PAGE_SIZE });
  const [rejecting, setRejecting] = useState<Row | null>(null);
  const mayApprove = can('ledger.approve');

  const approve = (d: Row) =>
    modal.confirm({
      title: '批准并入账？',
      content: (
        <span>
          {d.memo || '（无摘要）'} · 金额 <Amount fen={d.totalFen} strong /> 元。批准后立即入账，不可撤回（更正须做冲销凭证）。
        </span>
      ),
      okText: '批准入账',
      cancelText: '取消',
      onOk: async () => {
        try {
          const { ledgerDraftApprove: r } = await gql(LedgerDraftApproveDocument, { id: d.id });
          if (r.errors.length) {
            message.error(errorMessage(r.errors[0].code, r.errors[0].field, DRAFT_MESSAGES));
            return;
          }
          message.success('已批准，凭证已入账');
          await q.refetch();
        } catch (e) {
          message.error(describeError(e));
        }
      },
    });

  const columns: ColumnsType<Row> = [
    { title: '记账日期', dataIndex: 'entryDate', width: 110, render: formatDate },
    {
      title: '摘要',
      dataIndex: 'memo',
      render: (memo: string, d) => (
        <Space direction="vertical" size={0}>
          <span>{memo || '—'}</span>
          {d.createdById === me.user.id && <Tag>我提交的</Tag>}
          {d.status === 'REJECTED' && d.reason ? <Typography.Text type="secondary">驳回理由：{d.reason}</Typography.Text> : null}
        </Space>
      ),
    },
    { title: '金额（元）', dataIndex: 'totalFen', align: 'right', width: 150, render: (v) => <Amount fen={v} strong /> },
    { title: '状态', dataIndex: 'status', width: 100, render: (s: DraftStatus) => <Badge status={STATUS_COLORS[s] as 'processing'} text={DRAFT_STATUS_LABELS[s]} /> },
    { title: '提交时间', dataIndex: 'createdAt', width: 170, responsive: ['lg'], render: formatDateTime },
  ];
  if (mayApprove) {
    columns.push({
      title: '操作',
      key: 'actions',
      width: 140,
      render: (_, d) =>
        d.status === 'PENDING_APPROVAL' ? (
          d.createdById === me.user.id ? (
            <Typography.Text type="secondary">须他人审批</Typography.Text>
          ) : (
            <Space size={0}>
              <Button type="link" size="small" onClick={() => approve(d)}>
                批准
              </Button>
              <Button type="link" size="small" danger onClick={() => setRejecting(d)}>
                驳回
              </Button>
            </Space>
          )
        ) : null,
    });
  }

  return (
    <PageContainer title="记账审批" subTitle="超过审批阈值的手工记账须由另一位审核人批准后才入账（审批人不能是制单人）">
      <Card size="small" className="hj-panel">
        <Segmented<DraftStatus | 'ALL'>
          aria-label="审批状态"
          style={{ marginBottom: 12 }}
          value={status}
          onChange={(v) => {
            setStatus(v);
          }}
          options={[
            { value: 'PENDING_APPROVAL', label: '待审批' },
            { value: 'APPROVED', label: '已批准' },
            { value: 'REJECTED', label: '已驳回' },
            { value: 'ALL', label: '全部' },
          ]}
        />
        <ConnectionTable<Row>
          source={q}
          emptyText={status === 'PENDING_APPROVAL' ? '没有待审批的记账' : '暂无记录'}
          size="middle"
          columns={columns}
          expandable={{
            expandedRowRender: (d) => (
              <PostingsTable
                rows={d.postings.map((p) => ({ side: p.side, amountFen: p.amountFen, code: p.account?.code ?? '', accountName: p.account?.name, orgUnitName: p.account?.orgUnit?.name, fundName: p.account?.fund?.name }))}
              />
            ),
          }}
        />
      </Card>
      {rejecting && (
        <RejectDialog
          draft={rejecting}
          onClose={() => setRejecting(null)}
          onDone={async () => {
            setRejecting(null);
            message.success('已驳回');
            await q.refetch();
          }}
        />
      )}
    </PageContainer>
  );
}

function RejectDialog({ draft, onClose, onDone }: { draft: Row; onClose: () => void; onDone: () => Promise<void> }) {
  return (
    <MutationDialog<{ reason: string }, LedgerDraftRejectMutation['ledgerDraftReject']>
      title="驳回记账"
      okText="驳回"
      danger
      name="draft-reject"
      onClose={onClose}
      mutate={async (v) => (await gql(LedgerDraftRejectDocument, { id: draft.id, reason: v.reason.trim() })).ledgerDraftReject}
      onDone={() => onDone()}
      errorOptions={{ messages: DRAFT_MESSAGES }}
    >
      <Form.Item label="驳回理由" name="reason" rules={[{ required: true, whitespace: true, message: '请填写驳回理由' }]}>
        <Input.TextArea rows={3} autoFocus maxLength={500} showCount />
      </Form.Item>
    </MutationDialog>
  );
}
