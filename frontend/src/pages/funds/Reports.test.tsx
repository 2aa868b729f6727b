import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExportButton } from './Reports';
import { Providers } from '../../router';

const JOB = 'Sm9iOjQy';
const INPUT = { dateFrom: '2023-01-01', dateTo: '2023-12-31', subtreeOf: 'T3JnVW5pdDoz', fund: null };

function job(status: string, result: unknown = {}) {
  return {
    id: JOB, name: 'funds.report_file', status, progress: 0, total: 0, attempts: 1, result, errors: [],
    createdAt: '2026-12-03T02:00:00Z', updatedAt: '2026-12-03T02:00:00Z', heartbeatAt: null, retryable: false,
  };
}

/** The server as the browser sees it: GraphQL on /graphql, the file on /report-files/42. */
function server(jobStatuses: string[], file: { status: number; body: string }) {
  const calls: { url: string; body?: { query: string; variables: Record<string, unknown> }; auth?: string }[] = [];
  const fn = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    if (String(url).startsWith('/report-files/')) {
      calls.push({ url: String(url), auth: headers.Authorization });
      return new Response(file.body, {
        status: file.status,
        headers: file.status === 200
          ? { 'content-disposition': "attachment; filename=\"x.xlsx\"; filename*=UTF-8''%E6%8A%A5%E8%A1%A8.xlsx" }
          : { 'Content-Type': 'application/json' },
      });
    }
    const body = JSON.parse(String(init?.body ?? '{}'));
    calls.push({ url: String(url), body });
    const json = body.query.includes('ledgerReportFileStart')
      ? { data: { ledgerReportFileStart: { job: job('QUEUED'), downloadUrl: '/report-files/42', errors: [] } } }
      : { data: { job: job(jobStatuses.shift() ?? 'SUCCEEDED', { rowCount: 9 }) } };
    return new Response(JSON.stringify(json), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fn);
  return calls;
}

vi.setConfig({ testTimeout: 30_000 });

const { createObjectURL, revokeObjectURL } = URL;

afterEach(() => {
  vi.unstubAllGlobals();
  Object.assign(URL, { createObjectURL, revokeObjectURL });
});

describe('导出 Excel of a ledger report', () => {
  it('starts the report-file job, polls it and downloads the file from its route', async () => {
    const calls = server(['RUNNING', 'SUCCEEDED'], { status: 200, body: 'xlsx bytes' });
    const created = vi.fn(() => 'blob:report');
    // jsdom has no object URLs; the download hands the blob to one.
    Object.assign(URL, { createObjectURL: created, revokeObjectURL: vi.fn() });
    render(<Providers><ExportButton report="TRIAL_BALANCE" input={INPUT} /></Providers>);
    await userEvent.setup().click(screen.getByRole('button', { name: /导出 Excel/ }));
    expect(await screen.findByText('已导出 报表.xlsx（9 行）', {}, { timeout: 10_000 })).toBeTruthy();
    const start = calls.find((c) => c.body?.query.includes('ledgerReportFileStart'));
    expect(start?.body?.variables).toEqual({ report: 'TRIAL_BALANCE', format: 'XLSX', input: INPUT });
    expect(calls.filter((c) => c.body?.query.includes('job(')).length).toBe(2); // RUNNING, then SUCCEEDED
    expect(calls.filter((c) => c.url === '/report-files/42')).toHaveLength(1);
    expect(created).toHaveBeenCalledTimes(1);
  });

  it('says so when the job fails, and downloads nothing', async () => {
    const calls = server(['FAILED'], { status: 200, body: '' });
    render(<Providers><ExportButton report="FLOWS" input={INPUT} /></Providers>);
    await userEvent.setup().click(screen.getByRole('button', { name: /导出 Excel/ }));
    expect(await screen.findByText('导出失败，请稍后重试', {}, { timeout: 10_000 })).toBeTruthy();
    expect(calls.some((c) => c.url.startsWith('/report-files/'))).toBe(false);
  });

  it('shows the refusal of the download route', async () => {
    server([], { status: 403, body: JSON.stringify({ error: { code: 'FORBIDDEN', message: 'not allowed: report.read' } }) });
    render(<Providers><ExportButton report="FUND_STATEMENT" input={INPUT} /></Providers>);
    await userEvent.setup().click(screen.getByRole('button', { name: /导出 Excel/ }));
    await waitFor(() => expect(screen.getByText(/下载失败/)).toBeTruthy(), { timeout: 10_000 });
  });
});
