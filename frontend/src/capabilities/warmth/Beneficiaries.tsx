/** 发放名单: the list, 按条件生成名单 (targeting) and 移出 with a reason while a draft. */
import { useState } from 'react';
import { Link } from 'react-router';
import { App, Button, Form, Input, Space, Table, Tag } from 'antd';
import { gql } from '../../api/client';
import { downloadFile } from '../../api/files';
import type { UserError } from '../../api/errors';
import { describeError, errorMessage } from '../../api/errors';
import { useAuth } from '../../auth/AuthProvider';
import { MutationDialog } from '../../components/MutationDialog';
import { WarmthBeneficiaryRemoveDocument, WarmthTargetingBuildDocument, type WarmthBeneficiaryFieldsFragment } from '../../graphql/generated';
import { formatFen } from '../../lib/money';
import { RECEIPT_LABELS } from './labels';
import type { CampaignDetailData } from './CampaignDetail';

type Row = WarmthBeneficiaryFieldsFragment;

export function Beneficiaries({ campaign, groupLabel, onChanged }: { campaign: CampaignDetailData; groupLabel: (g: string) => string; onChanged: () => void }) {
  const { can } = useAuth();
  const { message } = App.useApp();
  const [building, setBuilding] = useState(false);
  const [removing, setRemoving] = useState<Row | null>(null);
  const draft = campaign.state === 'draft' && can('warmth.write');
  const openReceipt = async (url: string) => {
    try {
      await downloadFile(url, '签收凭证');
    } catch (e) {
      message.error(describeError(e));
    }
  };
  const build = async () => {
    setBuilding(true);
    try {
      const r = (await gql(WarmthTargetingBuildDocument, { campaignId: campaign.id })).warmthTargetingBuild;
      if (r.errors.length) message.error(r.errors[0].messageZh || errorMessage(r.errors[0].code));
      else message.success(`已加入 ${r.added} 人`);
      onChanged();
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setBuilding(false);
    }
  };
  return (
    <>
      {draft && (
        <Space style={{ marginBottom: 12 }}>
          <Button type="primary" loading={building} onClick={() => void build()}>
            按条件生成名单
          </Button>
          <span style={{ color: '#666' }}>把测算预览中“可纳入”的人员加入名单；可逐人移出。</span>
        </Space>
      )}
      <Table<Row>
        size="small"
        rowKey="id"
        scroll={{ x: 640 }}
        dataSource={[...campaign.beneficiaries]}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        locale={{ emptyText: draft ? '名单为空；点击“按条件生成名单”' : '名单为空' }}
        columns={[
          { title: '会员', dataIndex: 'memberId', render: (m: string) => <Link to={`/members/${m}`}>查看会员</Link> },
          { title: '慰问对象', dataIndex: 'group', render: groupLabel },
          { title: '纳入理由', dataIndex: 'reason', responsive: ['md'] },
          { title: '金额（元）', dataIndex: 'amountFen', align: 'right', render: (v) => (v == null ? '审批时确定' : formatFen(v)) },
          { title: '发放', dataIndex: 'paid', render: (p: boolean, b) => (p ? <Tag color="green">{b.itemGiven ? `已发 ${b.itemGiven}` : '已发放'}</Tag> : <Tag>未发放</Tag>) },
          {
            title: '签收',
            key: 'receipt',
            render: (_: unknown, r: Row) => (
              <Space size={4}>
                {RECEIPT_LABELS[r.receiptStatus] ?? r.receiptStatus}
                {r.receiptFileUrl && (
                  <Button size="small" type="link" onClick={() => void openReceipt(r.receiptFileUrl!)}>
                    查看凭证
                  </Button>
                )}
              </Space>
            ),
          },
          ...(draft
            ? [{ title: '操作', key: 'op', render: (_: unknown, b: Row) => <Button size="small" danger onClick={() => setRemoving(b)}>移出</Button> }]
            : []),
        ]}
      />
      {removing && (
        <MutationDialog<{ reason: string }, { removed: boolean; errors: UserError[] }>
          title="移出名单"
          okText="移出"
          danger
          name="warmth-remove"
          onClose={() => setRemoving(null)}
          mutate={async (v) => (await gql(WarmthBeneficiaryRemoveDocument, { campaignId: campaign.id, beneficiaryId: removing.id, reason: v.reason.trim() })).warmthBeneficiaryRemove}
          isDone={(p) => p.removed}
          onDone={() => {
            setRemoving(null);
            message.success('已移出名单');
            onChanged();
          }}
        >
          <Form.Item label="移出理由" name="reason" rules={[{ required: true, whitespace: true, message: '请填写移出理由' }]}>
            <Input.TextArea rows={3} maxLength={500} />
          </Form.Item>
        </MutationDialog>
      )}
    </>
  );
}
