/**
 * The shell (Ant Design Pro style): side menu built from the route registry and the user's
 * permissions, a header with the province and the user menu, and the page outlet. Below the `md`
 * breakpoint (phones) the menu moves into a drawer opened from the header.
 */
import { Suspense, useMemo, useState, type ReactNode } from 'react';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { Avatar, Button, Drawer, Dropdown, Grid, Layout, Menu, Space, Tag, Typography, type MenuProps } from 'antd';
import { LogoutOutlined, MenuFoldOutlined, MenuUnfoldOutlined, MenuOutlined, UserOutlined } from '@ant-design/icons';
import { useAuth } from '../auth/AuthProvider';
import { buildMenu, matchEntry, type MenuNode } from '../routes/access';
import { allScreens, menuGroups, type Screen } from '../routes/registry';
import { CAPABILITY_MODULES } from '../capabilities';
import type { CapabilityModule } from '../capabilities/types';
import { ROLE_LABELS } from '../lib/labels';
import { LoadingState } from '../components/states';

const { Header, Sider, Content } = Layout;

function toItems(nodes: MenuNode<Screen>[], icons: Record<string, ReactNode>): MenuProps['items'] {
  return nodes.map((n) =>
    n.children
      ? { key: n.key, label: n.label, icon: icons[n.key.slice('group:'.length)], children: toItems(n.children, icons) }
      : { key: n.key, label: n.label, icon: n.entry?.icon },
  );
}

function Brand({ collapsed }: { collapsed?: boolean }) {
  return (
    <div className="hj-brand" aria-label="会家 · 工会服务职工平台">
      <span className="hj-brand-mark" aria-hidden="true">
        会
      </span>
      {!collapsed && <span className="hj-brand-name">会家</span>}
    </div>
  );
}

/** `modules` is for tests (a fake capability); the app uses every module under src/capabilities/. */
export function AppLayout({ modules = CAPABILITY_MODULES }: { modules?: readonly CapabilityModule[] }) {
  const { me, permissions, capabilities, logout } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const screens = Grid.useBreakpoint();
  const isMobile = screens.md === false;
  const [collapsed, setCollapsed] = useState(false);
  const [drawerOpen, setDrawerOpen] = useState(false);

  const screensAll = useMemo(() => allScreens(modules), [modules]);
  const { groups, icons } = useMemo(() => menuGroups(modules, new Map(me.tenant.capabilities.map((c) => [c.code, c.label]))), [modules, me.tenant.capabilities]);
  const menu = useMemo(() => buildMenu(screensAll, groups, permissions, capabilities), [screensAll, groups, permissions, capabilities]);
  const items = useMemo(() => toItems(menu, icons), [menu, icons]);
  const menuScreens = useMemo(() => screensAll.filter((s) => !s.hideInMenu), [screensAll]);
  // Hidden entries (/members/new, /members/:id/edit) highlight the menu item they sit under.
  const current = matchEntry(menuScreens, location.pathname);
  const openGroups = useMemo(() => menu.filter((n) => n.children).map((n) => n.key), [menu]);

  const onClick: MenuProps['onClick'] = ({ key }) => {
    setDrawerOpen(false);
    if (!key.startsWith('group:')) navigate(key);
  };

  const menuEl = (
    <nav aria-label="主菜单">
      <Menu
        mode="inline"
        theme="dark"
        items={items}
        selectedKeys={current ? [current.path] : []}
        defaultOpenKeys={openGroups}
        onClick={onClick}
      />
    </nav>
  );

  const roles = [...new Set(me.grants.map((g) => ROLE_LABELS[g.role]))];
  const userMenu: MenuProps = {
    items: [
      {
        key: 'who',
        disabled: true,
        label: (
          <div className="hj-user-card">
            <div>{me.user.displayName || me.user.username}</div>
            <Typography.Text type="secondary">
              {me.user.username} · {roles.join('、') || '无角色'}
            </Typography.Text>
          </div>
        ),
      },
      { type: 'divider' },
      { key: 'logout', icon: <LogoutOutlined />, label: '退出登录' },
    ],
    onClick: ({ key }) => {
      if (key === 'logout') void logout();
    },
  };

  return (
    <Layout className="hj-shell">
      <a className="hj-skip-link" href="#hj-main">
        跳到主要内容
      </a>
      {!isMobile && (
        <Sider
          width={220}
          collapsible
          collapsed={collapsed}
          trigger={null}
          className="hj-sider"
          breakpoint="lg"
          onBreakpoint={(broken) => setCollapsed(broken)}
        >
          <Brand collapsed={collapsed} />
          {menuEl}
        </Sider>
      )}
      {isMobile && (
        <Drawer
          placement="left"
          open={drawerOpen}
          onClose={() => setDrawerOpen(false)}
          width={240}
          title={null}
          closable={false}
          styles={{ body: { padding: 0, background: '#001529' } }}
          aria-label="主菜单"
        >
          <Brand />
          {menuEl}
        </Drawer>
      )}
      <Layout>
        <Header className="hj-header">
          <Space size={8} className="hj-header-left">
            {isMobile ? (
              <Button type="text" icon={<MenuOutlined />} aria-label="打开菜单" onClick={() => setDrawerOpen(true)} />
            ) : (
              <Button
                type="text"
                icon={collapsed ? <MenuUnfoldOutlined /> : <MenuFoldOutlined />}
                aria-label={collapsed ? '展开菜单' : '收起菜单'}
                onClick={() => setCollapsed((c) => !c)}
              />
            )}
            <Typography.Text strong className="hj-tenant-name" title={me.tenant.name}>
              {me.tenant.name}
            </Typography.Text>
            {me.tenant.isPlatform && <Tag color="gold">平台运营</Tag>}
          </Space>
          <Dropdown menu={userMenu} trigger={['click']} placement="bottomRight">
            <Button type="text" className="hj-user-button" aria-label={`用户菜单：${me.user.displayName || me.user.username}`}>
              <Avatar size="small" icon={<UserOutlined />} style={{ backgroundColor: '#c8161d' }} />
              {!isMobile && <span className="hj-user-name">{me.user.displayName || me.user.username}</span>}
            </Button>
          </Dropdown>
        </Header>
        <Content id="hj-main" className="hj-content" tabIndex={-1}>
          <Suspense fallback={<LoadingState />}>
            <Outlet />
          </Suspense>
        </Content>
      </Layout>
    </Layout>
  );
}
