/** 记账凭证: ledger entries with filters; finance staff post manual entries (maker-checker above a threshold). */
import { useState } from 'react';
import { App, Button, Card, DatePicker, Form, Select, Space, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { EditOutlined, ReloadOutlined, SearchOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import { useNavigate } from 'react-router';
import { LedgerEntriesDocument, type EntryKind, type LedgerEntryFieldsFragment, type LedgerEntryFilter } from '../../graphql/generated';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable, useConnection } from '../../components/ConnectionTable';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { ENTRY_KIND_LABELS, SOURCE_TYPE_LABELS, sourceTypeLabel } from '../../lib/labels';

// Sources whose ids are the ledger's own bookkeeping (unit id and date), meaningless to staff.
const INTERNAL_SOURCE_IDS = new Set(['levy', 'small_payer_refund', 'special_allocation']);
import { formatDate } from '../../lib/format';
import { Amount, FundSelect, ManualEntryDialog, PostingsTable } from './shared';

type Row = LedgerEntryFieldsFragment;
const PAGE_SIZE = 20;

interface FilterForm {
  subtreeOf?: string;
  fund?: string;
  kind?: EntryKind;
  sourceType?: string;
  range?: [Dayjs | null, Dayjs | null] | null;
}

export default function FundsEntries() {
  const { can } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<FilterForm>();
  const [filter, setFilter] = useState<LedgerEntryFilter>({});
  const q = useConnection(LedgerEntriesDocument, { filter }, (d) => d.ledgerEntries, { pageSize: PAGE_SIZE });
  const [creating, setCreating] = useState(false);

  const columns: ColumnsType<Row> = [
    { title: '日期', dataIndex: 'entryDate', width: 110, render: formatDate },
    {
      title: '摘要',
      dataIndex: 'memo',
      render: (memo: string, r) => (
        <Space direction="vertical" size={0}>
          <span>{memo || '—'}</span>
          <Space size={4} wrap>
            {r.reverses && <Tag color="orange">冲销凭证</Tag>}
            {r.reversedBy && <Tag>已被冲销</Tag>}
            {r.approvedById && <Tag color="green">已审批</Tag>}
          </Space>
        </Space>
      ),
    },
    { title: '类型', dataIndex: 'kind', width: 110, responsive: ['sm'], render: (k: EntryKind) => ENTRY_KIND_LABELS[k] ?? k },
    { title: '金额（元）', dataIndex: 'totalFen', align: 'right', width: 150, render: (v) => <Amount fen={v} strong /> },
    { title: '链序号', dataIndex: 'chainSeq', width: 90, responsive: ['lg'], render: (v) => v ?? '待链接' },
  ];

  return (
    <PageContainer
      title="记账凭证"
      subTitle="凭证一经入账不可修改，更正须做冲销凭证；所有凭证以哈希链相连"
      extra={
        can('ledger.post') ? (
          <Button type="primary" icon={<EditOutlined />} onClick={() => setCreating(true)}>
            手工记账
          </Button>
        ) : null
      }
    >
      <Card size="small" className="hj-panel">
        <Form<FilterForm>
          form={form}
          layout="inline"
          name="entries-filter"
          className="hj-filter-form"
          onFinish={(v) => {
            setFilter({
              subtreeOf: v.subtreeOf ?? null,
              fund: v.fund ?? null,
              kind: v.kind ?? null,
              sourceType: v.sourceType?.trim() || null,
              dateFrom: v.range?.[0]?.format('YYYY-MM-DD') ?? null,
              dateTo: v.range?.[1]?.format('YYYY-MM-DD') ?? null,
            });
          }}
        >
          <Form.Item label="组织（含下级）" name="subtreeOf">
            <OrgUnitPicker placeholder="全部组织" />
          </Form.Item>
          <Form.Item label="经费" name="fund">
            <FundSelect />
          </Form.Item>
          <Form.Item label="类型" name="kind">
            <Select allowClear placeholder="全部" style={{ width: 130 }} options={Object.entries(ENTRY_KIND_LABELS).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Form.Item label="来源" name="sourceType">
            <Select
              allowClear
              placeholder="全部"
              style={{ width: 150 }}
              options={Object.entries(SOURCE_TYPE_LABELS).map(([value, label]) => ({ value, label }))}
            />
          </Form.Item>
          <Form.Item label="日期" name="range">
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
        <ConnectionTable<Row>
          source={q}
          emptyText="没有符合条件的凭证"
          scrollX={520}
          size="middle"
          columns={columns}
          expandable={{
            expandedRowRender: (r) => (
              <>
                <PostingsTable
                  rows={r.postings.map((p) => ({ side: p.side, amountFen: p.amountFen, code: p.code, accountName: p.account?.name, orgUnitName: p.orgUnit?.name, fundName: p.fund?.name }))}
                />
                <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0' }}>
                  来源：{sourceTypeLabel(r.sourceType)}
                  {r.sourceId && !INTERNAL_SOURCE_IDS.has(r.sourceType ?? '') ? `（编号 ${r.sourceId}）` : ''} · 录入于 {r.createdAt.slice(0, 19).replace('T', ' ')}
                </Typography.Paragraph>
              </>
            ),
          }}
        />
      </Card>
      {creating && (
        <ManualEntryDialog
          onClose={() => setCreating(false)}
          onDone={async (r) => {
            setCreating(false);
            if (r.draft) {
              message.warning('金额超过审批阈值，已提交审批；审核人批准后入账');
              navigate('/funds/approvals');
            } else {
              message.success('已记账');
              await q.refetch();
            }
          }}
        />
      )}
    </PageContainer>
  );
}
