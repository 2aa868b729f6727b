import { lazy } from 'react';
import { render, screen, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';
import { HeartOutlined } from '@ant-design/icons';
import { AppLayout } from '../layout/AppLayout';
import { Providers, routes } from '../router';
import { allScreens, menuGroups } from '../routes/registry';
import { buildMenu, visibleEntries } from '../routes/access';
import { DEMO_PERMISSIONS, WithAuth, fakeAuth } from '../test/utils';
import { CAPABILITY_MODULES } from '.';
import { defineCapability } from './types';

/** A fake capability module, shaped as `src/capabilities/<name>/index.tsx` exports it. */
const FAKE = defineCapability({
  capability: 'fakecare',
  label: '模拟帮扶',
  icon: <HeartOutlined />,
  screens: [
    { path: '/fakecare/cases', label: '模拟档案', permission: 'fakecare.read', page: lazy(async () => ({ default: () => <h1>模拟档案页面</h1> })) },
    { path: '/fakecare/cases/:id', label: '模拟档案详情', permission: 'fakecare.read', hideInMenu: true, page: lazy(async () => ({ default: () => <h1>详情</h1> })) },
    { path: '/fakecare/grants', label: '模拟发放', permission: 'fakecare.pay', page: lazy(async () => ({ default: () => <h1>模拟发放页面</h1> })) },
    // a capability may also put an entry into a core group
    { path: '/fakecare/levy', label: '模拟经费', group: 'funds', permission: 'fakecare.read', page: lazy(async () => ({ default: () => <h1>经费</h1> })) },
  ],
});

const ENABLED = [{ code: 'fakecare', label: '困难帮扶（接口名称）' }];
const READER = [...DEMO_PERMISSIONS.clerk, 'fakecare.read'];

function renderApp(path: string, permissions: string[], capabilities: { code: string; label: string }[]) {
  const auth = fakeAuth(permissions, ['CLERK'], {
    tenant: { id: 'VGVuYW50OjE=', code: 'shanghai', name: '上海市总工会', isPlatform: false, capabilities },
  });
  const all = allScreens([FAKE]);
  // the app's routes, under a shell that knows the fake module
  const [, shell] = routes(all);
  const router = createMemoryRouter([{ ...shell, element: <AppLayout modules={[FAKE]} /> }], { initialEntries: [path] });
  render(
    <Providers>
      <WithAuth value={auth}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
}

const menuLabels = () => screen.getAllByRole('menuitem').map((el) => el.textContent?.trim());

describe('capability UI slots', () => {
  it('marks every screen of a module with its capability and its own menu group', () => {
    const mine = allScreens([FAKE]).filter((s) => s.capability === 'fakecare');
    expect(mine.map((s) => [s.path, s.group])).toEqual([
      ['/fakecare/cases', 'cap:fakecare'],
      ['/fakecare/cases/:id', 'cap:fakecare'],
      ['/fakecare/grants', 'cap:fakecare'],
      ['/fakecare/levy', 'funds'],
    ]);
    const { groups } = menuGroups([FAKE], new Map([['fakecare', '困难帮扶（接口名称）']]));
    // before 系统管理, named as the API names the capability
    expect(groups.map((g) => g.label)).toEqual(['组织与会员', '经费管理', '困难帮扶（接口名称）', '系统管理', '平台运营']);
    expect(menuGroups([FAKE]).groups.find((g) => g.key === 'cap:fakecare')?.label).toBe('模拟帮扶');
  });

  it('lists an entry only when the province enables the capability and the role allows it', () => {
    const all = allScreens([FAKE]);
    const paths = (caps: string[], perms: string[]) => visibleEntries(all, new Set(perms), new Set(caps)).map((s) => s.path).filter((p) => p.startsWith('/fakecare'));
    expect(paths([], [...READER, 'fakecare.pay'])).toEqual([]);
    expect(paths(['fakecare'], DEMO_PERMISSIONS.clerk)).toEqual([]);
    expect(paths(['fakecare'], READER)).toEqual(['/fakecare/cases', '/fakecare/cases/:id', '/fakecare/levy']);
    expect(paths(['fakecare'], [...READER, 'fakecare.pay'])).toContain('/fakecare/grants');
    // without the capability set (older callers) nothing of a capability shows
    expect(visibleEntries(all, new Set([...READER, 'fakecare.pay'])).some((s) => s.capability)).toBe(false);
    const groupsMenu = buildMenu(all, menuGroups([FAKE]).groups, new Set(READER), new Set(['fakecare']));
    expect(groupsMenu.find((n) => n.key === 'group:cap:fakecare')?.children?.map((c) => c.label)).toEqual(['模拟档案']);
  });

  it('shows the capability menu in the shell where it is enabled, with the API label', async () => {
    renderApp('/', READER, ENABLED);
    const labels = menuLabels().join(' ');
    expect(labels).toContain('困难帮扶（接口名称）');
    expect(labels).toContain('模拟档案');
    expect(labels).toContain('模拟经费');
    expect(labels).not.toContain('模拟发放'); // no fakecare.pay
  });

  it('hides the capability menu where the province does not enable it, whatever the role', () => {
    renderApp('/', [...READER, 'fakecare.pay'], []);
    const labels = menuLabels().join(' ');
    for (const l of ['困难帮扶', '模拟帮扶', '模拟档案', '模拟发放', '模拟经费']) expect(labels).not.toContain(l);
    expect(labels).toContain('组织架构');
  });

  it('opens a capability page where it is enabled', async () => {
    renderApp('/fakecare/cases', READER, ENABLED);
    expect(await screen.findByRole('heading', { name: '模拟档案页面' })).toBeInTheDocument();
  });

  it('says 本省未启用此功能 on a route of a disabled capability, even for a role that holds its permission', async () => {
    renderApp('/fakecare/cases/7', [...READER, 'fakecare.pay'], []);
    const main = screen.getByRole('main');
    expect(await within(main).findByText('本省未启用此功能')).toBeInTheDocument();
    expect(within(main).queryByText('详情')).not.toBeInTheDocument();
    expect(within(main).queryByText('无权访问')).not.toBeInTheDocument();
  });

  it('refuses a role without the permission on an enabled capability with 无权访问', async () => {
    renderApp('/fakecare/grants', READER, ENABLED);
    expect(await screen.findByText('无权访问')).toBeInTheDocument();
    expect(screen.queryByText('模拟发放页面')).not.toBeInTheDocument();
  });

  it('finds the real modules under src/capabilities/, each with a capability code and screens', () => {
    for (const m of CAPABILITY_MODULES) {
      expect(m.capability).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(m.screens.length).toBeGreaterThan(0);
    }
    const codes = CAPABILITY_MODULES.map((m) => m.capability);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
