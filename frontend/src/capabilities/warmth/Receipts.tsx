/** 签收回执: those served who have not confirmed, with follow-up call notes; 记录回访 and 登记签收
 * (a signature, fingerprint or photo as JPEG/PNG/PDF, checked by content on the server). */
import { useState } from 'react';
import { Link } from 'react-router';
import { App, Button, Form, Input, Select, Space, Table, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import type { UploadFile } from 'antd/es/upload/interface';
import { gql } from '../../api/client';
import type { UserError } from '../../api/errors';
import { useGql } from '../../api/useGql';
import { useAuth } from '../../auth/AuthProvider';
import { MutationDialog } from '../../components/MutationDialog';
import { ErrorState, LoadingState } from '../../components/states';
import { WarmthFollowupAddDocument, WarmthReceiptRecordDocument, WarmthUnconfirmedDocument, type WarmthUnconfirmedQuery } from '../../graphql/generated';
import { formatDateTime } from '../../lib/format';
import { formatFen } from '../../lib/money';
import type { CampaignDetailData } from './CampaignDetail';

type Row = WarmthUnconfirmedQuery['warmthUnconfirmed'][number];
type Errors = { errors: UserError[] };

const MAX_BYTES = 10 * 1024 * 1024;

/** A picked file as base64 (without the data: prefix), as the API takes it. */
export async function fileBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function RecordDialog({ row, onClose, onDone }: { row: Row; onClose: () => void; onDone: () => void }) {
  return (
    <MutationDialog<{ kind: string; file: UploadFile[] }, Errors>
      title="登记签收"
      okText="保存"
      name="warmth-receipt"
      initialValues={{ kind: 'signature', file: [] }}
      onClose={onClose}
      mutate={async (v) => {
        const file = v.file[0]?.originFileObj as Blob;
        return (await gql(WarmthReceiptRecordDocument, { beneficiaryId: row.beneficiary.id, kind: v.kind, contentBase64: await fileBase64(file) })).warmthReceiptRecord;
      }}
      onDone={onDone}
      errorOptions={{ fieldMap: { contentBase64: 'file' }, messages: { 'contentBase64.INVALID_INPUT': '请上传 JPEG、PNG 或 PDF 文件（不超过 10 MB）' } }}
    >
      <Form.Item label="签收方式" name="kind" rules={[{ required: true }]}>
        <Select options={[{ value: 'signature', label: '签名' }, { value: 'fingerprint', label: '指纹' }, { value: 'photo', label: '照片' }]} />
      </Form.Item>
      <Form.Item
        label="签收凭证"
        name="file"
        valuePropName="fileList"
        getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList.slice(-1)}
        rules={[
          { validator: async (_, v: UploadFile[]) => { if (!v?.length) throw new Error('请上传签收凭证'); } },
          { validator: async (_, v: UploadFile[]) => { if ((v?.[0]?.size ?? 0) > MAX_BYTES) throw new Error('文件不能超过 10 MB'); } },
        ]}
      >
        <Upload beforeUpload={() => false} accept=".jpg,.jpeg,.png,.pdf" maxCount={1}>
          <Button icon={<UploadOutlined />}>选择文件（JPEG/PNG/PDF）</Button>
        </Upload>
      </Form.Item>
    </MutationDialog>
  );
}

function FollowupDialog({ row, onClose, onDone }: { row: Row; onClose: () => void; onDone: () => void }) {
  return (
    <MutationDialog<{ note: string }, Errors>
      title="记录回访"
      okText="保存"
      name="warmth-followup"
      onClose={onClose}
      mutate={async (v) => (await gql(WarmthFollowupAddDocument, { beneficiaryId: row.beneficiary.id, note: v.note.trim() })).warmthFollowupAdd}
      onDone={onDone}
    >
      <Form.Item label="回访情况" name="note" rules={[{ required: true, whitespace: true, message: '请填写回访情况' }]}>
        <Input.TextArea rows={3} maxLength={500} />
      </Form.Item>
    </MutationDialog>
  );
}

export function Receipts({ campaign, groupLabel }: { campaign: CampaignDetailData; groupLabel: (g: string) => string }) {
  const q = useGql(WarmthUnconfirmedDocument, { campaignId: campaign.id });
  const { can } = useAuth();
  const { message } = App.useApp();
  const [action, setAction] = useState<{ row: Row; kind: 'record' | 'followup' } | null>(null);
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <LoadingState />;
  const done = (text: string) => {
    setAction(null);
    message.success(text);
    void q.refetch();
  };
  const confirmed = campaign.beneficiaries.filter((b) => b.receiptStatus === 'confirmed').length;
  return (
    <>
      <p data-testid="warmth-receipt-summary">
        已确认 {confirmed} 人，待确认 {q.data.warmthUnconfirmed.length} 人
      </p>
      <Table<Row>
        size="small"
        rowKey={(r) => r.beneficiary.id}
        scroll={{ x: 640 }}
        dataSource={[...q.data.warmthUnconfirmed]}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        locale={{ emptyText: '没有待确认的签收' }}
        columns={[
          { title: '会员', key: 'm', render: (_, r) => <Link to={`/members/${r.beneficiary.memberId}`}>查看会员</Link> },
          { title: '慰问对象', key: 'g', render: (_, r) => groupLabel(r.beneficiary.group) },
          { title: '慰问', key: 'a', render: (_, r) => r.beneficiary.itemGiven ?? `${formatFen(r.beneficiary.amountFen)} 元` },
          { title: '发放时间', key: 'p', responsive: ['md'], render: (_, r) => formatDateTime(r.beneficiary.paidAt) },
          {
            title: '回访记录',
            key: 'f',
            render: (_, r) => (r.followups.length ? r.followups.map((f, i) => <div key={i}>{formatDateTime(f.createdAt)}：{f.note}</div>) : '—'),
          },
          ...(can('warmth.write')
            ? [
                {
                  title: '操作',
                  key: 'op',
                  render: (_: unknown, r: Row) => (
                    <Space size={4} wrap>
                      <Button size="small" onClick={() => setAction({ row: r, kind: 'followup' })}>记录回访</Button>
                      <Button size="small" type="primary" onClick={() => setAction({ row: r, kind: 'record' })}>登记签收</Button>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      {action?.kind === 'record' && <RecordDialog row={action.row} onClose={() => setAction(null)} onDone={() => done('已登记签收')} />}
      {action?.kind === 'followup' && <FollowupDialog row={action.row} onClose={() => setAction(null)} onDone={() => done('已记录回访')} />}
    </>
  );
}
