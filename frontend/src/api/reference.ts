/**
 * Rules the UI shows but the server owns: the org levels (which level may sit below which) and the
 * chart of accounts. Fetched once per page load and shared by every screen that needs them.
 */
import { useEffect, useState } from 'react';
import { gql } from './client';
import { ChartOfAccountsDocument, OrgLevelsDocument, type ChartOfAccountsQuery, type OrgLevel, type OrgLevelsQuery } from '../graphql/generated';

export type OrgLevelRule = OrgLevelsQuery['orgLevels'][number];
export type ChartAccount = ChartOfAccountsQuery['chartOfAccounts'][number];

const cache = new Map<string, Promise<unknown>>();

function once<T>(key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key) as Promise<T> | undefined;
  if (!p) {
    // a failed load is not cached: the next screen that asks tries again
    p = load().catch((e) => {
      cache.delete(key);
      throw e;
    });
    cache.set(key, p);
  }
  return p;
}

/** Forget what was loaded (tests; a new login may be another province's admin). */
export function resetReferenceCache() {
  cache.clear();
}

function useOnce<T>(key: string, load: () => Promise<T>, skip: boolean): { data: T | undefined; error: unknown } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown }>({ data: undefined, error: null });
  useEffect(() => {
    if (skip) return;
    let live = true;
    once(key, load).then(
      (data) => live && setState({ data, error: null }),
      (error: unknown) => live && setState({ data: undefined, error }),
    );
    return () => {
      live = false;
    };
    // `load` is a fresh closure each render; the key names what it loads, so it is left out
  }, [key, skip]);
  return state;
}

/** The org levels, top down, with the levels each may hold (needs `org.read`). */
export function useOrgLevels(skip = false) {
  return useOnce('orgLevels', async () => (await gql(OrgLevelsDocument)).orgLevels, skip);
}

/** The chart of accounts, by code (needs `ledger.read`). */
export function useChartOfAccounts(skip = false) {
  return useOnce('chartOfAccounts', async () => (await gql(ChartOfAccountsDocument)).chartOfAccounts, skip);
}

/** The levels allowed directly below `parent`; none until the rules are loaded. */
export function childLevelsOf(rules: readonly OrgLevelRule[] | undefined, parent: OrgLevel): OrgLevel[] {
  return rules?.find((r) => r.level === parent)?.childLevels ?? [];
}
