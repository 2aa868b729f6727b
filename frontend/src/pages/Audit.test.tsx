import { render, screen, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Audit from './Audit';
import { Providers } from '../router';
import { DEMO_PERMISSIONS, WithAuth, fakeAuth, mockGraphQL } from '../test/utils';

const gid = (type: string, pk: number) => btoa(`${type}:${pk}`);

function record(seq: number, actorName: string, actorId: string | null, action: string, targetType: string, targetId: string, changes: unknown = {}) {
  return { id: gid('AuditRecord', seq), seq, actorName, actorId, action, targetType, targetId, changes, requestId: '', at: '2026-12-01T02:00:00Z', hash: 'h'.repeat(64), prevHash: '' };
}

const RECORDS = [
  record(4, 'cli', null, 'user.create', 'User', '11'),
  record(3, 'tenants-sync', null, 'org_unit.create', 'OrgUnit', '5', { name: '黄浦区总工会', code: 'sh-huangpu' }),
  record(2, 'admin', gid('User', 2), 'ledger.levy', 'LedgerEntry', '42'),
  record(1, 'demo', null, 'widget.frobnicate', 'Widget', '9'),
];

afterEach(() => vi.unstubAllGlobals());

describe('审计日志', () => {
  it('shows Chinese labels for actions, system actors and objects, never their codes', async () => {
    mockGraphQL(({ query }) => {
      if (query.includes('auditRecords')) {
        return { json: { data: { auditRecords: { totalCount: RECORDS.length, nodes: RECORDS, pageInfo: { hasNextPage: false, endCursor: null } } } } };
      }
      if (query.includes('users(')) {
        const user = (pk: number, username: string, displayName: string) => ({ id: gid('User', pk), username, displayName, active: true, createdAt: '2026-01-01T00:00:00Z', grants: [] });
        return { json: { data: { users: { totalCount: 2, nodes: [user(11, 'clerk', '王经办'), user(2, 'admin', '系统管理员')], pageInfo: { hasNextPage: false, endCursor: null } } } } };
      }
      if (query.includes('orgUnits')) {
        return { json: { data: { orgUnits: { totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } } };
      }
      throw new Error(`unexpected ${query}`);
    });
    const router = createMemoryRouter([{ path: '/audit', element: <Audit /> }], { initialEntries: ['/audit'] });
    render(
      <Providers>
        <WithAuth value={fakeAuth(DEMO_PERMISSIONS.auditor)}>
          <RouterProvider router={router} />
        </WithAuth>
      </Providers>,
    );
    const table = await screen.findByRole('table');
    await within(table).findByText('命令行');
    expect(within(table).getByText('租户同步')).toBeInTheDocument();
    expect(within(table).getByText('演示数据')).toBeInTheDocument();
    expect(within(table).getByText('新建用户')).toBeInTheDocument();
    expect(within(table).getByText('拨缴经费入账')).toBeInTheDocument();
    expect(within(table).getByText('其他操作')).toBeInTheDocument();
    // Objects by name: a loaded user, a name the record carries; else kind and number.
    expect(await within(table).findByText('用户「王经办（clerk）」')).toBeInTheDocument();
    expect(within(table).getByText('组织「黄浦区总工会」')).toBeInTheDocument();
    expect(within(table).getByText('记账凭证（编号 42）')).toBeInTheDocument();
    const text = table.textContent ?? '';
    for (const raw of ['user.create', 'org_unit.create', 'ledger.levy', 'widget.frobnicate', 'tenants-sync', '#11', 'cli']) {
      expect(text, `raw string ${raw} on screen`).not.toContain(raw);
    }
  });
});
