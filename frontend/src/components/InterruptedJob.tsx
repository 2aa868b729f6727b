/**
 * A job whose run was interrupted (the server process running it stopped): says so and offers 重试,
 * which runs the same job again from its last saved checkpoint (`jobRetry`).
 */
import { useState } from 'react';
import { Alert, App, Button } from 'antd';
import { gql } from '../api/client';
import { describeError, errorMessage } from '../api/errors';
import { JobRetryDocument, type JobStatus } from '../graphql/generated';

const RETRY_MESSAGES = {
  INVALID_STATE: '该任务已在重新运行或已经完成，请稍候查看最新状态',
  FORBIDDEN: '只有发起该任务的人或省级管理员可以重试',
};

export function InterruptedJob({
  job,
  what,
  onRetried,
}: {
  job: { id: string; status: JobStatus } | null | undefined;
  what: string;
  onRetried: () => void | Promise<unknown>;
}) {
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  if (!job || job.status !== 'INTERRUPTED') return null;
  const retry = async () => {
    setBusy(true);
    try {
      const { jobRetry: r } = await gql(JobRetryDocument, { id: job.id });
      if (r.errors.length) message.error(errorMessage(r.errors[0].code, r.errors[0].field, RETRY_MESSAGES));
      await onRetried();
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Alert
      type="warning"
      showIcon
      message={`${what}被中断`}
      description="处理该任务的服务进程意外停止。重试会从上次保存的进度接着完成，已完成的部分不会重复。"
      action={
        <Button type="primary" size="small" loading={busy} onClick={() => void retry()}>
          重试
        </Button>
      }
    />
  );
}
