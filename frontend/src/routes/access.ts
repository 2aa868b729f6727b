/**
 * Pure permission logic for the route registry, the menu and dashboard panels.
 * A screen (or panel) declares `permission`: one action name from core/permissions.py, or
 * a list meaning "any of these". No permission means any logged-in user.
 */

export type PermissionRequirement = string | readonly string[] | undefined;

export function allows(requirement: PermissionRequirement, permissions: ReadonlySet<string>): boolean {
  if (requirement === undefined) return true;
  if (typeof requirement === 'string') return permissions.has(requirement);
  return requirement.length === 0 || requirement.some((p) => permissions.has(p));
}

export interface MenuGroupDef {
  key: string;
  label: string;
}

export interface Routed {
  path: string;
  label: string;
  permission?: PermissionRequirement;
  group?: string;
  hideInMenu?: boolean;
  /** The capability (业务模块) the entry belongs to; shown only where the province enables it. */
  capability?: string;
}

const NO_CAPABILITIES: ReadonlySet<string> = new Set();

/** Whether the entry's capability, if it has one, is enabled in this province. */
export function enabledHere(entry: Pick<Routed, 'capability'>, capabilities: ReadonlySet<string> = NO_CAPABILITIES): boolean {
  return entry.capability === undefined || capabilities.has(entry.capability);
}

/** The entries this user may open, in registry order: their capability is enabled and their role allows. */
export function visibleEntries<T extends Routed>(
  entries: readonly T[],
  permissions: ReadonlySet<string>,
  capabilities: ReadonlySet<string> = NO_CAPABILITIES,
): T[] {
  return entries.filter((e) => enabledHere(e, capabilities) && allows(e.permission, permissions));
}

export interface MenuNode<T extends Routed> {
  key: string;
  label: string;
  entry?: T;
  children?: MenuNode<T>[];
}

/**
 * The side menu: visible entries, grouped by `group` (in the order of `groups`), ungrouped entries
 * at the top level where they appear. Groups with no visible entry disappear.
 */
export function buildMenu<T extends Routed>(
  entries: readonly T[],
  groups: readonly MenuGroupDef[],
  permissions: ReadonlySet<string>,
  capabilities: ReadonlySet<string> = NO_CAPABILITIES,
): MenuNode<T>[] {
  const visible = visibleEntries(entries, permissions, capabilities).filter((e) => !e.hideInMenu);
  const out: MenuNode<T>[] = [];
  const groupNodes = new Map<string, MenuNode<T>>();
  for (const entry of visible) {
    if (!entry.group) {
      out.push({ key: entry.path, label: entry.label, entry });
      continue;
    }
    let node = groupNodes.get(entry.group);
    if (!node) {
      const def = groups.find((g) => g.key === entry.group);
      node = { key: `group:${entry.group}`, label: def?.label ?? entry.group, children: [] };
      groupNodes.set(entry.group, node);
    }
    node.children!.push({ key: entry.path, label: entry.label, entry });
  }
  const ordered = groups.map((g) => groupNodes.get(g.key)).filter((n): n is MenuNode<T> => !!n);
  const unknown = [...groupNodes.entries()].filter(([k]) => !groups.some((g) => g.key === k)).map(([, n]) => n);
  return [...out, ...ordered, ...unknown];
}

/** The registry entry whose path is the longest prefix of `pathname` (for menu highlighting). */
export function matchEntry<T extends Routed>(entries: readonly T[], pathname: string): T | undefined {
  let best: T | undefined;
  for (const e of entries) {
    const matches = e.path === '/' ? pathname === '/' : pathname === e.path || pathname.startsWith(`${e.path}/`);
    if (matches && (!best || e.path.length > best.path.length)) best = e;
  }
  return best;
}
