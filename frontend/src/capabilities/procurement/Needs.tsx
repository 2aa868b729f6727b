/** 服务需求清单: each union's projects by category, budget capped per project, checked against the negative list. */
import { useState } from 'react';
import { Button, Card, Form, Input, InputNumber, Select, Space, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { useAuth } from '../../auth/AuthProvider';
import { gql } from '../../api/client';
import { formatYuan, yuanToFen } from '../../lib/money';
import { useGql } from '../../api/useGql';
import {
  PcExcludedAddDocument,
  PcExcludedItemsDocument,
  PcNeedCreateDocument,
  PcNeedsDocument,
  type PcExcludedAddMutation,
  type PcNeedCreateMutation,
  type PcNeedsQuery,
} from '../../graphql/generated';
import { dateTime, useListSource, useUnitNames } from './common';

type Need = PcNeedsQuery['procurementNeeds'][number];
/** The negative list in force at a union: the province's items and those set at the union or above. */
function ExcludedItems({ canWrite }: { canWrite: boolean }) {
  const [unit, setUnit] = useState<string | undefined>();
  const [adding, setAdding] = useState(false);
  const items = useGql(PcExcludedItemsDocument, { orgUnitId: unit ?? '' }, { skip: !unit });
  return (
    <Card size="small" title="负面清单（不得购买的事项）" className="hj-panel-flow" style={{ marginBottom: 12 }}
      extra={canWrite && unit ? <Button size="small" onClick={() => setAdding(true)}>增加事项</Button> : null}>
      <Space wrap style={{ marginBottom: 8 }}>
        <span>工会</span>
        <OrgUnitPicker id="pc-excluded-unit" value={unit} onChange={setUnit} placeholder="选择工会查看其负面清单" />
      </Space>
      <div data-testid="excluded-items">
        {!unit ? <Typography.Text type="secondary">请选择工会</Typography.Text>
          : items.data?.procurementExcludedItems.length
            ? items.data.procurementExcludedItems.map((i) => <Tag key={i.term} title={i.reason || undefined}>{i.term}{i.reason ? `（${i.reason}）` : ''}</Tag>)
            : <Typography.Text type="secondary">{items.loading ? '加载中…' : '无'}</Typography.Text>}
      </div>
      {adding && unit && (
        <MutationDialog<{ term: string; reason?: string }, PcExcludedAddMutation['procurementExcludedAdd']>
          title="增加负面清单事项" okText="增加" name="pc-excluded" onClose={() => setAdding(false)}
          intro={<Typography.Paragraph type="secondary">对本级及所有下级工会生效：需求和采购项目的文字含该事项时不予登记。</Typography.Paragraph>}
          mutate={async (v) => (await gql(PcExcludedAddDocument, { orgUnitId: unit, term: v.term.trim(), reason: v.reason?.trim() || null })).procurementExcludedAdd}
          isDone={(r) => !!r.item}
          onDone={async () => { setAdding(false); await items.refetch(); }}
        >
          <Form.Item label="事项" name="term" rules={[{ required: true, whitespace: true, message: '请填写事项' }]}><Input maxLength={100} /></Form.Item>
          <Form.Item label="原因" name="reason"><Input maxLength={500} /></Form.Item>
        </MutationDialog>
      )}
    </Card>
  );
}

interface Values { orgUnitId: string; category: string; title: string; budgetYuan: number; description?: string }

export default function Needs() {
  const { can } = useAuth();
  const canWrite = can('procurement.need.write');
  const unitName = useUnitNames();
  const [category, setCategory] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const source = useListSource(PcNeedsDocument, { category: category ?? null }, (d) => d.procurementNeeds);
  const categories = source.query.data?.procurementCategories ?? [];

  const columns: ColumnsType<Need> = [
    { title: '项目', dataIndex: 'title' },
    { title: '类别', dataIndex: 'categoryLabel' },
    { title: '工会', dataIndex: 'orgUnitId', render: (id: string) => unitName(id), responsive: ['md'] },
    { title: '预算', dataIndex: 'budgetFen', render: (v: Need['budgetFen']) => formatYuan(v), align: 'right' },
    { title: '说明', dataIndex: 'description', responsive: ['lg'] },
    { title: '登记时间', dataIndex: 'createdAt', render: dateTime, responsive: ['lg'] },
  ];

  return (
    <PageContainer title="服务需求清单" subTitle="各级工会拟购买的服务项目；单个项目预算设有上限，负面清单事项不得购买"
      extra={canWrite ? <Button type="primary" onClick={() => setCreating(true)}>新增需求</Button> : null}>
      <ExcludedItems canWrite={canWrite} />
      <ConnectionTable<Need>
        source={source}
        columns={columns}
        filters={
          <Form layout="inline" style={{ marginBottom: 12 }}>
            <Form.Item label="类别" htmlFor="pc-need-category">
              <Select id="pc-need-category" allowClear placeholder="全部" style={{ width: 180 }} value={category} onChange={setCategory}
                options={categories.map((c) => ({ value: c.code, label: c.label }))} />
            </Form.Item>
          </Form>
        }
        emptyText={canWrite ? '暂无需求，可点击“新增需求”登记' : '暂无需求'}
      />
      {creating && (
        <MutationDialog<Values, PcNeedCreateMutation['procurementNeedCreate']>
          title="新增服务需求" okText="保存" name="pc-need" onClose={() => setCreating(false)}
          mutate={async (v) => (await gql(PcNeedCreateDocument, {
            orgUnitId: v.orgUnitId, category: v.category, title: v.title.trim(), budgetFen: Number(yuanToFen(v.budgetYuan)), description: v.description?.trim() || null,
          })).procurementNeedCreate}
          isDone={(r) => !!r.need}
          errorOptions={{ fieldMap: { budgetFen: 'budgetYuan' }, messages: { 'title.NOT_ELIGIBLE': '该事项在负面清单内，不得购买', 'budgetYuan.CAP_EXCEEDED': '超过单个项目预算上限' } }}
          onDone={async () => { setCreating(false); await source.refetch(); }}
        >
          <Form.Item label="工会" name="orgUnitId" rules={[{ required: true, message: '请选择工会' }]}><OrgUnitPicker /></Form.Item>
          <Form.Item label="类别" name="category" rules={[{ required: true, message: '请选择类别' }]}>
            <Select options={categories.map((c) => ({ value: c.code, label: c.label }))} />
          </Form.Item>
          <Form.Item label="项目名称" name="title" rules={[{ required: true, whitespace: true, message: '请填写项目名称' }]}><Input maxLength={200} /></Form.Item>
          <Form.Item label="预算（元）" name="budgetYuan" rules={[{ required: true, message: '请填写预算' }]}>
            <InputNumber min={0.01} precision={2} style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item label="说明" name="description"><Input.TextArea rows={3} maxLength={2000} /></Form.Item>
        </MutationDialog>
      )}
    </PageContainer>
  );
}
