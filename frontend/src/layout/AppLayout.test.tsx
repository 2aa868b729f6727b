import { render, screen } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';
import { AppLayout } from './AppLayout';
import { Providers } from '../router';
import { DEMO_PERMISSIONS, WithAuth, fakeAuth } from '../test/utils';
import type { Role } from '../graphql/generated';

function renderShell(permissions: string[], roles: Role[]) {
  const router = createMemoryRouter([{ path: '/', element: <AppLayout />, children: [{ index: true, element: <p>内容</p> }] }], { initialEntries: ['/'] });
  render(
    <Providers>
      <WithAuth value={fakeAuth(permissions, roles)}>
        <RouterProvider router={router} />
      </WithAuth>
    </Providers>,
  );
}

function menuLabels() {
  return screen.getAllByRole('menuitem').map((el) => el.textContent?.trim());
}

describe('AppLayout menu', () => {
  it('a worker sees no staff screens', () => {
    renderShell(DEMO_PERMISSIONS.worker, ['WORKER']);
    expect(menuLabels()).toEqual(['工作台']);
  });

  it('a tenant admin sees the org tree, users and the audit log, grouped', () => {
    renderShell(DEMO_PERMISSIONS.admin, ['TENANT_ADMIN']);
    const labels = menuLabels().join(' ');
    for (const l of ['工作台', '组织与会员', '组织架构', '系统管理', '用户与授权', '审计日志']) expect(labels).toContain(l);
    expect(labels).not.toContain('省份管理');
  });

  it('has a skip link, a labelled navigation and the province name', () => {
    renderShell(DEMO_PERMISSIONS.clerk, ['CLERK']);
    expect(screen.getByText('跳到主要内容')).toHaveAttribute('href', '#hj-main');
    expect(screen.getByRole('navigation', { name: '主菜单' })).toBeInTheDocument();
    expect(screen.getByText('上海市总工会')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: /用户菜单/ })).toBeInTheDocument();
  });
});
