/**
 * THE route registry. Each screen declares its path, menu label, icon, menu group and the
 * permission it needs (an action from core/permissions.py, or a list meaning "any of").
 * The router, the side menu, the 403 guard and the breadcrumb are all built from this list.
 *
 * To add a screen: write src/pages/<Name>.tsx (default export), then add one entry here.
 * See docs/ui.md.
 */
import { lazy, type ComponentType, type LazyExoticComponent, type ReactNode } from 'react';
import {
  ApartmentOutlined,
  AppstoreOutlined,
  AccountBookOutlined,
  BarChartOutlined,
  CheckSquareOutlined,
  FileTextOutlined,
  WalletOutlined,
  AuditOutlined,
  DashboardOutlined,
  GlobalOutlined,
  SwapOutlined,
  TeamOutlined,
  UploadOutlined,
  UserSwitchOutlined,
  SettingOutlined,
} from '@ant-design/icons';
import type { MenuGroupDef, PermissionRequirement, Routed } from './access';
import { CAPABILITY_MODULES } from '../capabilities';
import { capabilityGroupKey, capabilityScreens, type CapabilityModule } from '../capabilities/types';

export interface Screen extends Routed {
  /** Absolute path; nested paths (`/org/:id`) are fine. */
  path: string;
  /** Menu label and page title (Chinese). */
  label: string;
  icon?: ReactNode;
  /** Action(s) needed; omitted = any logged-in user. */
  permission?: PermissionRequirement;
  /** Menu group key (see MENU_GROUPS); omitted = top level. */
  group?: string;
  hideInMenu?: boolean;
  /** Set for a capability's screens (from its CapabilityModule): shown only where it is enabled. */
  capability?: string;
  page: LazyExoticComponent<ComponentType>;
}

export const MENU_GROUPS: MenuGroupDef[] = [
  { key: 'org', label: '组织与会员' },
  { key: 'funds', label: '经费管理' },
  { key: 'system', label: '系统管理' },
  { key: 'platform', label: '平台运营' },
];

export const GROUP_ICONS: Record<string, ReactNode> = {
  org: <ApartmentOutlined />,
  funds: <AccountBookOutlined />,
  system: <AuditOutlined />,
  platform: <GlobalOutlined />,
};

export const SCREENS: Screen[] = [
  {
    path: '/',
    label: '工作台',
    icon: <DashboardOutlined />,
    page: lazy(() => import('../pages/Dashboard')),
  },
  {
    path: '/org',
    label: '组织架构',
    icon: <ApartmentOutlined />,
    group: 'org',
    permission: 'org.read',
    page: lazy(() => import('../pages/OrgTree')),
  },
  {
    path: '/members',
    label: '会员管理',
    icon: <TeamOutlined />,
    group: 'org',
    permission: 'member.read',
    page: lazy(() => import('../pages/members/List')),
  },
  {
    path: '/members/import',
    label: '导入名册',
    icon: <UploadOutlined />,
    group: 'org',
    permission: 'member.import',
    page: lazy(() => import('../pages/members/Import')),
  },
  {
    path: '/members/transfers',
    label: '会籍转移',
    icon: <SwapOutlined />,
    group: 'org',
    permission: 'member.read',
    page: lazy(() => import('../pages/members/Transfers')),
  },
  {
    path: '/members/new',
    label: '新增会员',
    permission: 'member.write',
    hideInMenu: true,
    page: lazy(() => import('../pages/members/MemberForm')),
  },
  {
    path: '/members/:id/edit',
    label: '编辑会员',
    permission: 'member.write',
    hideInMenu: true,
    page: lazy(() => import('../pages/members/MemberForm')),
  },
  {
    path: '/members/:id',
    label: '会员详情',
    permission: 'member.read',
    hideInMenu: true,
    page: lazy(() => import('../pages/members/Detail')),
  },
  {
    path: '/funds',
    label: '账户余额',
    icon: <WalletOutlined />,
    group: 'funds',
    permission: 'ledger.read',
    page: lazy(() => import('../pages/funds/Accounts')),
  },
  {
    path: '/funds/entries',
    label: '记账凭证',
    icon: <FileTextOutlined />,
    group: 'funds',
    permission: 'ledger.read',
    page: lazy(() => import('../pages/funds/Entries')),
  },
  {
    path: '/funds/approvals',
    label: '记账审批',
    icon: <CheckSquareOutlined />,
    group: 'funds',
    permission: 'ledger.read',
    page: lazy(() => import('../pages/funds/Approvals')),
  },
  {
    path: '/funds/reports',
    label: '经费报表',
    icon: <BarChartOutlined />,
    group: 'funds',
    permission: 'report.read',
    page: lazy(() => import('../pages/funds/Reports')),
  },
  {
    path: '/users',
    label: '用户与授权',
    icon: <UserSwitchOutlined />,
    group: 'system',
    permission: 'user.read',
    page: lazy(() => import('../pages/Users')),
  },
  {
    path: '/settings/plugins',
    label: '插件设置',
    icon: <SettingOutlined />,
    group: 'system',
    permission: 'plugin.configure',
    page: lazy(() => import('../pages/PluginSettings')),
  },
  {
    path: '/audit',
    label: '审计日志',
    icon: <AuditOutlined />,
    group: 'system',
    permission: 'audit.read',
    page: lazy(() => import('../pages/Audit')),
  },
  {
    path: '/platform/tenants',
    label: '省份管理',
    icon: <GlobalOutlined />,
    group: 'platform',
    permission: 'tenant.list',
    page: lazy(() => import('../pages/Tenants')),
  },
];

/** Core screens and every capability module's screens: what the router and the menu are built from. */
export function allScreens(modules: readonly CapabilityModule[] = CAPABILITY_MODULES): Screen[] {
  return [...SCREENS, ...capabilityScreens(modules)];
}

/**
 * Menu groups: core's, with one group per capability before 系统管理, labelled as the API names the
 * capability for this province (`me.tenant.capabilities`), else by the module.
 */
export function menuGroups(
  modules: readonly CapabilityModule[] = CAPABILITY_MODULES,
  apiLabels: ReadonlyMap<string, string> = new Map(),
): { groups: MenuGroupDef[]; icons: Record<string, ReactNode> } {
  const capGroups = modules.map((m) => ({ key: capabilityGroupKey(m.capability), label: apiLabels.get(m.capability) ?? m.label }));
  const at = MENU_GROUPS.findIndex((g) => g.key === 'system');
  const groups = [...MENU_GROUPS.slice(0, at), ...capGroups, ...MENU_GROUPS.slice(at)];
  const icons: Record<string, ReactNode> = { ...GROUP_ICONS };
  for (const m of modules) icons[capabilityGroupKey(m.capability)] = m.icon ?? <AppstoreOutlined />;
  return { groups, icons };
}
