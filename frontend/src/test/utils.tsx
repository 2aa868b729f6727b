import type { ReactNode } from 'react';
import { vi } from 'vitest';
import { AuthContextProvider, type AuthValue, type Me } from '../auth/AuthProvider';
import type { Role } from '../graphql/generated';

export function fakeAuth(permissions: string[], roles: Role[] = [], overrides: Partial<Me> = {}): AuthValue {
  const me: Me = {
    user: { id: 'VXNlcjox', username: 'tester', displayName: '测试员' },
    tenant: { id: 'VGVuYW50OjE=', code: 'shanghai', name: '上海市总工会', isPlatform: false, capabilities: [] },
    grants: roles.map((role) => ({ role, orgUnit: { id: 'T3JnVW5pdDox', name: '上海市总工会', code: 'sh' } })),
    permissions,
    ...overrides,
  };
  const set = new Set(permissions);
  const capabilities = new Set(me.tenant.capabilities.map((c) => c.code));
  return { me, permissions: set, capabilities, can: (p) => set.has(p), reload: vi.fn(), logout: vi.fn() };
}

export function WithAuth({ value, children }: { value: AuthValue; children: ReactNode }) {
  return <AuthContextProvider value={value}>{children}</AuthContextProvider>;
}

type Handler = (body: { query: string; variables: Record<string, unknown> }, init: RequestInit) => { status?: number; json: unknown };

/** Replace fetch with a GraphQL stub; returns the mock to inspect calls. */
export function mockGraphQL(handler: Handler) {
  const fn = vi.fn(async (_url: string | URL | Request, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body ?? '{}'));
    const { status = 200, json } = handler(body, init ?? {});
    return new Response(JSON.stringify(json), { status, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

/** Permissions of the demo roles, as `me.permissions` returns them (see core/permissions.py). */
export const DEMO_PERMISSIONS = {
  worker: [] as string[],
  clerk: ['job.read', 'org.read', 'member.read', 'ledger.read', 'report.read'],
  auditor: ['audit.read', 'job.read', 'org.read', 'user.read', 'member.read', 'ledger.read', 'report.read'],
  admin: ['audit.read', 'job.read', 'org.read', 'org.write', 'user.read', 'user.write', 'member.read', 'ledger.read', 'report.read'],
  operator: ['tenant.create', 'tenant.list'],
};
