/** 服务需求清单: each union's projects by category, budget capped per project, checked against the negative list. */
import { useState } from 'react';
import { Button, Form, Input, InputNumber, Select } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { useAuth } from '../../auth/AuthProvider';
import { gql } from '../../api/client';
import { formatYuan, yuanToFen } from '../../lib/money';
import { PcNeedCreateDocument, PcNeedsDocument, type PcNeedCreateMutation, type PcNeedsQuery } from '../../graphql/generated';
import { dateTime, useListSource, useUnitNames } from './common';

type Need = PcNeedsQuery['procurementNeeds'][number];
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
