import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import MemberFormPage from './MemberForm';
import { Providers } from '../../router';
import { WithAuth, fakeAuth, mockGraphQL } from '../../test/utils';

const CLERK = ['member.read', 'member.write', 'member.import', 'member.export', 'org.read'];

const UNITS = {
  data: {
    orgUnits: {
      totalCount: 1,
      nodes: [{ id: 'T3JnVW5pdDo3', name: '百联集团有限公司工会', code: 'sh-huangpu-bailian', level: 'GRASSROOTS', active: true, parentId: null, childCount: 0, path: 'x' }],
      pageInfo: { hasNextPage: false, endCursor: null },
    },
  },
};
const TAGS = { data: { memberTags: [{ code: 'model_worker', label: '劳模', description: '' }] } };
const EDIT_MEMBER = {
  id: 'TWVtYmVyOjE=',
  name: '王伟',
  idNumberMasked: '310101********0011',
  phoneMasked: '138****8000',
  employer: '百联集团',
  workStatus: 'ON_DUTY',
  state: 'JOINED',
  joinedOn: '2020-05-01',
  version: 3,
  tags: [],
  orgUnit: { id: 'T3JnVW5pdDo3', name: '百联集团有限公司工会' },
};

function renderAt(path: string) {
  const router = createMemoryRouter(
    [
      { path: '/members/new', element: <MemberFormPage /> },
      { path: '/members/:id/edit', element: <MemberFormPage /> },
      { path: '/members/:id', element: <p>会员详情页</p> },
    ],
    { initialEntries: [path] },
  );
  render(
    <Providers>
      <WithAuth value={fakeAuth(CLERK, ['CLERK'])}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
  return router;
}

afterEach(() => vi.unstubAllGlobals());

/** The help text antd shows under a form field (`<form name>_<field>_help`). */
function helpOf(form: string, field: string) {
  return document.getElementById(`${form}_${field}_help`);
}

describe('新增会员', () => {
  it('puts the server errors beside their fields in Chinese and stays on the form', async () => {
    const calls: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('orgUnits')) return { json: UNITS };
      if (query.includes('memberTags')) return { json: TAGS };
      if (query.includes('memberCreate')) {
        calls.push(variables);
        return {
          json: {
            data: {
              memberCreate: {
                member: null,
                errors: [
                  { field: 'idNumber', code: 'DUPLICATE', message: 'a member with this ID number already exists' },
                  { field: 'phone', code: 'INVALID_INPUT', message: 'bad phone' },
                  { field: null, code: 'FORBIDDEN', message: 'not allowed' },
                ],
              },
            },
          },
        };
      }
      throw new Error(`unexpected ${query}`);
    });
    const router = renderAt('/members/new');
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: '新增会员' });
    await user.type(screen.getByLabelText('姓名'), '王伟');
    await user.type(screen.getByLabelText('身份证号码'), '31010119850315002x');
    await user.type(screen.getByLabelText('手机号码'), '13800138000');
    await user.click(screen.getByLabelText('所属工会'));
    await user.click(await screen.findByText('百联集团有限公司工会'));
    await user.click(screen.getByRole('button', { name: /登记会员/ }));

    await waitFor(() => expect(helpOf('member-create', 'idNumber')).toHaveTextContent('本省已有使用该身份证号码的会员'));
    expect(helpOf('member-create', 'phone')).toHaveTextContent('手机号码不正确');
    // an error without a visible field goes to the alert at the top, in Chinese
    expect(screen.getByRole('alert')).toHaveTextContent('您没有执行此操作的权限');
    expect(document.body.textContent).not.toMatch(/already exists|bad phone|not allowed/);
    expect(router.state.location.pathname).toBe('/members/new');
    // the ID number is normalised (upper-case X) and the unit's global id is sent
    expect(calls[0]).toMatchObject({ input: { name: '王伟', idNumber: '31010119850315002X', orgUnitId: 'T3JnVW5pdDo3', phone: '13800138000' } });
  });

  it('checks required fields before calling the server', async () => {
    const fetch = mockGraphQL(({ query }) => ({ json: query.includes('memberTags') ? TAGS : UNITS }));
    renderAt('/members/new');
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: '新增会员' });
    await user.type(screen.getByLabelText('身份证号码'), '1234');
    await user.click(screen.getByRole('button', { name: /登记会员/ }));
    await waitFor(() => expect(helpOf('member-create', 'name')).toHaveTextContent('请填写姓名'));
    expect(helpOf('member-create', 'idNumber')).toHaveTextContent('身份证号码须为 18 位');
    expect(helpOf('member-create', 'orgUnitId')).toHaveTextContent('请选择所属基层工会');
    expect(fetch.mock.calls.some(([, init]) => String(init?.body).includes('memberCreate'))).toBe(false);
  });

  it('goes to the new member after a successful create', async () => {
    mockGraphQL(({ query }) => {
      if (query.includes('orgUnits')) return { json: UNITS };
      if (query.includes('memberTags')) return { json: TAGS };
      return { json: { data: { memberCreate: { member: { id: 'TWVtYmVyOjk=', name: '王伟' }, errors: [] } } } };
    });
    const router = renderAt('/members/new');
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: '新增会员' });
    await user.type(screen.getByLabelText('姓名'), '王伟');
    await user.type(screen.getByLabelText('身份证号码'), '310101198503150021');
    await user.click(screen.getByLabelText('所属工会'));
    await user.click(await screen.findByText('百联集团有限公司工会'));
    await user.click(screen.getByRole('button', { name: /登记会员/ }));
    await screen.findByText('会员详情页');
    expect(router.state.location.pathname).toBe('/members/TWVtYmVyOjk%3D');
  });
});

describe('编辑会员', () => {
  it('sends the loaded version and shows a stale-version conflict in Chinese with a reload', async () => {
    const updates: Record<string, unknown>[] = [];
    let loads = 0;
    mockGraphQL(({ query, variables }) => {
      if (query.includes('memberTags')) return { json: TAGS };
      if (query.includes('memberUpdate')) {
        updates.push(variables);
        return { json: { data: { memberUpdate: { member: null, errors: [{ field: 'expectedVersion', code: 'CONFLICT', message: 'the member was changed by someone else; reload and retry' }] } } } };
      }
      if (query.includes('MemberEdit')) {
        loads++;
        return { json: { data: { member: { ...EDIT_MEMBER, version: loads === 1 ? 3 : 4, employer: loads === 1 ? '百联集团' : '百联集团（新）' } } } };
      }
      throw new Error(`unexpected ${query}`);
    });
    renderAt('/members/TWVtYmVyOjE=/edit');
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: '编辑会员：王伟' });
    // personal values are never prefilled: only their masked forms are shown as hints
    expect(screen.getByLabelText('身份证号码')).toHaveValue('');
    expect(screen.getByText(/310101\*+0011/)).toBeInTheDocument();
    const employer = screen.getByLabelText('工作单位');
    expect(employer).toHaveValue('百联集团');
    await user.clear(employer);
    await user.type(employer, '百联股份');
    await user.click(screen.getByRole('button', { name: /保\s*存/ }));

    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('该会员信息已被他人修改，请刷新后重试'));
    expect(updates[0]).toMatchObject({ id: 'TWVtYmVyOjE=', input: { employer: '百联股份', expectedVersion: 3 } });
    // omitted personal fields stay as they are
    expect(updates[0].input).not.toHaveProperty('idNumber');
    expect(updates[0].input).not.toHaveProperty('phone');

    await user.click(screen.getByRole('button', { name: '刷新，载入最新信息' }));
    await waitFor(() => expect(screen.getByLabelText('工作单位')).toHaveValue('百联集团（新）'));
  });

  it('removes the phone only when asked (phone: null)', async () => {
    const updates: Record<string, unknown>[] = [];
    mockGraphQL(({ query, variables }) => {
      if (query.includes('memberTags')) return { json: TAGS };
      if (query.includes('memberUpdate')) {
        updates.push(variables);
        return { json: { data: { memberUpdate: { member: { id: EDIT_MEMBER.id, version: 4 }, errors: [] } } } };
      }
      return { json: { data: { member: EDIT_MEMBER } } };
    });
    const router = renderAt('/members/TWVtYmVyOjE=/edit');
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: '编辑会员：王伟' });
    await user.click(screen.getByLabelText('删除已登记的手机号码'));
    expect(screen.getByLabelText('手机号码')).toBeDisabled();
    await user.click(screen.getByRole('button', { name: /保\s*存/ }));
    await screen.findByText('会员详情页');
    expect(updates[0].input).toMatchObject({ phone: null, expectedVersion: 3 });
    expect(router.state.location.pathname).toBe('/members/TWVtYmVyOjE%3D');
  });

  it('a deceased member is read-only', async () => {
    mockGraphQL(({ query }) => ({ json: query.includes('memberTags') ? TAGS : { data: { member: { ...EDIT_MEMBER, state: 'DECEASED' } } } }));
    renderAt('/members/TWVtYmVyOjE=/edit');
    await screen.findByRole('heading', { level: 1, name: '编辑会员：王伟' });
    expect(screen.getByText('已去世会员的档案已关闭，不能修改')).toBeInTheDocument();
    expect(screen.getByLabelText('姓名')).toBeDisabled();
    expect(within(document.querySelector('form')!).getByRole('button', { name: /保\s*存/ })).toBeDisabled();
  });
});
