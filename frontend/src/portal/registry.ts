/**
 * The portal's registration point for capabilities' self-service pages (hardship self-test, aid
 * applications, mutual-aid cover and claims, campaign benefits, the station finder…).
 *
 * A capability's portal module calls `registerPortalEntry` once, from
 * `src/capabilities/<name>/portal.tsx`, which `entries.ts` imports. The home page lists an entry, and
 * the router mounts its page at `/m/<path>`, only when the worker's province enables `capability`
 * (`myWorker.capabilities`); `memberOnly` entries appear once the account is bound to a member.
 * Every worker field the page calls must start from the caller on the server (`core.sdk.require_worker`).
 */
import type { ComponentType } from 'react';

export interface PortalEntry {
  /** Capability code (as in tenants/<code>.toml `capabilities`). */
  capability: string;
  /** Path under /m/, without a leading slash, e.g. "hardship/self-test". */
  path: string;
  /** Tile title on the home page, zh-CN. */
  title: string;
  /** One line under the title. */
  description?: string;
  /** Shown only to workers bound to a member record. */
  memberOnly?: boolean;
  page: ComponentType;
}

const entries: PortalEntry[] = [];

export function registerPortalEntry(entry: PortalEntry): void {
  if (entries.some((e) => e.path === entry.path)) throw new Error(`portal path registered twice: ${entry.path}`);
  entries.push(entry);
}

export function portalEntries(): readonly PortalEntry[] {
  return entries;
}

/** The entries a worker sees: their province enables the capability, and membership if required. */
export function visibleEntries(capabilities: readonly string[], isMember: boolean): PortalEntry[] {
  const enabled = new Set(capabilities);
  return entries.filter((e) => enabled.has(e.capability) && (!e.memberOnly || isMember));
}

/** Tests only. */
export function clearPortalEntries(): void {
  entries.length = 0;
}
