/**
 * 开放数据: what the province publishes without a login, as the public sees it. The awarded
 * contracts (GET /public/procurement/<province>/awards) and the OCDS 1.1 release packages, one per
 * call or all at once (GET /public/procurement/<province>/ocds[/<call>]). Nothing here needs more
 * than `procurement.read`: the routes are public, rate-limited per address.
 */
import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Card, Space, Table, Tag, Typography, message } from 'antd';
import { DownloadOutlined, ReloadOutlined } from '@ant-design/icons';
import { PageContainer } from '../../components/PageContainer';
import { useAuth } from '../../auth/AuthProvider';
import { downloadFile } from '../../api/files';
import { describeError } from '../../api/errors';
import { formatYuan } from '../../lib/money';
import { PcCallsDocument } from '../../graphql/generated';
import { dateTime, idNumber, useListSource } from './common';

export interface AwardedContract {
  ocid: string;
  title: string;
  category: string;
  buyer: string;
  supplier: { name: string; creditCode: string };
  valueFen: number;
  signedAt: string;
  status?: string;
}

const publicBase = (tenantCode: string) => `/public/procurement/${encodeURIComponent(tenantCode)}`;

/** The public listing of awarded contracts, fetched as an anonymous visitor would (no token). */
export async function fetchAwards(tenantCode: string): Promise<AwardedContract[]> {
  let res: Response;
  try {
    res = await fetch(`${publicBase(tenantCode)}/awards`);
  } catch {
    throw new Error('无法连接服务器，请检查网络后重试');
  }
  const body = (await res.json().catch(() => ({}))) as { contracts?: AwardedContract[]; error?: { messageZh?: string } };
  if (!res.ok || !body.contracts) {
    throw new Error(res.status === 429 ? '查询过于频繁，请稍后再试' : body.error?.messageZh || '查询失败，请稍后重试');
  }
  return body.contracts;
}

/** Download one call's OCDS release package (a published call; a draft has none). */
export function OcdsButton({ callId, label = 'OCDS' }: { callId: string; label?: string }) {
  const { me } = useAuth();
  const [busy, setBusy] = useState(false);
  const n = idNumber(callId);
  const get = async () => {
    setBusy(true);
    try {
      await downloadFile(`${publicBase(me.tenant.code)}/ocds/${n}`, `ocds-${me.tenant.code}-${n}.json`);
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Button size="small" icon={<DownloadOutlined />} loading={busy} onClick={() => void get()} aria-label={`下载项目${n}的OCDS数据包`}>
      {label}
    </Button>
  );
}

export function AwardsTable({ rows, loading }: { rows: AwardedContract[]; loading?: boolean }) {
  return (
    <Table<AwardedContract> size="small" rowKey="ocid" loading={loading} dataSource={rows} pagination={{ pageSize: 20, hideOnSinglePage: true }}
      aria-label="中标合同公示" locale={{ emptyText: '暂无已签订的合同' }}
      columns={[
        { title: '项目名称', dataIndex: 'title' },
        { title: '采购单位', dataIndex: 'buyer', responsive: ['md'] },
        { title: '承接组织', key: 'supplier', render: (_: unknown, r) => r.supplier.name },
        { title: '统一社会信用代码', key: 'code', render: (_: unknown, r) => r.supplier.creditCode, responsive: ['lg'] },
        { title: '合同金额', dataIndex: 'valueFen', render: (v: number) => formatYuan(v), align: 'right' },
        { title: '签订时间', dataIndex: 'signedAt', render: dateTime, responsive: ['md'] },
        { title: '状态', dataIndex: 'status', render: (s?: string) => (s === 'terminated' ? <Tag>已终止</Tag> : <Tag color="green">履行中</Tag>) },
        { title: 'OCID', dataIndex: 'ocid', responsive: ['xl'] },
      ]} />
  );
}

export default function OpenData() {
  const { me } = useAuth();
  const code = me.tenant.code;
  const [awards, setAwards] = useState<AwardedContract[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [busy, setBusy] = useState(false);
  const calls = useListSource(PcCallsDocument, { state: null }, (d) => d.procurementCalls);
  const published = calls.rows.filter((c) => c.state !== 'draft');

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setAwards(await fetchAwards(code));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoading(false);
    }
  }, [code]);
  useEffect(() => void load(), [load]);

  const all = async () => {
    setBusy(true);
    try {
      await downloadFile(`${publicBase(code)}/ocds`, `ocds-${code}.json`);
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <PageContainer title="开放数据" subTitle="无需登录即可访问的公开信息：中标合同公示与 OCDS 1.1 数据包（不含个人信息）">
      <Card size="small" className="hj-panel-flow" style={{ marginBottom: 12 }} title="中标合同公示"
        extra={<Button size="small" icon={<ReloadOutlined />} onClick={() => void load()}>刷新</Button>}>
        <Typography.Paragraph type="secondary">
          公开地址：<Typography.Text code copyable>{`${window.location.origin}${publicBase(code)}/awards`}</Typography.Text>
        </Typography.Paragraph>
        {error ? <Alert type="error" showIcon message={error} /> : <AwardsTable rows={awards ?? []} loading={loading && awards === null} />}
      </Card>
      <Card size="small" className="hj-panel-flow" title="OCDS 数据包"
        extra={<Button size="small" type="primary" icon={<DownloadOutlined />} loading={busy} onClick={() => void all()}>下载全部项目</Button>}>
        <Table size="small" rowKey="id" dataSource={published} loading={calls.query.loading} pagination={{ pageSize: 20, hideOnSinglePage: true }}
          aria-label="OCDS数据包" locale={{ emptyText: '暂无已发布的采购项目' }}
          columns={[
            { title: '项目名称', dataIndex: 'title' },
            { title: '状态', dataIndex: 'stateLabel' },
            { title: '发布时间', dataIndex: 'publishedAt', render: dateTime, responsive: ['md'] },
            { title: '数据包', key: 'ocds', render: (_: unknown, r) => <Space><OcdsButton callId={r.id} label="下载" /></Space> },
          ]} />
      </Card>
    </PageContainer>
  );
}
