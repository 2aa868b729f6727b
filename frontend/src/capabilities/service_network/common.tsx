/**
 * What the service-network screens share: Chinese labels for the API's codes, SLA colours, the
 * plain-list adapter for ConnectionTable (these fields return lists, not connections), org-unit
 * names, and the public finder route (also used by the worker portal).
 */
import { useMemo } from 'react';
import './sn.css';
import { Rate, Tag } from 'antd';
import type { ConnectionSource } from '../../components/ConnectionTable';
import { useGql } from '../../api/useGql';
import { OrgUnitsPageDocument, type TypedDocumentString } from '../../graphql/generated';

export const PROVIDER_KINDS: Record<string, string> = { union: '工会', aid_centre: '帮扶中心', social_org: '社会组织（购买服务）' };
export const CHANNELS: Record<string, string> = { portal: '职工之家', hotline: '12351热线', station: '驿站' };
export const SUBJECT_TYPES: Record<string, string> = { station: '驿站', service_item: '服务项目', service_request: '服务诉求' };
export const WINDOW_KINDS: Record<string, string> = { staffed: '有人值守', qr: '扫码开门（无人值守）' };
export const TRANSITIONS: Record<string, string> = {
  accept: '受理', refer: '转介', resolve: '办结', reject: '不予受理', close: '归档', auto_close: '到期归档', submit: '提交',
};
/** Steps that need a reason (the workflow refuses them without one). */
export const NEEDS_REASON = new Set(['refer', 'reject']);
export const STATES: Record<string, string> = {
  submitted: '已提交', accepted: '已受理', referred: '已转介', resolved: '已办结', closed: '已归档', rejected: '不予受理',
};
export const STATION_DIMENSIONS: Record<string, string> = { siting: '选址', hygiene: '卫生', supplies: '物资', convenience: '便利', function: '功能' };

/** SLA clock states as the API names them → colour and words. */
export const SLA: Record<string, { color: string; text: string }> = {
  ok: { color: 'green', text: '按时' },
  due_soon: { color: 'orange', text: '即将超时' },
  overdue: { color: 'red', text: '已超时' },
  met: { color: 'blue', text: '已按时完成' },
  missed: { color: 'volcano', text: '超时完成' },
};

export function SlaTag({ value, label }: { value: string; label?: string }) {
  const s = SLA[value] ?? { color: 'default', text: value };
  return (
    <Tag color={s.color} data-sla={value}>
      {label ? `${label}：` : ''}
      {s.text}
    </Tag>
  );
}

export function Stars({ value, label = '星级' }: { value: number; label?: string }) {
  return (
    <span role="img" aria-label={`${label}${value}星`} title={`${value}星`}>
      <Rate disabled value={value} style={{ fontSize: 14 }} />
    </span>
  );
}

/** A plain list field shown through ConnectionTable as one page. */
export function useListSource<R, V, Row>(document: TypedDocumentString<R, V>, variables: V, select: (data: R) => Row[]): ConnectionSource<Row, R> & { rows: Row[] } {
  const query = useGql(document, variables);
  const rows = query.data === undefined ? undefined : select(query.data);
  return {
    query,
    rows: rows ?? [],
    connection: rows === undefined ? undefined : { nodes: rows, totalCount: rows.length, pageInfo: { hasNextPage: false, endCursor: null } },
    pageSize: Math.max(rows?.length ?? 0, 1),
    page: 0,
    next: () => {},
    prev: () => {},
    refetch: query.refetch,
  };
}

/** Names of the org units the user can read (first 200 by path), for list columns. */
export function useUnitNames(): (id: string | null | undefined) => string {
  const units = useGql(OrgUnitsPageDocument, { filter: {}, first: 200 });
  const names = useMemo(() => new Map((units.data?.orgUnits.nodes ?? []).map((u) => [u.id, u.name])), [units.data]);
  return (id) => (id ? names.get(id) ?? '—' : '—');
}

export function hoursText(windows: readonly { start: string; end: string; kind: string; overnight: boolean }[]): string {
  if (!windows.length) return '未登记';
  return windows.map((w) => `${w.start}–${w.overnight ? '次日' : ''}${w.end}${w.kind === 'qr' ? '（扫码）' : ''}`).join('，');
}

export interface NearbyStation {
  number: string;
  name: string;
  address: string;
  lat: number;
  lon: number;
  gcj02: [number, number];
  distanceM: number;
  stars: number;
  facilities: string[];
  homeName: string | null;
}

export class FinderError extends Error {
  constructor(message: string, public readonly code: string, public readonly status: number) {
    super(message);
  }
}

/** The public finder route (no login): stations near a point, nearest first. */
export async function fetchNearby(tenantCode: string, params: { lat: number; lon: number; n?: number; openNow?: boolean; facility?: string | null; datum?: string }): Promise<{ stations: NearbyStation[]; radiusM: number }> {
  const q = new URLSearchParams({ lat: String(params.lat), lon: String(params.lon), n: String(params.n ?? 20) });
  if (params.openNow) q.set('openNow', '1');
  if (params.facility) q.set('facility', params.facility);
  if (params.datum && params.datum !== 'wgs84') q.set('datum', params.datum);
  let res: Response;
  try {
    res = await fetch(`/public/service-network/${encodeURIComponent(tenantCode)}/stations/nearby?${q}`);
  } catch {
    throw new FinderError('无法连接服务器，请检查网络后重试', 'NETWORK', 0);
  }
  const body = (await res.json().catch(() => ({}))) as { stations?: NearbyStation[]; radiusM?: number; error?: { code: string; messageZh?: string } };
  if (!res.ok || !body.stations) {
    const e = body.error;
    const text = res.status === 429 ? '查询过于频繁，请稍后再试' : e?.messageZh || '查询失败，请稍后重试';
    throw new FinderError(text, e?.code ?? 'INTERNAL', res.status);
  }
  return { stations: body.stations, radiusM: body.radiusM ?? 0 };
}

export function distanceText(m: number): string {
  return m < 1000 ? `${Math.round(m)} 米` : `${(m / 1000).toFixed(1)} 公里`;
}

/** The database id inside a Relay global id ("Station:12" → 12), which ratings carry and take. */
export function pkOf(globalId: string): number {
  try {
    return Number(atob(globalId).split(':')[1]);
  } catch {
    return NaN;
  }
}
