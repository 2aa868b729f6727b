/**
 * 合同与履约: contracts with their milestones. Staff accept deliveries, finance pays accepted
 * milestones from the reservation, and the union evaluates (mid-term, then final); an organisation's
 * own login (`mine`) sees its contracts and reports delivery.
 */
import { useState } from 'react';
import { Button, Form, Input, InputNumber, Select, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { useAuth } from '../../auth/AuthProvider';
import { gql } from '../../api/client';
import { describeError } from '../../api/errors';
import { formatYuan } from '../../lib/money';
import {
  PcContractEvaluateDocument,
  PcContractsDocument,
  PcContractTerminateDocument,
  PcMilestoneAcceptDocument,
  PcMilestoneDeliverDocument,
  PcMilestonePayDocument,
  type ContractFieldsFragment,
  type MilestoneFieldsFragment,
  type PcContractEvaluateMutation,
  type PcContractTerminateMutation,
  type PcMilestoneDeliverMutation,
} from '../../graphql/generated';
import { EVALUATION_KINDS, MILESTONE_STATUS, StatusTag, dateTime, points, toastErrors, useListSource } from './common';

type Contract = ContractFieldsFragment;
type Milestone = MilestoneFieldsFragment;

export function ContractsView({ mine }: { mine: boolean }) {
  const { can } = useAuth();
  const canAccept = !mine && can('procurement.contract.accept');
  const canPay = !mine && can('procurement.contract.pay');
  const canTerminate = !mine && can('procurement.contract.terminate');
  const [terminating, setTerminating] = useState<Contract | null>(null);
  const source = useListSource(PcContractsDocument, {}, (d) => d.procurementContracts);
  const titles = new Map((source.query.data?.procurementCalls ?? []).map((c) => [c.id, c.title]));
  const [delivering, setDelivering] = useState<Milestone | null>(null);
  const [evaluating, setEvaluating] = useState<Contract | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const act = async (m: Milestone, kind: 'accept' | 'pay') => {
    setBusy(m.id);
    try {
      const r = kind === 'accept'
        ? (await gql(PcMilestoneAcceptDocument, { milestoneId: m.id })).procurementMilestoneAccept
        : (await gql(PcMilestonePayDocument, { milestoneId: m.id })).procurementMilestonePay;
      if (toastErrors(r.errors, kind === 'accept' ? '已验收' : '已支付')) await source.refetch();
    } catch (e) {
      toastErrors([{ message: describeError(e) }], '');
    } finally {
      setBusy(null);
    }
  };

  const milestoneColumns: ColumnsType<Milestone> = [
    { title: '期次', dataIndex: 'seq', width: 60 },
    { title: '阶段', dataIndex: 'title' },
    { title: '交付物', dataIndex: 'deliverable', responsive: ['md'] },
    { title: '比例', dataIndex: 'percent', render: (p: number) => `${p}%` },
    { title: '金额', dataIndex: 'amountFen', render: (v: Milestone['amountFen']) => formatYuan(v), align: 'right' },
    { title: '状态', dataIndex: 'status', render: (s: string) => <StatusTag map={MILESTONE_STATUS} value={s} /> },
    { title: '交付说明', dataIndex: 'deliveryNote', responsive: ['lg'] },
    { title: '支付时间', dataIndex: 'paidAt', render: dateTime, responsive: ['lg'] },
    {
      title: '操作', key: 'a', render: (_: unknown, m: Milestone) => (
        <Space size={4}>
          {mine && m.status === 'pending' && <Button size="small" type="primary" onClick={() => setDelivering(m)}>报告交付</Button>}
          {canAccept && m.status === 'delivered' && <Button size="small" type="primary" loading={busy === m.id} onClick={() => void act(m, 'accept')}>验收</Button>}
          {canPay && m.status === 'accepted' && <Button size="small" type="primary" loading={busy === m.id} onClick={() => void act(m, 'pay')}>支付</Button>}
        </Space>
      ),
    },
  ];

  const columns: ColumnsType<Contract> = [
    { title: '采购项目', dataIndex: 'callId', render: (id: string) => titles.get(id) ?? '—' },
    { title: '合同金额', dataIndex: 'valueFen', render: (v: Contract['valueFen']) => formatYuan(v), align: 'right' },
    { title: '签订时间', dataIndex: 'signedAt', render: dateTime, responsive: ['md'] },
    {
      title: '履约进度', key: 'p', render: (_: unknown, c) => {
        const paid = c.milestones.filter((m) => m.status === 'paid').length;
        return `${paid}/${c.milestones.length} 期已支付`;
      },
    },
    {
      title: '合同状态', key: 's', render: (_: unknown, c) => (c.status === 'terminated' ? (
        <Space direction="vertical" size={0}>
          <Tag data-status="terminated">已终止</Tag>
          <Typography.Text type="secondary">{dateTime(c.terminatedAt)}；理由：{c.terminationReasons.join('；')}</Typography.Text>
          <Typography.Text type="secondary">释放预留资金 {formatYuan(c.releasedFen)}</Typography.Text>
        </Space>
      ) : (
        <Space size={4} wrap>
          <Tag color="green">履行中</Tag>
          {canTerminate && c.milestones.some((m) => m.status !== 'paid') && <Button size="small" danger onClick={() => setTerminating(c)}>终止合同</Button>}
        </Space>
      )),
    },
    {
      title: '评估', key: 'e', render: (_: unknown, c) => (
        <Space size={2} wrap>
          {c.evaluations.map((e) => <Tag key={e.id}>{EVALUATION_KINDS[e.kind] ?? e.kind}：{e.score}分</Tag>)}
          {canAccept && c.evaluations.length < 2 && <Button size="small" onClick={() => setEvaluating(c)}>评估</Button>}
        </Space>
      ),
    },
  ];

  return (
    <PageContainer title={mine ? '我的合同' : '合同与履约'} subTitle={mine ? '按合同约定报告各期交付，工会验收后支付' : '验收交付、按期支付、中期与终期评估'}>
      <ConnectionTable<Contract>
        source={source}
        columns={columns}
        expandable={{
          // the milestones are the point of this screen: always shown under their contract
          expandedRowKeys: source.rows.map((c) => c.id),
          showExpandColumn: false,
          expandedRowRender: (c: Contract) => (
            <Table<Milestone> size="small" rowKey="id" pagination={false} dataSource={c.milestones} columns={milestoneColumns} aria-label="付款节点" />
          ),
        }}
        emptyText="暂无合同"
      />
      {delivering && (
        <MutationDialog<{ note: string }, PcMilestoneDeliverMutation['procurementMilestoneDeliver']>
          title={`报告交付：${delivering.title}`} okText="提交" name="pc-deliver" onClose={() => setDelivering(null)}
          mutate={async (v) => (await gql(PcMilestoneDeliverDocument, { milestoneId: delivering.id, note: v.note.trim() })).procurementMilestoneDeliver}
          isDone={(r) => !!r.milestone}
          onDone={async () => { setDelivering(null); await source.refetch(); }}
        >
          <Typography.Paragraph type="secondary">交付物：{delivering.deliverable}</Typography.Paragraph>
          <Form.Item label="交付说明" name="note" rules={[{ required: true, whitespace: true, message: '请填写交付说明' }]}>
            <Input.TextArea rows={3} maxLength={2000} />
          </Form.Item>
        </MutationDialog>
      )}
      {terminating && (
        <MutationDialog<{ reasons: string }, PcContractTerminateMutation['procurementContractTerminate']>
          title="终止合同" okText="终止合同" danger name="pc-terminate" onClose={() => setTerminating(null)}
          intro={(() => {
            const unpaid = terminating.milestones.filter((m) => m.status !== 'paid');
            const left = unpaid.reduce((sum, m) => sum + BigInt(m.amountFen), 0n);
            return (
              <Typography.Paragraph type="secondary">
                终止后，未支付的 {unpaid.length} 期付款节点将关闭，不再交付、验收或支付；预留资金中未支付的 {formatYuan(left)} 将释放回工会经费。已支付的款项不受影响。
              </Typography.Paragraph>
            );
          })()}
          mutate={async (v) => (await gql(PcContractTerminateDocument, { contractId: terminating.id, reasons: v.reasons.split('\n').map((x) => x.trim()).filter(Boolean) })).procurementContractTerminate}
          isDone={(r) => !!r.contract}
          onDone={async () => { toastErrors([], '合同已终止'); setTerminating(null); await source.refetch(); }}
        >
          <Form.Item label="终止理由（每行一条）" name="reasons" rules={[{ required: true, whitespace: true, message: '请填写终止理由' }]}>
            <Input.TextArea rows={3} maxLength={2000} />
          </Form.Item>
        </MutationDialog>
      )}
      {evaluating && (
        <MutationDialog<{ kind: string; score: number; comments?: string }, PcContractEvaluateMutation['procurementContractEvaluate']>
          title="履约评估" okText="提交评估" name="pc-evaluate" onClose={() => setEvaluating(null)}
          initialValues={{ kind: evaluating.evaluations.some((e) => e.kind === 'midterm') ? 'final' : 'midterm' }}
          mutate={async (v) => (await gql(PcContractEvaluateDocument, { contractId: evaluating.id, kind: v.kind, score: v.score, comments: v.comments?.trim() || null })).procurementContractEvaluate}
          isDone={(r) => !!r.evaluation}
          onDone={async (r) => { toastErrors([], `已评估，该组织绩效评分为 ${points(r.scoreBp ?? 0)}`); setEvaluating(null); await source.refetch(); }}
        >
          <Form.Item label="评估类型" name="kind" rules={[{ required: true }]}>
            <Select options={Object.entries(EVALUATION_KINDS).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Form.Item label="得分（0–100）" name="score" rules={[{ required: true, message: '请填写得分' }]}>
            <InputNumber min={0} max={100} precision={0} />
          </Form.Item>
          <Form.Item label="评语" name="comments"><Input.TextArea rows={3} maxLength={2000} /></Form.Item>
        </MutationDialog>
      )}
    </PageContainer>
  );
}

export default function Contracts() {
  return <ContractsView mine={false} />;
}
