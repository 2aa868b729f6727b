/**
 * What the procurement screens share: Chinese labels for the API's codes, the plain-list adapter for
 * ConnectionTable (these fields return lists of at most 500, not connections), org-unit names, and
 * the small helpers for dates, scores and files.
 */
import { useMemo, useState } from 'react';
import { Button, Space, Tag, Typography, message } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { downloadFile } from '../../api/files';
import { describeError } from '../../api/errors';
import type { ConnectionSource } from '../../components/ConnectionTable';
import { useGql } from '../../api/useGql';
import { OrgUnitsPageDocument, type TypedDocumentString } from '../../graphql/generated';

export const ORG_STATUS: Record<string, { color: string; text: string }> = {
  pending: { color: 'gold', text: '待审核' },
  approved: { color: 'green', text: '已入库' },
  rejected: { color: 'red', text: '未通过' },
};

export const MILESTONE_STATUS: Record<string, { color: string; text: string }> = {
  pending: { color: 'default', text: '待交付' },
  delivered: { color: 'blue', text: '已交付待验收' },
  accepted: { color: 'cyan', text: '已验收待支付' },
  paid: { color: 'green', text: '已支付' },
  closed: { color: 'default', text: '已关闭（合同终止）' },
};

export const COMPLAINT_OUTCOME: Record<string, { color: string; text: string }> = {
  '': { color: 'orange', text: '待处理' },
  dismissed: { color: 'default', text: '已驳回' },
  upheld: { color: 'red', text: '投诉成立' },
};

export const EVALUATION_KINDS: Record<string, string> = { midterm: '中期评估', final: '终期评估' };
export const DOCUMENT_KINDS: Record<string, string> = {
  registration_certificate: '登记证书', charter: '章程', qualification: '资质证明', audit_report: '审计报告', other: '其他',
};

/** Call states in which the tender box is still closed (bids exist but nobody may read them). */
export const SEALED_STATES = new Set(['draft', 'enquiries', 'bidding']);

export function StatusTag({ map, value }: { map: Record<string, { color: string; text: string }>; value: string }) {
  const s = map[value] ?? { color: 'default', text: value };
  return <Tag color={s.color} data-status={value}>{s.text}</Tag>;
}

export const points = (bp: number) => (bp / 100).toFixed(2);

export function dateTime(v: string | null | undefined): string {
  if (!v) return '—';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toLocaleString('zh-CN', { hour12: false });
}

/** The first error of a payload in Chinese, as a toast; true when there was none. */
export function toastErrors(errors: readonly { messageZh?: string | null; message: string }[], ok: string): boolean {
  if (errors.length) {
    message.error(errors[0].messageZh || errors[0].message);
    return false;
  }
  message.success(ok);
  return true;
}

/** A chosen file as base64 (the API takes documents inline). */
export function fileBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

/** The number inside a Relay global id ("ProcurementCall:12" in base64 → "12"), for REST paths. */
export function idNumber(globalId: string): string {
  try {
    const decoded = atob(globalId);
    return decoded.slice(decoded.indexOf(':') + 1);
  } catch {
    return '';
  }
}

interface DownloadableDocument { id: string; filename: string; downloadUrl: string }

/**
 * Download buttons for documents (bid or qualification documents). The API lists a bid's documents
 * only once its call is open, so a sealed bid never gets a link here; the file route refuses too.
 */
export function DocumentLinks({ documents, empty = '—' }: { documents: readonly DownloadableDocument[]; empty?: string }) {
  const [busy, setBusy] = useState<string | null>(null);
  if (!documents.length) return <Typography.Text type="secondary">{empty}</Typography.Text>;
  const get = async (d: DownloadableDocument) => {
    setBusy(d.id);
    try {
      await downloadFile(d.downloadUrl, d.filename);
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <Space size={4} wrap>
      {documents.map((d) => (
        <Button key={d.id} size="small" type="link" icon={<DownloadOutlined />} loading={busy === d.id}
          aria-label={`下载 ${d.filename}`} onClick={() => void get(d)}>{d.filename}</Button>
      ))}
    </Space>
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
export function useUnitNames(skip = false): (id: string | null | undefined) => string {
  const units = useGql(OrgUnitsPageDocument, { filter: {}, first: 200 }, { skip });
  const names = useMemo(() => new Map((units.data?.orgUnits.nodes ?? []).map((u) => [u.id, u.name])), [units.data]);
  return (id) => (id ? names.get(id) ?? '—' : '—');
}
