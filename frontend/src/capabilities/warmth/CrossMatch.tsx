/** 十条线比对: upload another line's CSV or XLSX (身份证号 column) and see per-row errors, who matched (on the
 * list or new) and the archived hardship households the list misses. Nothing of the file is kept. */
import type { ReactNode } from 'react';
import { useState } from 'react';
import { Link } from 'react-router';
import { Alert, Button, Descriptions, Form, Select, Space, Table, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import type { UploadFile } from 'antd/es/upload/interface';
import { gql } from '../../api/client';
import { FormAlert } from '../../components/FormAlert';
import { useMutationForm } from '../../components/MutationDialog';
import { usePoll } from '../../api/usePoll';
import { JobDocument, WarmthCrossMatchDocument, WarmthCrossMatchStartDocument, type WarmthCrossMatchMutation } from '../../graphql/generated';
import { LINE_OPTIONS } from './labels';
import { fileBase64 } from './Receipts';

type Result = NonNullable<WarmthCrossMatchMutation['warmthCrossMatch']['result']>;

// Larger files are matched by a job (the server answers up to 2 MB in the request); its result has the same fields.
export const SYNC_MAX_BYTES = 2 * 1024 * 1024;

export function CrossMatch({ campaignId, unitName }: { campaignId: string; unitName: (id: string) => ReactNode }) {
  const [form] = Form.useForm<{ line: string; file: UploadFile[] }>();
  const [result, setResult] = useState<Result | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [jobError, setJobError] = useState<string | null>(null);
  usePoll(
    async () => {
      if (!jobId) return;
      const j = (await gql(JobDocument, { id: jobId })).job;
      if (j?.status === 'SUCCEEDED') {
        setJobId(null);
        setResult(j.result as Result);
      } else if (j?.status === 'FAILED' || j?.status === 'INTERRUPTED') {
        setJobId(null);
        const first: unknown = Array.isArray(j.errors) ? j.errors[0] : undefined;
        setJobError((first as { messageZh?: string } | undefined)?.messageZh || '比对任务失败，请重试');
      }
    },
    1000,
    !!jobId,
  );
  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async (v) => {
      setResult(null);
      setJobError(null);
      const file = v.file[0]?.originFileObj as Blob;
      const vars = { campaignId, line: v.line, contentBase64: await fileBase64(file) };
      if (file.size > SYNC_MAX_BYTES) {
        const r = (await gql(WarmthCrossMatchStartDocument, vars)).warmthCrossMatchStart;
        return { result: null, jobId: r.jobId ?? null, errors: r.errors };
      }
      return { ...(await gql(WarmthCrossMatchDocument, vars)).warmthCrossMatch, jobId: null };
    },
    isDone: (p) => !!p.result || !!p.jobId,
    onDone: (p) => (p.result ? setResult(p.result) : setJobId(p.jobId)),
    errorOptions: { fieldMap: { contentBase64: 'file' } },
  });
  return (
    <>
      <FormAlert errors={formErrors} />
      <Form form={form} layout="inline" name="warmth-crossmatch" initialValues={{ line: 'civil_affairs_low_income', file: [] }} onFinish={(v) => void submit(v)}>
        <Form.Item label="比对条线" name="line" rules={[{ required: true }]}>
          <Select style={{ width: 180 }} options={LINE_OPTIONS} />
        </Form.Item>
        <Form.Item
          label="名单文件"
          name="file"
          valuePropName="fileList"
          getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList.slice(-1)}
          rules={[{ validator: async (_, v: UploadFile[]) => { if (!v?.length) throw new Error('请选择 CSV 文件'); } }]}
        >
          <Upload beforeUpload={() => false} accept=".csv,.xlsx" maxCount={1}>
            <Button icon={<UploadOutlined />}>选择 CSV 或 XLSX（含“身份证号”列）</Button>
          </Upload>
        </Form.Item>
        <Form.Item>
          <Button type="primary" htmlType="submit" loading={busy || !!jobId}>开始比对</Button>
        </Form.Item>
      </Form>
      <p style={{ color: '#666', marginTop: 8 }}>按身份证号与会员比对；文件内容不保存（超过2MB的文件在后台比对，完成后显示结果）。</p>
      {jobId && <Alert type="info" showIcon message="正在后台比对，请稍候…" data-testid="warmth-crossmatch-running" />}
      {jobError && <Alert type="error" showIcon message={jobError} />}
      {result && (
        <Space direction="vertical" style={{ width: '100%' }} data-testid="warmth-crossmatch-result">
          <Descriptions size="small" bordered column={{ xs: 2, sm: 3, md: 5, lg: 5, xl: 5, xxl: 5 }}>
            <Descriptions.Item label="行数">{result.rows}</Descriptions.Item>
            <Descriptions.Item label="已在名单">{result.matched}</Descriptions.Item>
            <Descriptions.Item label="可新增">{result.new}</Descriptions.Item>
            <Descriptions.Item label="未匹配">{result.unmatched}</Descriptions.Item>
            <Descriptions.Item label="无效行">{result.invalid}</Descriptions.Item>
          </Descriptions>
          {result.errors.length > 0 && (
            <Alert
              type="warning"
              showIcon
              message={`${result.errors.length} 行有误`}
              description={
                <ul style={{ margin: 0, paddingLeft: 18 }}>
                  {result.errors.map((e) => (
                    <li key={e.row}>第 {e.row} 行：{e.messageZh}</li>
                  ))}
                </ul>
              }
            />
          )}
          <Table
            size="small"
            rowKey="memberId"
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            locale={{ emptyText: '没有匹配到本活动范围内的会员' }}
            dataSource={[...result.members]}
            columns={[
              { title: '会员', dataIndex: 'memberId', render: (m: string) => <Link to={`/members/${m}`}>查看会员</Link> },
              { title: '工会', dataIndex: 'orgUnitId', render: unitName },
              { title: '名单', dataIndex: 'onList', render: (on: boolean) => (on ? '已在名单' : '未在名单') },
            ]}
          />
          {result.missedHouseholds.length > 0 && (
            <Alert type="info" showIcon message={`名单遗漏的在档困难职工家庭：${result.missedHouseholds.length} 户`} description={result.missedHouseholds.map((h, i) => <span key={h.householdId}>{i > 0 ? '、' : ''}{unitName(h.orgUnitId)}</span>)} />
          )}
        </Space>
      )}
    </>
  );
}
