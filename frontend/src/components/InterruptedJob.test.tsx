import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InterruptedJob } from './InterruptedJob';
import { Providers } from '../router';
import { mockGraphQL } from '../test/utils';

const JOB_ID = 'Sm9iOjQy';

function retried(errors: unknown[] = []) {
  return {
    data: {
      jobRetry: {
        job: errors.length ? null : { id: JOB_ID, name: 'member.import.preview', status: 'QUEUED', progress: 0, total: 0, attempts: 1, result: {}, errors: [], createdAt: '2026-12-03T02:00:00Z', updatedAt: '2026-12-03T02:00:00Z', heartbeatAt: null, retryable: false },
        errors,
      },
    },
  };
}

// Full page renders with antd take seconds on a loaded CI machine; the default 5 s is too tight.
vi.setConfig({ testTimeout: 30_000 });

afterEach(() => vi.unstubAllGlobals());

describe('InterruptedJob', () => {
  it('shows nothing for a job that is not interrupted', () => {
    mockGraphQL(() => ({ json: retried() }));
    render(
      <Providers>
        <InterruptedJob job={{ id: JOB_ID, status: 'RUNNING' }} what="名册校验" onRetried={vi.fn()} />
      </Providers>,
    );
    expect(screen.queryByRole('button', { name: /重\s?试/ })).toBeNull();
    expect(screen.queryByText(/被中断/)).toBeNull();
  });

  it('offers 重试 for an interrupted job, sends jobRetry with its id and reloads', async () => {
    const calls: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('jobRetry')) calls.push(variables);
      return { json: retried() };
    });
    const onRetried = vi.fn();
    render(
      <Providers>
        <InterruptedJob job={{ id: JOB_ID, status: 'INTERRUPTED' }} what="名册校验" onRetried={onRetried} />
      </Providers>,
    );
    expect(screen.getByText('名册校验被中断')).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole('button', { name: /重\s?试/ }));
    await waitFor(() => expect(onRetried).toHaveBeenCalledTimes(1));
    expect(calls).toEqual([{ id: JOB_ID }]);
  });

  it('explains in Chinese when another retry won the race', async () => {
    mockGraphQL(() => ({ json: retried([{ field: 'id', code: 'INVALID_STATE', message: 'the job was retried meanwhile: it is queued or running again' }]) }));
    const onRetried = vi.fn();
    render(
      <Providers>
        <InterruptedJob job={{ id: JOB_ID, status: 'INTERRUPTED' }} what="导出" onRetried={onRetried} />
      </Providers>,
    );
    await userEvent.setup().click(screen.getByRole('button', { name: /重\s?试/ }));
    await screen.findByText('该任务已在重新运行或已经完成，请稍候查看最新状态');
    expect(onRetried).toHaveBeenCalledTimes(1); // the page reloads to show the running job
  });
});
