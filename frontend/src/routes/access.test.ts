import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allows, buildMenu, matchEntry, visibleEntries } from './access';
import { MENU_GROUPS, SCREENS, allScreens } from './registry';
import { PANELS } from '../dashboard/panels';
import { DEMO_PERMISSIONS } from '../test/utils';

const perms = (list: string[]) => new Set(list);
const paths = (list: { path: string }[]) => list.map((e) => e.path);

describe('allows', () => {
  it('treats no requirement as any logged-in user, a list as any-of', () => {
    expect(allows(undefined, perms([]))).toBe(true);
    expect(allows('org.read', perms([]))).toBe(false);
    expect(allows('org.read', perms(['org.read']))).toBe(true);
    expect(allows(['audit.read', 'user.read'], perms(['user.read']))).toBe(true);
    expect(allows(['audit.read', 'user.read'], perms(['org.read']))).toBe(false);
  });
});

describe('route registry filtering', () => {
  it('shows a worker (no staff permissions) no staff screen', () => {
    expect(paths(visibleEntries(SCREENS, perms(DEMO_PERMISSIONS.worker)))).toEqual(['/']);
  });

  it('shows a clerk the org tree but not users, audit or platform screens', () => {
    const visible = paths(visibleEntries(SCREENS, perms(DEMO_PERMISSIONS.clerk)));
    expect(visible).toContain('/org');
    expect(visible).not.toContain('/users');
    expect(visible).not.toContain('/audit');
    expect(visible).not.toContain('/platform/tenants');
  });

  it('shows a tenant admin users and audit, and a platform operator only the provinces', () => {
    const admin = paths(visibleEntries(SCREENS, perms(DEMO_PERMISSIONS.admin)));
    expect(admin).toEqual(expect.arrayContaining(['/', '/org', '/users', '/audit']));
    expect(admin).not.toContain('/platform/tenants');
    expect(paths(visibleEntries(SCREENS, perms(DEMO_PERMISSIONS.operator)))).toEqual(['/', '/platform/tenants']);
  });

  it('names only actions that exist in core/permissions.py or, for a capability, in its plugin', () => {
    const actions = (py: string) => [...py.matchAll(/^\s*"([a-z_]+(?:\.[a-z_]+)+)":/gm)].map((m) => m[1]);
    const known = new Set(actions(readFileSync(resolve(__dirname, '../../../core/permissions.py'), 'utf8')));
    expect(known.has('org.read')).toBe(true);
    // a capability's actions come from its plugin's register_permissions (plugins/<capability>/)
    const plugins = resolve(__dirname, '../../../plugins');
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.py') ? [join(dir, d.name)] : []));
    for (const s of allScreens()) {
      if (!s.capability || !existsSync(join(plugins, s.capability))) continue;
      for (const f of walk(join(plugins, s.capability))) for (const a of actions(readFileSync(f, 'utf8'))) known.add(a);
    }
    const used = [...allScreens(), ...PANELS].flatMap((e) => (e.permission === undefined ? [] : typeof e.permission === 'string' ? [e.permission] : [...e.permission]));
    const unknown = used.filter((p) => !known.has(p));
    expect(unknown, `unknown actions in the registry: ${unknown.join(', ')}`).toEqual([]);
  });

  it('offers the member write screens only with member.write, and transfers to every member reader', () => {
    const reader = paths(visibleEntries(SCREENS, perms(['member.read'])));
    expect(reader).toContain('/members/transfers');
    expect(reader).not.toContain('/members/new');
    expect(reader).not.toContain('/members/:id/edit');
    const writer = paths(visibleEntries(SCREENS, perms(['member.read', 'member.write'])));
    expect(writer).toEqual(expect.arrayContaining(['/members/new', '/members/:id/edit', '/members/transfers']));
    // the hidden form pages highlight 会员管理 in the menu; 会籍转移 highlights itself
    const menu = SCREENS.filter((s) => !s.hideInMenu);
    expect(matchEntry(menu, '/members/new')?.path).toBe('/members');
    expect(matchEntry(menu, '/members/TWVtYmVyOjE%3D/edit')?.path).toBe('/members');
    expect(matchEntry(menu, '/members/transfers')?.path).toBe('/members/transfers');
  });

  it('has unique paths and Chinese labels', () => {
    expect(new Set(paths(SCREENS)).size).toBe(SCREENS.length);
    for (const s of SCREENS) expect(s.label).toMatch(/^[\u4e00-\u9fff]/);
    for (const g of MENU_GROUPS) expect(g.label).toMatch(/^[\u4e00-\u9fff]/);
  });
});

describe('buildMenu', () => {
  const entries = [
    { path: '/', label: '工作台' },
    { path: '/b', label: '乙', group: 'sys', permission: 'x.read' },
    { path: '/a', label: '甲', group: 'org' },
    { path: '/c', label: '丙', group: 'org', permission: 'y.read' },
    { path: '/hidden', label: '隐', hideInMenu: true },
  ];
  const groups = [
    { key: 'org', label: '组织' },
    { key: 'sys', label: '系统' },
  ];

  it('groups visible entries in group order and drops empty groups', () => {
    const menu = buildMenu(entries, groups, perms(['x.read']));
    expect(menu.map((n) => n.key)).toEqual(['/', 'group:org', 'group:sys']);
    expect(menu[1].children!.map((n) => n.key)).toEqual(['/a']);
    expect(buildMenu(entries, groups, perms([])).map((n) => n.key)).toEqual(['/', 'group:org']);
  });

  it('matches the longest registered prefix for highlighting', () => {
    const list = [{ path: '/', label: 'a' }, { path: '/org', label: 'b' }, { path: '/org/units', label: 'c' }];
    expect(matchEntry(list, '/')?.path).toBe('/');
    expect(matchEntry(list, '/org/units/12')?.path).toBe('/org/units');
    expect(matchEntry(list, '/org')?.path).toBe('/org');
    expect(matchEntry(list, '/organisation')).toBeUndefined();
  });
});
