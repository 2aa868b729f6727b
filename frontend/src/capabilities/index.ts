/**
 * THE capability registration point: every `src/capabilities/<name>/index.tsx` is picked up here
 * (its default export, a `CapabilityModule`). Pages inside a module stay lazy, so a capability costs
 * the first page load only its menu entries.
 */
import type { CapabilityModule } from './types';

const found = import.meta.glob<{ default: CapabilityModule }>('./*/index.tsx', { eager: true });

export const CAPABILITY_MODULES: CapabilityModule[] = Object.keys(found)
  .sort()
  .map((path) => found[path].default);
