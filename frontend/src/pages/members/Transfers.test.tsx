import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import MemberTransfers, { canApproveHere } from './Transfers';
import { Providers } from '../../router';
import { WithAuth, fakeAuth, mockGraphQL } from '../../test/utils';

const CLERK = ['member.read', 'member.write'];
const APPROVER = ['member.read', 'member.reveal', 'member.transfer.approve'];
const AUDITOR = ['member.read', 'audit.read'];

const TENANTS = { data: { loginTenants: [{ code: 'shanghai', name: '上海市总工会' }, { code: 'beijing', name: '北京市总工会' }] } };

function transfer(over: Record<string, unknown> = {}) {
  return {
    id: 'TWVtYmVyVHJhbnNmZXI6MQ==',
    status: 'PENDING',
    direction: 'OUTGOING',
    personName: '王伟',
    idNumberMasked: '310101********0011',
    memberId: 'TWVtYmVyOjE=',
    sourceTenantCode: 'shanghai',
    sourceUnitName: '百联集团有限公司工会',
    destTenantCode: 'beijing',
    destUnitName: '北京首钢工会',
    reason: '调动工作',
    requestedByName: 'clerk',
    sourceApprovedByName: null,
    sourceApprovedAt: null,
    destApprovedByName: null,
    destApprovedAt: null,
    decidedByName: null,
    decisionNote: '',
    createdAt: '2024-05-01T02:00:00Z',
    completedAt: null,
    ...over,
  };
}

function list(nodes: unknown[]) {
  return { data: { memberTransfers: { totalCount: nodes.length, nodes, pageInfo: { hasNextPage: false, endCursor: null } } } };
}

function renderPage(permissions: string[]) {
  const router = createMemoryRouter([{ path: '/members/transfers', element: <MemberTransfers /> }], { initialEntries: ['/members/transfers'] });
  render(
    <Providers>
      <WithAuth value={fakeAuth(permissions)}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe('canApproveHere', () => {
  it('offers approval only for a side that is ours and still pending', () => {
    const base = { status: 'PENDING' as const, sourceApprovedAt: null, destApprovedAt: null };
    expect(canApproveHere({ ...base, direction: 'OUTGOING' })).toBe(true);
    expect(canApproveHere({ ...base, direction: 'OUTGOING', sourceApprovedAt: 'x' })).toBe(false);
    expect(canApproveHere({ ...base, direction: 'INCOMING', sourceApprovedAt: 'x' })).toBe(true);
    expect(canApproveHere({ ...base, direction: 'INCOMING', destApprovedAt: 'x' })).toBe(false);
    expect(canApproveHere({ ...base, direction: 'WITHIN', sourceApprovedAt: 'x' })).toBe(true);
    expect(canApproveHere({ ...base, direction: 'WITHIN', sourceApprovedAt: 'x', destApprovedAt: 'y' })).toBe(false);
    expect(canApproveHere({ ...base, status: 'REJECTED', direction: 'WITHIN' })).toBe(false);
  });
});

describe('会籍转移 list', () => {
  it('shows both provinces, the status and each side’s approval', async () => {
    mockGraphQL(({ query }) => ({ json: query.includes('loginTenants') ? TENANTS : list([transfer({ sourceApprovedByName: 'approver', sourceApprovedAt: '2024-05-02T02:00:00Z' })]) }));
    renderPage(AUDITOR);
    const row = (await screen.findByText('王伟')).closest('tr') as HTMLElement;
    await within(row).findByText(/转出：上海市总工会 百联集团有限公司工会/);
    expect(within(row).getByText(/转入：北京市总工会 北京首钢工会/)).toBeInTheDocument();
    expect(within(row).getByText('转出外省')).toBeInTheDocument();
    expect(within(row).getByText('待审批', { selector: '.ant-badge-status-text' })).toBeInTheDocument();
    expect(within(row).getByText(/approver 已同意/)).toBeInTheDocument();
    // an auditor reads, but has no buttons
    expect(within(row).queryByRole('button')).toBeNull();
  });

  it('an approver approves and rejects; a clerk only withdraws', async () => {
    mockGraphQL(({ query }) => ({ json: query.includes('loginTenants') ? TENANTS : list([transfer()]) }));
    renderPage(APPROVER);
    await screen.findByText('王伟');
    expect(screen.getByRole('button', { name: '同意王伟的会籍转移' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: '驳回王伟的会籍转移' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: '撤回王伟的会籍转移' })).toBeNull();
  });

  it('a clerk sees 撤回 but no approval buttons', async () => {
    mockGraphQL(({ query }) => ({ json: query.includes('loginTenants') ? TENANTS : list([transfer()]) }));
    renderPage(CLERK);
    await screen.findByText('王伟');
    expect(screen.getByRole('button', { name: '撤回王伟的会籍转移' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: '同意王伟的会籍转移' })).toBeNull();
    expect(screen.queryByRole('button', { name: '驳回王伟的会籍转移' })).toBeNull();
  });

  it('once our side approved an outgoing transfer, the approver waits for the other province', async () => {
    mockGraphQL(({ query }) => ({ json: query.includes('loginTenants') ? TENANTS : list([transfer({ sourceApprovedByName: 'approver', sourceApprovedAt: '2024-05-02T02:00:00Z' })]) }));
    renderPage(APPROVER);
    await screen.findByText('等待对方审批');
    expect(screen.queryByRole('button', { name: '同意王伟的会籍转移' })).toBeNull();
  });

  it('approving shows a refused approval (same person) in Chinese', async () => {
    mockGraphQL(({ query }) => {
      if (query.includes('loginTenants')) return { json: TENANTS };
      if (query.includes('memberTransferApprove'))
        return { json: { data: { memberTransferApprove: { transfer: null, errors: [{ field: 'id', code: 'SELF_APPROVAL', message: 'the other union’s approval must come from another person' }] } } } };
      return { json: list([transfer({ direction: 'WITHIN', destTenantCode: 'shanghai', destUnitName: '复旦大学附属中山医院工会' })]) };
    });
    renderPage(APPROVER);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: '同意王伟的会籍转移' }));
    await user.click(await screen.findByRole('button', { name: '同 意' }));
    await screen.findByText('申请人不能审批自己提交的转移，另一方工会的审批也须由另一位审核人办理');
  });

  it('rejecting needs a note, which is sent', async () => {
    const rejects: Record<string, unknown>[] = [];
    let rejected = false;
    mockGraphQL(({ query, variables }) => {
      if (query.includes('loginTenants')) return { json: TENANTS };
      if (query.includes('memberTransferReject')) {
        rejects.push(variables);
        rejected = true;
        return { json: { data: { memberTransferReject: { transfer: transfer({ status: 'REJECTED' }), errors: [] } } } };
      }
      return { json: list(rejected ? [] : [transfer()]) };
    });
    renderPage(APPROVER);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: '驳回王伟的会籍转移' }));
    const dialog = await screen.findByRole('dialog', { name: '驳回王伟的会籍转移' });
    await user.click(within(dialog).getByRole('button', { name: /驳\s*回/ }));
    await waitFor(() => expect(document.getElementById('transfer-reject_note_help')).toHaveTextContent('请填写驳回说明'));
    expect(rejects).toHaveLength(0);
    await user.type(within(dialog).getByLabelText('驳回说明'), '材料不全');
    await user.click(within(dialog).getByRole('button', { name: /驳\s*回/ }));
    await screen.findByText('没有待审批的会籍转移；在会员详情页可申请转移');
    expect(rejects[0]).toEqual({ id: 'TWVtYmVyVHJhbnNmZXI6MQ==', note: '材料不全' });
  });
});
