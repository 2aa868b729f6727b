/** 发放: goods stock for in-kind benefits, the distribution job's live progress (polled), 继续发放
 * after a failed or interrupted run, and the 台账 as a job → file download. */
import { useState } from 'react';
import { Alert, App, Button, Card, Form, Input, InputNumber, Progress, Space, Table } from 'antd';
import { gql } from '../../api/client';
import type { UserError } from '../../api/errors';
import { describeError, errorMessage } from '../../api/errors';
import { downloadFile } from '../../api/files';
import { useGql } from '../../api/useGql';
import { usePoll } from '../../api/usePoll';
import { useAuth } from '../../auth/AuthProvider';
import { MutationDialog } from '../../components/MutationDialog';
import {
  JobDocument,
  WarmthDistributionResumeDocument,
  WarmthLedgerFileStartDocument,
  WarmthStockDocument,
  WarmthStockSetDocument,
  type JobFieldsFragment,
} from '../../graphql/generated';
import type { CampaignDetailData } from './CampaignDetail';

/** Percent done of a job (progress and total are BigInt, arriving as number or string). */
export function jobPercent(job: Pick<JobFieldsFragment, 'progress' | 'total' | 'status'> | null | undefined): number {
  if (!job) return 0;
  if (job.status === 'SUCCEEDED') return 100;
  const total = Number(job.total);
  return total > 0 ? Math.min(100, Math.floor((Number(job.progress) * 100) / total)) : 0;
}

function jobReason(job: JobFieldsFragment | null): { code?: string; messageZh?: string } | null {
  const errors: unknown = job?.errors;
  const first = Array.isArray(errors) ? (errors[0] as { code?: string; messageZh?: string } | undefined) : undefined;
  return first ?? null;
}

function DistributionProgress({ campaign, onChanged }: { campaign: CampaignDetailData; onChanged: () => void }) {
  const { message } = App.useApp();
  const { can } = useAuth();
  const jobId = campaign.distributionJobId;
  const [job, setJob] = useState<JobFieldsFragment | null>(null);
  const [resuming, setResuming] = useState(false);
  const ended = job?.status === 'FAILED' || job?.status === 'INTERRUPTED' || job?.status === 'SUCCEEDED';
  const running = !!jobId && campaign.state === 'distributing' && !ended;
  usePoll(
    async () => {
      if (!jobId) return;
      const j = (await gql(JobDocument, { id: jobId })).job;
      setJob(j ?? null);
      if (j?.status === 'SUCCEEDED') onChanged();
    },
    1000,
    running || (!!jobId && !job),
  );
  if (!jobId) return <Alert type="info" showIcon message={campaign.state === 'approved' ? '审批已通过，点击“开始发放”逐人发放' : '活动审批通过后才能发放'} />;
  // the job finishes the campaign itself before it succeeds, so only a failed or interrupted run leaves it distributing
  const stuck = campaign.state === 'distributing' && (job?.status === 'FAILED' || job?.status === 'INTERRUPTED');
  const resume = async () => {
    setResuming(true);
    try {
      const r = (await gql(WarmthDistributionResumeDocument, { campaignId: campaign.id })).warmthDistributionResume;
      if (r.errors.length) message.error(r.errors[0].messageZh || errorMessage(r.errors[0].code));
      else {
        message.success('已继续发放；已发放的人不会重复发放');
        setJob(null);
      }
      onChanged();
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setResuming(false);
    }
  };
  const pct = campaign.state === 'distributing' ? jobPercent(job) : 100;
  // A typed stop (e.g. OUT_OF_STOCK: 慰问品库存不足) says why and what to do; others get the generic text.
  const reason = stuck ? jobReason(job) : null;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <div>
        发放进度{job ? `：${job.progress} / ${job.total}` : ''}
        <Progress percent={pct} status={stuck ? 'exception' : pct < 100 ? 'active' : 'success'} aria-label="发放进度" data-testid="warmth-progress" />
      </div>
      {stuck && (
        <Alert
          type="error"
          showIcon
          message={job?.status === 'INTERRUPTED' ? '发放任务因服务中断而停止' : reason?.code === 'OUT_OF_STOCK' ? '慰问品库存不足，发放已暂停' : '发放任务失败'}
          description={`${reason?.messageZh ? `${reason.messageZh}。` : ''}继续发放会从中断处接着发，已发放的人不会重复发放。`}
          action={can('warmth.write') ? <Button type="primary" loading={resuming} onClick={() => void resume()}>继续发放</Button> : undefined}
        />
      )}
    </Space>
  );
}

function Stock({ campaign }: { campaign: CampaignDetailData }) {
  const { can } = useAuth();
  const q = useGql(WarmthStockDocument, { campaignId: campaign.id });
  const [open, setOpen] = useState(false);
  const items = campaign.benefits.filter((b) => b.form === 'in_kind').map((b) => b.item ?? '');
  if (items.length === 0) return null;
  return (
    <Card size="small" title="实物库存" style={{ marginBottom: 12 }} extra={can('warmth.write') ? <Button size="small" onClick={() => setOpen(true)}>登记库存</Button> : null}>
      <Table
        size="small"
        rowKey="item"
        pagination={false}
        loading={!q.data && !q.error}
        locale={{ emptyText: '未登记库存；实物发放前请先登记' }}
        dataSource={[...(q.data?.warmthStock ?? [])]}
        columns={[
          { title: '物品', dataIndex: 'item' },
          { title: '库存', dataIndex: 'quantity', align: 'right' },
          { title: '已发', dataIndex: 'given', align: 'right' },
        ]}
      />
      {open && (
        <MutationDialog<{ item: string; quantity: number }, { errors: UserError[] }>
          title="登记库存"
          okText="保存"
          name="warmth-stock"
          initialValues={{ item: items[0] }}
          onClose={() => setOpen(false)}
          mutate={async (v) => (await gql(WarmthStockSetDocument, { campaignId: campaign.id, item: v.item.trim(), quantity: v.quantity })).warmthStockSet}
          onDone={() => {
            setOpen(false);
            void q.refetch();
          }}
        >
          <Form.Item label="物品" name="item" rules={[{ required: true, whitespace: true, message: '请填写物品' }]}>
            <Input />
          </Form.Item>
          <Form.Item label="数量" name="quantity" rules={[{ required: true, message: '请填写数量' }]}>
            <InputNumber min={0} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </MutationDialog>
      )}
    </Card>
  );
}

/** 导出台账: start the job, poll it, then GET the file the payload names. */
export function LedgerDownload({ campaignId }: { campaignId: string }) {
  const { message } = App.useApp();
  const [job, setJob] = useState<{ id: string; url: string } | null>(null);
  const [state, setState] = useState<JobFieldsFragment | null>(null);
  const [error, setError] = useState<string | null>(null);
  usePoll(
    async () => {
      if (!job) return;
      const j = (await gql(JobDocument, { id: job.id })).job;
      setState(j ?? null);
      if (j?.status === 'SUCCEEDED') {
        setJob(null);
        try {
          await downloadFile(job.url, '送温暖台账.xlsx');
          message.success('台账已下载');
        } catch (e) {
          setError(describeError(e));
        }
      } else if (j?.status === 'FAILED' || j?.status === 'INTERRUPTED') {
        setJob(null);
        setError('台账生成失败，请重试');
      }
    },
    800,
    !!job,
  );
  const start = async () => {
    setError(null);
    setState(null);
    try {
      const r = (await gql(WarmthLedgerFileStartDocument, { campaignId })).warmthLedgerFileStart;
      if (r.errors.length || !r.jobId || !r.downloadUrl) setError(r.errors[0]?.messageZh || errorMessage(r.errors[0]?.code));
      else setJob({ id: r.jobId, url: r.downloadUrl });
    } catch (e) {
      setError(describeError(e));
    }
  };
  return (
    <Space direction="vertical">
      <Space>
        <Button loading={!!job} onClick={() => void start()}>
          导出台账（Excel）
        </Button>
        {job && <span>正在生成{state ? `（${jobPercent(state)}%）` : ''}…</span>}
      </Space>
      {error && <Alert type="error" showIcon message={error} />}
    </Space>
  );
}

export function Distribution({ campaign, onChanged }: { campaign: CampaignDetailData; onChanged: () => void }) {
  return (
    <>
      <Stock campaign={campaign} />
      <DistributionProgress campaign={campaign} onChanged={onChanged} />
      <div style={{ marginTop: 16 }}>
        <LedgerDownload campaignId={campaign.id} />
      </div>
    </>
  );
}
