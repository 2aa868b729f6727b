import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import MemberImportPage, { refusalText } from './Import';
import { Providers } from '../../router';
import { WithAuth, fakeAuth, mockGraphQL } from '../../test/utils';

const PREVIEW_JOB = 'Sm9iOjc=';
const COMMIT_JOB = 'Sm9iOjg=';

function imp(over: Record<string, unknown> = {}) {
  return {
    id: 'TWVtYmVySW1wb3J0OjE=',
    filename: '名册.csv',
    format: 'csv',
    encoding: 'utf-8-sig',
    status: 'PREVIEWING',
    sizeBytes: 1024,
    totalRows: 25000,
    validRows: 0,
    errorRows: 0,
    wouldCreate: 0,
    wouldUpdate: 0,
    wouldLeaveUnchanged: 0,
    allowErrors: false,
    committedThroughRow: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: 0,
    fileError: null,
    createdByName: 'clerk',
    createdAt: '2026-12-03T02:00:00Z',
    finishedAt: null,
    errorReportCsvUrl: '/imports/1/errors.csv',
    errorReportXlsxUrl: '/imports/1/errors.xlsx',
    previewJob: { id: PREVIEW_JOB, status: 'INTERRUPTED', progress: 5000, total: 0, retryable: true },
    commitJob: null,
    ...over,
  };
}

function handler(current: Record<string, unknown>, calls: Record<string, unknown>[]) {
  return ({ query, variables }: { query: string; variables: Record<string, unknown> }) => {
    if (query.includes('jobRetry')) {
      calls.push(variables);
      return { json: { data: { jobRetry: { job: null, errors: [] } } } };
    }
    if (query.includes('memberImports'))
      return { json: { data: { memberImports: { totalCount: 1, nodes: [current], pageInfo: { hasNextPage: false, endCursor: null } } } } };
    return { json: { data: { memberImport: { ...current, errors: { totalCount: 0, nodes: [] } } } } };
  };
}

function renderPage() {
  const router = createMemoryRouter([{ path: '/members/import', element: <MemberImportPage /> }], { initialEntries: ['/members/import'] });
  render(
    <Providers>
      <WithAuth value={fakeAuth(['member.import', 'job.read'])}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
}

// Full page renders with antd take seconds on a loaded CI machine; the default 5 s is too tight.
vi.setConfig({ testTimeout: 30_000 });

afterEach(() => vi.unstubAllGlobals());

describe('导入名册 after a worker died', () => {
  it('an interrupted preview shows 重试, which retries the preview job', async () => {
    const calls: Record<string, unknown>[] = [];
    mockGraphQL(handler(imp(), calls));
    renderPage();
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: '名册.csv' }));
    await screen.findByText('名册校验被中断');
    expect(screen.queryByText(/正在逐行校验名册/)).toBeNull(); // not a spinner that never ends
    await user.click(screen.getByRole('button', { name: /重\s?试/ }));
    await waitFor(() => expect(calls).toEqual([{ id: PREVIEW_JOB }]));
  });

  it('an import whose commit job died says so and offers 继续导入', async () => {
    mockGraphQL(
      handler(
        imp({
          status: 'INTERRUPTED',
          validRows: 25000,
          committedThroughRow: 5001,
          created: 5000,
          previewJob: { id: PREVIEW_JOB, status: 'SUCCEEDED', progress: 25000, total: 0, retryable: false },
          commitJob: { id: COMMIT_JOB, status: 'INTERRUPTED', progress: 5000, total: 25000, retryable: true },
        }),
        [],
      ),
    );
    renderPage();
    await userEvent.setup().click(await screen.findByRole('button', { name: '名册.csv' }));
    await screen.findByText(/导入被中断（处理导入的服务进程意外停止）/);
    expect(screen.getByRole('button', { name: /继续导入/ })).toBeInTheDocument();
  });
});

describe('refusals say what may be done', () => {
  it('one text per state, for resume and discard alike', () => {
    expect(refusalText('COMMITTING', 'commit')).toBe(refusalText('COMMITTING', 'discard'));
    expect(refusalText('COMMITTING', 'discard')).toBe('该名册正在导入，请等待导入完成');
    expect(refusalText('INTERRUPTED', 'discard')).toMatch(/继续导入/);
    expect(refusalText('COMMITTED', 'commit')).toBe('该名册已导入完成');
    expect(refusalText('EXPIRED', 'commit')).toMatch(/重新上传/);
  });

  it('a commit refused because another one started shows that it is being imported', async () => {
    let status = 'PREVIEWED';
    mockGraphQL(({ query }) => {
      if (query.includes('memberImportCommit')) {
        status = 'COMMITTING';
        return { json: { data: { memberImportCommit: { memberImport: null, errors: [{ field: 'id', code: 'INVALID_STATE', message: 'this import is being committed right now: wait for it to finish' }] } } } };
      }
      const current = imp({ status, validRows: 10, totalRows: 10, previewJob: { id: PREVIEW_JOB, status: 'SUCCEEDED', progress: 10, total: 0, retryable: false } });
      if (query.includes('memberImports'))
        return { json: { data: { memberImports: { totalCount: 1, nodes: [current], pageInfo: { hasNextPage: false, endCursor: null } } } } };
      return { json: { data: { memberImport: { ...current, errors: { totalCount: 0, nodes: [] } } } } };
    });
    renderPage();
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: '名册.csv' }));
    await user.click(await screen.findByRole('button', { name: /确认导入/ }));
    await screen.findByText('该名册正在导入，请等待导入完成');
  });
});
