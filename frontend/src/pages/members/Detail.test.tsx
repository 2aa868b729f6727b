import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import MemberDetail from './Detail';
import { allowedActions } from './MemberActions';
import { Providers } from '../../router';
import { WithAuth, fakeAuth, mockGraphQL } from '../../test/utils';
import type { MembershipState } from '../../graphql/generated';

const CLERK = ['member.read', 'member.write', 'org.read'];
const AUDITOR = ['member.read', 'audit.read', 'org.read'];
const APPROVER = ['member.read', 'member.reveal', 'member.transfer.approve', 'org.read'];

function member(state: MembershipState, history: { action: string; changes?: unknown }[] = [], household: unknown = null) {
  return {
    id: 'TWVtYmVyOjE=',
    name: '王伟',
    gender: 'MALE',
    age: 40,
    idNumberMasked: '310101********0011',
    phoneMasked: null,
    employer: '百联集团',
    workStatus: 'ON_DUTY',
    workStatusLabel: '在岗',
    state,
    stateLabel: { JOINED: '在会', LEFT: '已退会', DECEASED: '已去世', TRANSFERRING: '会籍转移中' }[state],
    joinedOn: '2020-05-01',
    tags: [],
    orgUnit: { id: 'T3JnVW5pdDo3', name: '百联集团有限公司工会' },
    birthYear: 1985,
    leftOn: null,
    version: 1,
    createdAt: '2024-01-01T00:00:00Z',
    updatedAt: '2024-01-01T00:00:00Z',
    household,
    history: {
      totalCount: history.length,
      nodes: history.map((h, i) => ({ id: `h${i}`, action: h.action, changes: h.changes ?? {}, actorName: 'clerk', at: '2024-01-01T00:00:00Z' })),
    },
  };
}

function renderDetail(permissions: string[]) {
  const router = createMemoryRouter([{ path: '/members/:id', element: <MemberDetail /> }], { initialEntries: ['/members/TWVtYmVyOjE='] });
  render(
    <Providers>
      <WithAuth value={fakeAuth(permissions)}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
}

const ACTION_BUTTONS = ['编辑', '会籍转移', '退会', '重新入会', '登记去世'];

async function visibleActions() {
  await screen.findByRole('heading', { level: 1, name: '王伟' });
  const header = document.querySelector('.hj-page-header') as HTMLElement;
  return ACTION_BUTTONS.filter((name) => within(header).queryByRole('button', { name: new RegExp(`^\\S*\\s*${name.split('').join('\\s*')}$`) }));
}

afterEach(() => vi.unstubAllGlobals());

describe('allowedActions', () => {
  const can = (perms: string[]) => (p: string) => perms.includes(p);
  it('follows member.write and the membership state', () => {
    expect(allowedActions('JOINED', can(CLERK))).toEqual(['edit', 'transfer', 'leave', 'deceased']);
    expect(allowedActions('LEFT', can(CLERK))).toEqual(['edit', 'rejoin', 'deceased']);
    expect(allowedActions('TRANSFERRING', can(CLERK))).toEqual(['edit']);
    expect(allowedActions('DECEASED', can(CLERK))).toEqual([]);
    for (const s of ['JOINED', 'LEFT', 'TRANSFERRING', 'DECEASED'] as const) {
      expect(allowedActions(s, can(AUDITOR))).toEqual([]);
      expect(allowedActions(s, can(APPROVER))).toEqual([]);
    }
  });
});

describe('会员详情: lifecycle actions', () => {
  it('a clerk sees the actions an active member allows', async () => {
    mockGraphQL(() => ({ json: { data: { member: member('JOINED') } } }));
    renderDetail(CLERK);
    expect(await visibleActions()).toEqual(['编辑', '会籍转移', '退会', '登记去世']);
  });

  it('a member who left can rejoin, not leave again', async () => {
    mockGraphQL(() => ({ json: { data: { member: member('LEFT') } } }));
    renderDetail(CLERK);
    expect(await visibleActions()).toEqual(['编辑', '重新入会', '登记去世']);
  });

  it('hides every action from users without member.write, and on a closed record', async () => {
    mockGraphQL(() => ({ json: { data: { member: member('JOINED') } } }));
    renderDetail(AUDITOR);
    expect(await visibleActions()).toEqual([]);
    expect(screen.queryByRole('button', { name: /登记家庭/ })).toBeNull();
  });

  it('shows no actions for a deceased member even to a clerk', async () => {
    mockGraphQL(() => ({ json: { data: { member: member('DECEASED') } } }));
    renderDetail(CLERK);
    expect(await visibleActions()).toEqual([]);
  });

  it('退会: a date error appears beside the date; success refreshes the history', async () => {
    const leaves: Record<string, unknown>[] = [];
    let left = false;
    mockGraphQL(({ query, variables }) => {
      if (query.includes('memberLeave')) {
        leaves.push(variables);
        if (leaves.length === 1) return { json: { data: { memberLeave: { member: null, errors: [{ field: 'leftOn', code: 'INVALID_INPUT', message: 'leftOn is before the member joined' }] } } } };
        left = true;
        return { json: { data: { memberLeave: { member: { id: 'TWVtYmVyOjE=', state: 'LEFT' }, errors: [] } } } };
      }
      return { json: { data: { member: left ? member('LEFT', [{ action: 'leave', changes: { left_on: '2024-03-01', reason: '本人申请' } }, { action: 'create' }]) : member('JOINED', [{ action: 'create' }]) } } };
    });
    renderDetail(CLERK);
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: '王伟' });
    expect(screen.getByText('新增会员')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: /退\s*会/ }));
    const dialog = await screen.findByRole('dialog', { name: '办理退会：王伟' });
    await user.type(within(dialog).getByLabelText('退会原因'), '本人申请');
    await user.click(within(dialog).getByRole('button', { name: '确认退会' }));
    await waitFor(() => expect(document.getElementById('member-leave_leftOn_help')).toHaveTextContent('退会日期不能晚于今天，也不能早于入会日期'));
    expect(leaves[0]).toMatchObject({ id: 'TWVtYmVyOjE=', reason: '本人申请' });
    expect(leaves[0].leftOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    await user.click(within(dialog).getByRole('button', { name: '确认退会' }));
    // the page reloads: new state, the history has the 退会 entry with its date and reason, and 重新入会 is offered
    await screen.findByText('退会日期 2024-03-01；原因：本人申请');
    expect(screen.getAllByText('已退会').length).toBeGreaterThan(0);
    expect(await visibleActions()).toEqual(['编辑', '重新入会', '登记去世']);
  });

  it('an action refused for the state says so at the top of the dialog', async () => {
    mockGraphQL(({ query }) =>
      query.includes('memberMarkDeceased')
        ? { json: { data: { memberMarkDeceased: { member: null, errors: [{ field: 'id', code: 'INVALID_STATE', message: 'cannot record a death in state transferring' }] } } } }
        : { json: { data: { member: member('JOINED') } } },
    );
    renderDetail(CLERK);
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: '王伟' });
    await user.click(screen.getByRole('button', { name: /登记去世/ }));
    const dialog = await screen.findByRole('dialog', { name: '登记去世：王伟' });
    await user.click(within(dialog).getByRole('button', { name: '确认登记' }));
    await within(dialog).findByText('会员当前状态不允许此操作，请刷新页面查看最新状态');
    expect(dialog.textContent).not.toMatch(/cannot record/);
  });

  it('会籍转移 to another province sends the province and union code; errors sit beside them', async () => {
    const requests: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('loginTenants')) return { json: { data: { loginTenants: [{ code: 'platform', name: '会家平台运营' }, { code: 'shanghai', name: '上海市总工会' }, { code: 'beijing', name: '北京市总工会' }] } } };
      if (query.includes('orgUnits')) return { json: { data: { orgUnits: { totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } } };
      if (query.includes('memberTransferRequest')) {
        requests.push(variables);
        return { json: { data: { memberTransferRequest: { transfer: null, errors: [{ field: 'toOrgUnitCode', code: 'NOT_FOUND', message: 'destination org unit not found' }] } } } };
      }
      return { json: { data: { member: member('JOINED') } } };
    });
    renderDetail(CLERK);
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: '王伟' });
    await user.click(screen.getByRole('button', { name: /会籍转移/ }));
    const dialog = await screen.findByRole('dialog', { name: '申请会籍转移：王伟' });
    await user.click(within(dialog).getByText('外省工会'));
    await user.click(within(dialog).getByLabelText('转入省份'));
    // own province and the platform are not destinations
    await screen.findByTitle('北京市总工会');
    expect([...document.querySelectorAll('.ant-select-dropdown .ant-select-item-option')].map((o) => o.textContent)).toEqual(['北京市总工会']);
    await user.click(screen.getByTitle('北京市总工会'));
    await user.type(within(dialog).getByLabelText('转入工会编码'), 'bj-nowhere');
    await user.click(within(dialog).getByRole('button', { name: '提交申请' }));
    await waitFor(() => expect(document.getElementById('member-transfer_toOrgUnitCode_help')).toHaveTextContent('对方省份没有该编码的基层工会'));
    expect(requests[0]).toMatchObject({ input: { memberId: 'TWVtYmVyOjE=', toTenantCode: 'beijing', toOrgUnitCode: 'bj-nowhere' } });
  });

  it('household: a clerk adds a non-member person; the ID number error sits beside the field', async () => {
    const household = { id: 'SG91c2Vob2xkOjE=', size: 1, note: '', people: [{ id: 'UDox', relation: 'SELF', relationLabel: '本人', name: '王伟', idNumberMasked: '310101********0011', member: { id: 'TWVtYmVyOjE=' } }] };
    mockGraphQL(({ query }) =>
      query.includes('householdAddPerson')
        ? { json: { data: { householdAddPerson: { household: null, errors: [{ field: 'idNumber', code: 'CONFLICT', message: 'this person already belongs to a household' }] } } } }
        : { json: { data: { member: member('JOINED', [], household) } } },
    );
    renderDetail(CLERK);
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: '王伟' });
    // the member's own row cannot be removed
    expect(screen.queryByRole('button', { name: '移出王伟' })).toBeNull();
    await user.click(screen.getByRole('button', { name: /添加家庭成员/ }));
    const dialog = await screen.findByRole('dialog', { name: '添加家庭成员' });
    await user.click(within(dialog).getByLabelText('与会员关系'));
    await user.click(await screen.findByTitle('配偶'));
    await user.type(within(dialog).getByLabelText('姓名'), '李芳');
    await user.type(within(dialog).getByLabelText('身份证号码'), '310101198601010022');
    await user.click(within(dialog).getByRole('button', { name: /添\s*加/ }));
    await waitFor(() => expect(document.getElementById('household-person_idNumber_help')).toHaveTextContent('此人已登记在其他家庭中'));
  });
});
