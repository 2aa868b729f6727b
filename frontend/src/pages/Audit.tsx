/** The province's audit log (newest first), with filters and a hash-chain verification button. */
import { useState } from 'react';
import { Alert, Button, Card, DatePicker, Descriptions, Form, Input, Select, Space, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { ReloadOutlined, SafetyOutlined, SearchOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import { gql } from '../api/client';
import { describeError } from '../api/errors';
import { useGql } from '../api/useGql';
import {
  AuditRecordsDocument,
  AuditVerifyDocument,
  OrgUnitsPageDocument,
  UsersDocument,
  type AuditFilter,
  type AuditRecordsQuery,
  type AuditVerifyQuery,
} from '../graphql/generated';
import { useAuth } from '../auth/AuthProvider';
import { PageContainer } from '../components/PageContainer';
import { ConnectionTable, useConnection } from '../components/ConnectionTable';
import { AUDIT_PREFIXES, TARGET_TYPE_LABELS, actorLabel, auditActionLabel, targetLabel } from '../lib/labels';
import { formatDateTime } from '../lib/format';

type AuditRow = AuditRecordsQuery['auditRecords']['nodes'][number];
const PAGE_SIZE = 20;

interface FilterForm {
  actionPrefix?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  range?: [Dayjs | null, Dayjs | null] | null;
}

function toFilter(v: FilterForm): AuditFilter {
  return {
    actionPrefix: v.actionPrefix?.trim() || null,
    actorId: v.actorId || null,
    targetType: v.targetType || null,
    targetId: v.targetId?.trim() || null,
    since: v.range?.[0]?.startOf('day').toISOString() ?? null,
    until: v.range?.[1]?.endOf('day').toISOString() ?? null,
  };
}

/** The primary key inside a global id (`base64("User:11")` → `"11"`), or null. */
export function pkOf(globalId: string): string | null {
  try {
    const [, pk] = atob(globalId).split(':');
    return pk ?? null;
  } catch {
    return null;
  }
}

/**
 * The name of an audit record's object, when the page knows it: a user or org unit it has loaded,
 * else a name the record's own changes carry (e.g. 新建组织 records the unit's name).
 */
export function targetName(
  r: Pick<AuditRow, 'targetType' | 'targetId' | 'changes'>,
  names: Record<string, Map<string, string>>,
): string | null {
  const known = r.targetId ? names[r.targetType]?.get(r.targetId) : undefined;
  if (known) return known;
  const c = (r.changes ?? {}) as Record<string, unknown>;
  for (const key of ['display_name', 'name', 'username', 'code']) {
    const v = c[key];
    if (typeof v === 'string' && v) return v;
    // An update records [old, new].
    if (Array.isArray(v) && typeof v[1] === 'string' && v[1]) return v[1];
  }
  return null;
}

function Changes({ value }: { value: unknown }) {
  const text = JSON.stringify(value ?? {}, null, 2);
  return <pre className="hj-json">{text === '{}' ? '（无）' : text}</pre>;
}

export default function Audit() {
  const { can } = useAuth();
  const [form] = Form.useForm<FilterForm>();
  const [filter, setFilter] = useState<AuditFilter>({});
  const q = useConnection(AuditRecordsDocument, { filter }, (d) => d.auditRecords, { pageSize: PAGE_SIZE });
  const users = useGql(UsersDocument, { first: 100 }, { skip: !can('user.read') });
  const units = useGql(OrgUnitsPageDocument, { first: 100 }, { skip: !can('org.read') });
  const names: Record<string, Map<string, string>> = {
    User: new Map(
      (users.data?.users.nodes ?? []).flatMap((u) => {
        const pk = pkOf(u.id);
        return pk ? [[pk, u.displayName ? `${u.displayName}（${u.username}）` : u.username] as [string, string]] : [];
      }),
    ),
    OrgUnit: new Map(
      (units.data?.orgUnits.nodes ?? []).flatMap((u) => {
        const pk = pkOf(u.id);
        return pk ? [[pk, u.name] as [string, string]] : [];
      }),
    ),
  };
  const [verify, setVerify] = useState<{ loading: boolean; result?: AuditVerifyQuery['auditVerify']; error?: unknown }>({ loading: false });

  const runVerify = async () => {
    setVerify({ loading: true });
    try {
      const { auditVerify } = await gql(AuditVerifyDocument);
      setVerify({ loading: false, result: auditVerify });
    } catch (e) {
      setVerify({ loading: false, error: e });
    }
  };

  const columns: ColumnsType<AuditRow> = [
    { title: '序号', dataIndex: 'seq', width: 80 },
    { title: '时间', dataIndex: 'at', width: 170, render: formatDateTime },
    {
      title: '操作人',
      key: 'actor',
      width: 140,
      render: (_, r) =>
        !r.actorId && r.actorName && actorLabel(r.actorName, r.actorId) !== r.actorName ? (
          <Typography.Text type="secondary">{actorLabel(r.actorName, r.actorId)}</Typography.Text>
        ) : (
          actorLabel(r.actorName, r.actorId)
        ),
    },
    { title: '操作', dataIndex: 'action', render: (a: string) => auditActionLabel(a) },
    {
      title: '理由',
      dataIndex: 'reason',
      width: 180,
      responsive: ['md'],
      render: (v: string | null) => (v ? <span>{v}</span> : <Typography.Text type="secondary">—</Typography.Text>),
    },
    {
      title: '对象',
      key: 'target',
      responsive: ['sm'],
      render: (_, r) => targetLabel(r.targetType, r.targetId, targetName(r, names)),
    },
  ];


  return (
    <PageContainer
      title="审计日志"
      subTitle="所有写操作、登录和敏感信息查看均记录在案，记录之间以哈希链相连，不可篡改"
      extra={
        <Button type="primary" icon={<SafetyOutlined />} loading={verify.loading} onClick={() => void runVerify()}>
          校验审计链
        </Button>
      }
    >
      <div aria-live="polite">
        {verify.result &&
          (verify.result.ok ? (
            <Alert
              type="success"
              showIcon
              closable
              onClose={() => setVerify({ loading: false })}
              className="hj-verify"
              message="审计链完整"
              description={`已重新计算 ${verify.result.checked.toLocaleString('zh-CN')} 条记录的哈希，未发现修改或删除。`}
            />
          ) : (
            <Alert
              type="error"
              showIcon
              className="hj-verify"
              message={`审计链异常：发现 ${verify.result.problems.length} 处问题（已校验 ${verify.result.checked} 条）`}
              description={
                <ul className="hj-plain-list">
                  {verify.result.problems.map((p) => (
                    <li key={p}>{p}</li>
                  ))}
                </ul>
              }
            />
          ))}
        {verify.error ? <Alert type="error" showIcon className="hj-verify" message={`校验失败：${describeError(verify.error)}`} /> : null}
      </div>
      <Card size="small" className="hj-panel">
        <Form<FilterForm>
          form={form}
          layout="inline"
          name="audit-filter"
          className="hj-filter-form"
          onFinish={(v) => {
            setFilter(toFilter(v));
          }}
        >
          <Form.Item label="操作类别" name="actionPrefix">
            <Select allowClear placeholder="全部" options={AUDIT_PREFIXES} style={{ width: 140 }} />
          </Form.Item>
          {can('user.read') && (
            <Form.Item label="操作人" name="actorId">
              <Select
                allowClear
                showSearch
                optionFilterProp="label"
                placeholder="全部"
                loading={users.loading}
                style={{ width: 150 }}
                options={(users.data?.users.nodes ?? []).map((u) => ({ value: u.id, label: u.displayName ? `${u.displayName}（${u.username}）` : u.username }))}
              />
            </Form.Item>
          )}
          <Form.Item label="对象类型" name="targetType">
            <Select allowClear placeholder="全部" style={{ width: 120 }} options={Object.entries(TARGET_TYPE_LABELS).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Form.Item label="对象编号" name="targetId">
            <Input allowClear placeholder="如 12" style={{ width: 110 }} />
          </Form.Item>
          <Form.Item label="时间" name="range">
            <DatePicker.RangePicker allowEmpty={[true, true]} />
          </Form.Item>
          <Form.Item>
            <Space>
              <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
                查询
              </Button>
              <Button
                icon={<ReloadOutlined />}
                onClick={() => {
                  form.resetFields();
                  setFilter({});
                }}
              >
                重置
              </Button>
            </Space>
          </Form.Item>
        </Form>
        <ConnectionTable<AuditRow>
          source={q}
          emptyText="没有符合条件的审计记录"
          size="middle"
          columns={columns}
          expandable={{
            expandedRowRender: (r) => (
              <Descriptions size="small" column={1} bordered>
                <Descriptions.Item label="变更内容">
                  <Changes value={r.changes} />
                </Descriptions.Item>
                <Descriptions.Item label="对象">{targetLabel(r.targetType, r.targetId, targetName(r, names))}</Descriptions.Item>
                <Descriptions.Item label="操作代码">
                  <Typography.Text className="hj-mono-small">
                    {r.action}
                    {r.targetType ? ` · ${r.targetType}${r.targetId ? ` ${r.targetId}` : ''}` : ''}
                  </Typography.Text>
                </Descriptions.Item>
                <Descriptions.Item label="请求编号">
                  <Typography.Text copyable className="hj-mono-small">
                    {r.requestId || '—'}
                  </Typography.Text>
                </Descriptions.Item>
                <Descriptions.Item label="哈希">
                  <Typography.Text className="hj-mono-small hj-break">{r.hash}</Typography.Text>
                </Descriptions.Item>
              </Descriptions>
            ),
            expandRowByClick: false,
          }}
        />
      </Card>
    </PageContainer>
  );
}
