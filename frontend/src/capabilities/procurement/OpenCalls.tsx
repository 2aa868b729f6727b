/**
 * 采购公告 (an organisation's login): the published calls; ask during the enquiry period, place a
 * sealed bid (price and documents) during the bidding period, complain during the standstill.
 */
import { useState } from 'react';
import { Button, Descriptions, Form, Input, InputNumber, Space, Typography, Upload } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import type { UploadFile } from 'antd';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { gql } from '../../api/client';
import { formatYuan, yuanToFen } from '../../lib/money';
import {
  PcBidSubmitDocument,
  PcComplaintFileDocument,
  PcOpenCallsDocument,
  PcQuestionAskDocument,
  type CallFieldsFragment,
  type PcBidSubmitMutation,
  type PcComplaintFileMutation,
  type PcQuestionAskMutation,
} from '../../graphql/generated';
import { COMPLAINT_OUTCOME, StatusTag, dateTime, fileBase64, useListSource } from './common';

type Call = CallFieldsFragment;

function CallText({ call }: { call: Call }) {
  return (
    <div>
      <Descriptions size="small" column={{ xs: 1, md: 3 }}>
        <Descriptions.Item label="答疑截止">{dateTime(call.enquiryEnd)}</Descriptions.Item>
        <Descriptions.Item label="投标截止">{dateTime(call.tenderEnd)}</Descriptions.Item>
        <Descriptions.Item label="公示截止">{dateTime(call.standstillEnd)}</Descriptions.Item>
      </Descriptions>
      {call.description && <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{call.description}</Typography.Paragraph>}
      {call.questions.map((q) => (
        <Typography.Paragraph key={q.id}>问：{q.question}<br />答：{q.answer || '（待答复）'}</Typography.Paragraph>
      ))}
      {call.complaints.map((c) => (
        <Typography.Paragraph key={c.id} data-testid="my-complaint">
          我的投诉（{dateTime(c.createdAt)}）：{c.text}<br />
          处理结果：<StatusTag map={COMPLAINT_OUTCOME} value={c.outcome} />{c.resolution && `处理意见：${c.resolution}`}
        </Typography.Paragraph>
      ))}
    </div>
  );
}

export default function OpenCalls() {
  const source = useListSource(PcOpenCallsDocument, {}, (d) => d.procurementCalls);
  const [asking, setAsking] = useState<Call | null>(null);
  const [bidding, setBidding] = useState<Call | null>(null);
  const [complaining, setComplaining] = useState<Call | null>(null);
  const [files, setFiles] = useState<UploadFile[]>([]);

  const columns: ColumnsType<Call> = [
    { title: '项目名称', dataIndex: 'title' },
    { title: '预算', dataIndex: 'budgetFen', render: (v: Call['budgetFen']) => formatYuan(v), align: 'right' },
    { title: '状态', dataIndex: 'stateLabel' },
    { title: '投标截止', dataIndex: 'tenderEnd', render: dateTime, responsive: ['md'] },
    {
      title: '操作', key: 'a', render: (_: unknown, c) => (
        <Space size={4} wrap>
          {c.state === 'enquiries' && <Button size="small" onClick={() => setAsking(c)}>提问</Button>}
          {c.state === 'bidding' && <Button size="small" type="primary" onClick={() => { setFiles([]); setBidding(c); }}>投标</Button>}
          {c.state === 'standstill' && <Button size="small" danger onClick={() => setComplaining(c)}>投诉</Button>}
        </Space>
      ),
    },
  ];

  return (
    <PageContainer title="采购公告" subTitle="已发布的购买服务项目；投标文件在截止前密封，任何人都无法查看">
      <ConnectionTable<Call> source={source} columns={columns} expandable={{ expandedRowRender: (c: Call) => <CallText call={c} /> }} emptyText="暂无已发布的采购项目" />
      {asking && (
        <MutationDialog<{ question: string }, PcQuestionAskMutation['procurementQuestionAsk']>
          title={`提问：${asking.title}`} okText="提交" name="pc-ask" onClose={() => setAsking(null)}
          mutate={async (v) => (await gql(PcQuestionAskDocument, { callId: asking.id, question: v.question.trim() })).procurementQuestionAsk}
          isDone={(r) => !!r.question}
          onDone={async () => { setAsking(null); await source.refetch(); }}
        >
          <Form.Item label="问题" name="question" rules={[{ required: true, whitespace: true, message: '请填写问题' }]}><Input.TextArea rows={3} maxLength={2000} /></Form.Item>
        </MutationDialog>
      )}
      {bidding && (
        <MutationDialog<{ priceYuan: number }, PcBidSubmitMutation['procurementBidSubmit']>
          title={`投标：${bidding.title}`} okText="密封提交" name="pc-bid" onClose={() => setBidding(null)}
          intro={<Typography.Paragraph type="secondary">预算 {formatYuan(bidding.budgetFen)}，报价不得超过预算；截止前可重新提交（以最后一次为准）。</Typography.Paragraph>}
          mutate={async (v) => (await gql(PcBidSubmitDocument, {
            callId: bidding.id, priceFen: Number(yuanToFen(v.priceYuan)),
            documents: await Promise.all(files.map(async (f) => ({ filename: f.name, contentBase64: await fileBase64(f.originFileObj as File) }))),
          })).procurementBidSubmit}
          isDone={(r) => !!r.bid}
          errorOptions={{ fieldMap: { priceFen: 'priceYuan' }, messages: { 'priceYuan.CAP_EXCEEDED': '报价超过项目预算', NOT_ELIGIBLE: '本组织尚未入库或在负面清单期间内，不能投标' } }}
          onDone={async () => { setBidding(null); await source.refetch(); }}
        >
          <Form.Item label="报价（元）" name="priceYuan" rules={[{ required: true, message: '请填写报价' }]}>
            <InputNumber min={0.01} precision={2} style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item label="投标文件（PDF、JPEG 或 PNG，1至10份）" required>
            <Upload accept=".pdf,.jpg,.jpeg,.png" multiple maxCount={10} fileList={files} beforeUpload={() => false} onChange={(i) => setFiles(i.fileList)}>
              <Button>选择文件</Button>
            </Upload>
          </Form.Item>
        </MutationDialog>
      )}
      {complaining && (
        <MutationDialog<{ text: string }, PcComplaintFileMutation['procurementComplaintFile']>
          title={`投诉：${complaining.title}`} okText="提交投诉" danger name="pc-complaint" onClose={() => setComplaining(null)}
          mutate={async (v) => (await gql(PcComplaintFileDocument, { callId: complaining.id, text: v.text.trim() })).procurementComplaintFile}
          isDone={(r) => !!r.call}
          onDone={async () => { setComplaining(null); await source.refetch(); }}
        >
          <Form.Item label="投诉内容" name="text" rules={[{ required: true, whitespace: true, message: '请填写投诉内容' }]}><Input.TextArea rows={4} maxLength={4000} /></Form.Item>
        </MutationDialog>
      )}
    </PageContainer>
  );
}
