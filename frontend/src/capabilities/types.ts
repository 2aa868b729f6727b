/**
 * What a capability's web UI gives the shell. A capability (业务模块: hardship, warmth, mutual aid…)
 * keeps its screens in `src/capabilities/<name>/` and exports one `CapabilityModule` as the default
 * export of `src/capabilities/<name>/index.tsx`; nothing else in the app needs editing. See docs/ui.md.
 */
import type { ReactNode } from 'react';
import type { Screen } from '../routes/registry';

export interface CapabilityModule {
  /** The capability's code, as in a province's `capabilities = [...]` and `me.tenant.capabilities`. */
  capability: string;
  /** Menu group label when the API does not name the capability (it normally does). */
  label: string;
  /** Icon of the capability's menu group. */
  icon?: ReactNode;
  /**
   * Routes and menu entries. Each names the permission it needs (the capability's own actions,
   * from its plugin's `register_permissions`). Without `group` an entry sits in the capability's
   * own menu group; a core group key (`org`, `funds`, …) puts it there instead.
   */
  screens: Omit<Screen, 'capability'>[];
}

/** Identity, for the types: `export default defineCapability({ … })`. */
export function defineCapability(module: CapabilityModule): CapabilityModule {
  return module;
}

export const capabilityGroupKey = (capability: string) => `cap:${capability}`;

/** A module's screens as registry entries, each marked with its capability and menu group. */
export function capabilityScreens(modules: readonly CapabilityModule[]): Screen[] {
  return modules.flatMap((m) =>
    m.screens.map((s) => ({ ...s, group: s.group ?? capabilityGroupKey(m.capability), capability: m.capability })),
  );
}
