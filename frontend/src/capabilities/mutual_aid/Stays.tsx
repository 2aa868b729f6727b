/**
 * 免申即享: upload a hospital-stay CSV for a plan; the job turns covered stays into approved claims.
 * The page follows the job's progress and then shows what it made and the unmatched rows (row number
 * and reason only: the file's personal data is never shown back).
 */
import { useState } from 'react';
import { Alert, App, Button, Card, Descriptions, Form, Progress, Select, Table, Typography, Upload } from 'antd';
import type { UploadFile } from 'antd/es/upload/interface';
import { UploadOutlined } from '@ant-design/icons';
import { gql } from '../../api/client';

import { usePoll } from '../../api/usePoll';
import { InterruptedJob } from '../../components/InterruptedJob';
import { PageContainer } from '../../components/PageContainer';
import { JobDocument, MutualAidStaysImportDocument, type JobFieldsFragment } from '../../graphql/generated';
import { formatYuan } from '../../lib/money';
import { UNMATCHED_LABELS } from './labels';
import { planOptions, readBase64, usePlans, errorText } from './shared';

export interface StaysResult {
  rows: number;
  created: number;
  amount_fen: number;
  already_claimed: number;
  unmatched: number;
  unmatched_by_reason: Record<string, number>;
  unmatched_rows: { row: number; reason: string }[];
}

const RUNNING = ['QUEUED', 'RUNNING'];

export function StaysReport({ result }: { result: StaysResult }) {
  return (
    <>
      <Descriptions size="small" column={{ xs: 1, md: 3 }} data-testid="stays-result">
        <Descriptions.Item label="文件行数">{result.rows}</Descriptions.Item>
        <Descriptions.Item label="生成申请">{result.created} 件</Descriptions.Item>
        <Descriptions.Item label="给付金额">{formatYuan(result.amount_fen)}</Descriptions.Item>
        <Descriptions.Item label="此前已处理">{result.already_claimed} 行</Descriptions.Item>
        <Descriptions.Item label="未匹配">{result.unmatched} 行</Descriptions.Item>
      </Descriptions>
      {result.unmatched > 0 && (
        <>
          <Typography.Paragraph>
            {Object.entries(result.unmatched_by_reason)
              .map(([r, n]) => `${UNMATCHED_LABELS[r] ?? r} ${n} 行`)
              .join('；')}
          </Typography.Paragraph>
          <Table
            size="small"
            rowKey="row"
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            dataSource={result.unmatched_rows}
            columns={[
              { title: '行号', dataIndex: 'row', width: 100 },
              { title: '原因', dataIndex: 'reason', render: (r: string) => UNMATCHED_LABELS[r] ?? r },
            ]}
          />
        </>
      )}
    </>
  );
}

export default function MutualAidStays() {
  const { message } = App.useApp();
  const { plans } = usePlans();
  const [form] = Form.useForm<{ plan: string; kind: string; files: UploadFile[] }>();
  const planCode = Form.useWatch('plan', form);
  const plan = plans.find((p) => p.code === planCode);
  const [job, setJob] = useState<JobFieldsFragment | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = async () => {
    if (!job) return;
    const { job: row } = await gql(JobDocument, { id: job.id });
    if (row) setJob(row);
  };
  usePoll(refresh, 1000, !!job && RUNNING.includes(job.status));

  const submit = async (v: { plan: string; kind: string; files: UploadFile[] }) => {
    setBusy(true);
    setError(null);
    try {
      const f = v.files[0];
      const { mutualAidStaysImport: r } = await gql(MutualAidStaysImportDocument, { plan: v.plan, kind: v.kind, filename: f.name, contentBase64: await readBase64(f.originFileObj as Blob) });
      if (r.errors.length || !r.jobId) {
        setError(r.errors.map((e) => errorText(e)).join('；') || '导入失败');
        return;
      }
      message.success('文件已上传，正在处理');
      const { job: row } = await gql(JobDocument, { id: r.jobId });
      setJob(row ?? null);
    } finally {
      setBusy(false);
    }
  };

  const percent = job && job.total ? Math.floor((Number(job.progress) / Number(job.total)) * 100) : 0;
  return (
    <PageContainer title="免申即享" subTitle="上传医保住院数据，符合条件的住院自动生成已审批的互助申请（同一次住院只生成一次）">
      <Card size="small" className="hj-panel" style={{ marginBottom: 16 }}>
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" name="mutual-aid-stays" onFinish={(v) => void submit(v)}>
          <Form.Item label="保障计划" name="plan" rules={[{ required: true, message: '请选择计划' }]}>
            <Select options={planOptions(plans)} style={{ maxWidth: 320 }} />
          </Form.Item>
          <Form.Item label="给付项目" name="kind" rules={[{ required: true, message: '请选择给付项目' }]}>
            <Select options={(plan?.claimKinds ?? []).map((k) => ({ value: k.code, label: k.label }))} style={{ maxWidth: 320 }} disabled={!plan} />
          </Form.Item>
          <Form.Item
            label="住院数据文件（CSV）"
            name="files"
            valuePropName="fileList"
            getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList.slice(-1)}
            rules={[{ required: true, message: '请选择文件' }]}
            extra="首行为列名：身份证号、入院日期、出院日期、医院、医保内费用、个人自付（元）；文件加密保存"
          >
            <Upload beforeUpload={() => false} accept=".csv,text/csv" maxCount={1}>
              <Button icon={<UploadOutlined />}>选择文件</Button>
            </Upload>
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={busy} disabled={!!job && RUNNING.includes(job.status)}>
            上传并处理
          </Button>
        </Form>
      </Card>
      {job && (
        <Card size="small" className="hj-panel" title="处理结果">
          <InterruptedJob job={job} what="住院数据导入" onRetried={refresh} />
          {RUNNING.includes(job.status) && <Progress percent={percent} status="active" format={() => `${job.progress} / ${job.total ?? '?'} 行`} />}
          {job.status === 'FAILED' && <Alert type="error" showIcon message="处理失败" description="请检查文件后重新上传" />}
          {job.status === 'SUCCEEDED' && job.result != null && <StaysReport result={job.result as StaysResult} />}
        </Card>
      )}
    </PageContainer>
  );
}
