/** 采购项目: the calls of your subtree with their workflow state; draft a new one. */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Button, Form, Input, InputNumber, Select, Space } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { useAuth } from '../../auth/AuthProvider';
import { gql } from '../../api/client';
import { formatYuan, yuanToFen } from '../../lib/money';
import { useGql } from '../../api/useGql';
import { PcCallCreateDocument, PcCallsDocument, PcNeedChoicesDocument, type CallFieldsFragment, type PcCallCreateMutation } from '../../graphql/generated';
import { dateTime, useListSource, useUnitNames } from './common';
import { OcdsButton } from './OpenData';

type Call = CallFieldsFragment;
interface Values {
  needId?: string | null; orgUnitId: string; title: string; category: string; budgetYuan: number; description?: string; areaCode?: string;
  enquiryDays: number; tenderDays: number; standstillDays: number;
}

export default function Calls() {
  const { can } = useAuth();
  const canDraft = can('procurement.call.draft');
  const unitName = useUnitNames();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const source = useListSource(PcCallsDocument, { state: null }, (d) => d.procurementCalls);
  const categories = source.query.data?.procurementCategories ?? [];
  const categoryLabel = new Map(categories.map((c) => [c.code, c.label]));

  const columns: ColumnsType<Call> = [
    { title: '项目名称', dataIndex: 'title', render: (t: string, r) => <Link to={`/procurement/calls/${encodeURIComponent(r.id)}`}>{t}</Link> },
    { title: '类别', dataIndex: 'category', render: (c: string) => categoryLabel.get(c) ?? c, responsive: ['md'] },
    { title: '工会', dataIndex: 'orgUnitId', render: (id: string) => unitName(id), responsive: ['lg'] },
    { title: '预算', dataIndex: 'budgetFen', render: (v: Call['budgetFen']) => formatYuan(v), align: 'right' },
    { title: '状态', dataIndex: 'stateLabel' },
    { title: '投标截止', dataIndex: 'tenderEnd', render: dateTime, responsive: ['md'] },
    { title: '开放数据', key: 'ocds', render: (_: unknown, r) => (r.state === 'draft' ? '—' : <OcdsButton callId={r.id} />), responsive: ['lg'] },
  ];

  return (
    <PageContainer title="采购项目" subTitle="起草、发布、答疑、开标评审、定标、签约"
      extra={canDraft ? <Button type="primary" onClick={() => setCreating(true)}>起草采购项目</Button> : null}>
      <ConnectionTable<Call> source={source} columns={columns} emptyText={canDraft ? '暂无采购项目，可点击“起草采购项目”' : '暂无采购项目'} />
      {creating && (
        <MutationDialog<Values, PcCallCreateMutation['procurementCallCreate']>
          title="起草采购项目" okText="保存草稿" name="pc-call" onClose={() => setCreating(false)}
          initialValues={{ enquiryDays: 5, tenderDays: 10, standstillDays: 5 }}
          mutate={async (v) => (await gql(PcCallCreateDocument, {
            input: {
              needId: v.needId || null, orgUnitId: v.orgUnitId, title: v.title.trim(), category: v.category, budgetFen: Number(yuanToFen(v.budgetYuan)),
              description: v.description?.trim() || null, areaCode: v.areaCode?.trim() || null,
              enquiryDays: v.enquiryDays, tenderDays: v.tenderDays, standstillDays: v.standstillDays,
            },
          })).procurementCallCreate}
          isDone={(r) => !!r.call}
          errorOptions={{ fieldMap: { budgetFen: 'budgetYuan' }, messages: { 'title.NOT_ELIGIBLE': '该事项在负面清单内，不得购买', 'budgetYuan.CAP_EXCEEDED': '超过单个项目预算上限或所选服务需求的预算', 'needId.NOT_FOUND': '所选服务需求不存在，或不属于该工会' } }}
          onDone={async (r) => { setCreating(false); if (r.call) navigate(`/procurement/calls/${encodeURIComponent(r.call.id)}`); }}
        >
          <NeedField />
          <Form.Item label="采购单位（工会）" name="orgUnitId" rules={[{ required: true, message: '请选择工会' }]}><OrgUnitPicker /></Form.Item>
          <Form.Item label="项目名称" name="title" rules={[{ required: true, whitespace: true, message: '请填写项目名称' }]}><Input maxLength={200} /></Form.Item>
          <Form.Item label="类别" name="category" rules={[{ required: true, message: '请选择类别' }]}>
            <Select options={categories.map((c) => ({ value: c.code, label: c.label }))} />
          </Form.Item>
          <Form.Item label="预算（元）" name="budgetYuan" rules={[{ required: true, message: '请填写预算' }]}>
            <InputNumber min={0.01} precision={2} style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item label="服务地区代码" name="areaCode"><Input maxLength={12} placeholder="行政区划代码，默认为工会所在地" /></Form.Item>
          <Form.Item label="项目说明" name="description"><Input.TextArea rows={3} maxLength={4000} /></Form.Item>
          <Space wrap>
            <Form.Item label="答疑期（天）" name="enquiryDays" rules={[{ required: true }]}><InputNumber min={1} max={60} /></Form.Item>
            <Form.Item label="投标期（天）" name="tenderDays" rules={[{ required: true }]}><InputNumber min={1} max={90} /></Form.Item>
            <Form.Item label="公示期（天）" name="standstillDays" rules={[{ required: true }]}><InputNumber min={1} max={30} /></Form.Item>
          </Space>
        </MutationDialog>
      )}
    </PageContainer>
  );
}

/**
 * 对应服务需求: pick the need-list project the call buys; its union, category, title and budget fill
 * the form (still editable: the server checks the budget against the need's and the union's subtree).
 */
function NeedField() {
  const form = Form.useFormInstance<Values>();
  const needs = useGql(PcNeedChoicesDocument, {});
  const list = needs.data?.procurementNeeds ?? [];
  const pick = (id: string | undefined) => {
    const need = list.find((n) => n.id === id);
    if (!need) return;
    form.setFieldsValue({
      orgUnitId: need.orgUnitId, category: need.category, title: need.title,
      budgetYuan: Number(need.budgetFen) / 100, description: need.description || undefined,
    });
  };
  return (
    <Form.Item label="对应服务需求" name="needId" extra="从服务需求清单中选择，自动带出工会、类别、名称和预算">
      <Select allowClear showSearch optionFilterProp="label" loading={needs.loading} onChange={pick} placeholder="可选"
        options={list.map((n) => ({ value: n.id, label: `${n.title}（${n.categoryLabel}，${formatYuan(n.budgetFen)}）` }))} />
    </Form.Item>
  );
}
