/** 送温暖活动: the campaigns in the caller's subtree, and 新建活动 (a three-step wizard). */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { App, Button, DatePicker, Form, Input, InputNumber, Modal, Select, Space, Steps, Table, Tag } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import type { Dayjs } from 'dayjs';
import { gql } from '../../api/client';
import { useGql } from '../../api/useGql';
import { useAuth } from '../../auth/AuthProvider';
import { FormAlert } from '../../components/FormAlert';
import { useMutationForm } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { PageContainer } from '../../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import {
  FundsDocument,
  WarmthCampaignCreateDocument,
  WarmthCampaignsDocument,
  WarmthTargetGroupsDocument,
  type WarmthCampaignFieldsFragment,
  type WarmthCampaignInput,
} from '../../graphql/generated';
import { formatDate } from '../../lib/format';
import { yuanToFen } from '../../lib/money';
import { unitName } from './UnitName';
import { KIND_OPTIONS, STATE_COLORS } from './labels';

type Campaign = WarmthCampaignFieldsFragment;

export interface WizardValues {
  name: string;
  kind: string;
  window: [Dayjs, Dayjs];
  orgUnitId: string;
  fund: string;
  benefits: { group: string; form: 'cash' | 'in_kind'; amountYuan?: string | number | null; item?: string }[];
  budgets?: { orgUnitId: string; budgetYuan: string | number }[];
}

/** The wizard's values as the API's input: money in fen, dates as ISO days. */
export function campaignInput(v: WizardValues): WarmthCampaignInput {
  return {
    name: v.name.trim(),
    kind: v.kind,
    startsOn: v.window[0].format('YYYY-MM-DD'),
    endsOn: v.window[1].format('YYYY-MM-DD'),
    orgUnitId: v.orgUnitId,
    fund: v.fund,
    benefits: v.benefits.map((b) => ({
      group: b.group,
      form: b.form,
      amountFen: Number(yuanToFen(b.amountYuan ?? 0) ?? 0),
      item: b.form === 'in_kind' ? b.item?.trim() || null : null,
    })),
    budgets: (v.budgets ?? []).map((b) => ({ orgUnitId: b.orgUnitId, budgetFen: Number(yuanToFen(b.budgetYuan) ?? 0) })),
  };
}

const STEP_FIELDS: string[][] = [['name', 'kind', 'window', 'orgUnitId', 'fund'], ['benefits'], ['budgets']];

export function CreateWizard({ onClose, onCreated }: { onClose: () => void; onCreated: (c: Campaign) => void }) {
  const [form] = Form.useForm<WizardValues>();
  const [step, setStep] = useState(0);
  const groups = useGql(WarmthTargetGroupsDocument);
  const funds = useGql(FundsDocument);
  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async () => (await gql(WarmthCampaignCreateDocument, { input: campaignInput(form.getFieldsValue(true) as WizardValues) })).warmthCampaignCreate,
    isDone: (p) => !!p.campaign,
    onDone: (p) => onCreated(p.campaign!),
    errorOptions: { messages: { 'fund.NOT_FOUND': '没有这项经费', 'fund.INVALID_INPUT': '请选择可用的经费' } },
  });
  const next = async () => {
    try {
      await form.validateFields(STEP_FIELDS[step].flatMap((f) => (f === 'benefits' || f === 'budgets' ? [] : [f])), { recursive: true });
      if (step === 1) await form.validateFields(undefined, { recursive: true });
    } catch {
      return;
    }
    if (step < 2) setStep(step + 1);
    else await submit(form.getFieldsValue(true) as WizardValues);
  };
  const benefitForm = Form.useWatch('benefits', form) ?? [];
  return (
    <Modal
      open
      width={760}
      title="新建送温暖活动"
      onCancel={onClose}
      destroyOnHidden
      footer={
        <Space>
          <Button onClick={onClose}>取消</Button>
          {step > 0 && <Button onClick={() => setStep(step - 1)}>上一步</Button>}
          <Button type="primary" loading={busy} onClick={() => void next()}>
            {step < 2 ? '下一步' : '创建草稿'}
          </Button>
        </Space>
      }
    >
      <Steps size="small" current={step} style={{ marginBottom: 16 }} items={[{ title: '基本信息' }, { title: '慰问对象与标准' }, { title: '预算' }]} />
      <FormAlert errors={formErrors} />
      <Form<WizardValues>
        form={form}
        layout="vertical"
        name="warmth-create"
        preserve
        initialValues={{ kind: 'spring_festival', benefits: [{ form: 'cash' }], budgets: [] }}
      >
        <div hidden={step !== 0}>
          <Form.Item label="活动名称" name="name" rules={[{ required: true, whitespace: true, message: '请输入活动名称' }]}>
            <Input maxLength={100} />
          </Form.Item>
          <Form.Item label="活动类型" name="kind" rules={[{ required: true, message: '请选择活动类型' }]}>
            <Select options={KIND_OPTIONS} />
          </Form.Item>
          <Form.Item label="活动时间" name="window" rules={[{ required: true, message: '请选择开始和结束日期' }]}>
            <DatePicker.RangePicker style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item label="主办工会" name="orgUnitId" rules={[{ required: true, message: '请选择主办工会' }]}>
            <OrgUnitPicker />
          </Form.Item>
          <Form.Item label="支付经费" name="fund" rules={[{ required: true, message: '请选择支付经费' }]}>
            <Select
              loading={!funds.data}
              options={(funds.data?.funds ?? []).filter((f) => f.active).map((f) => ({ value: f.code, label: f.name }))}
            />
          </Form.Item>
        </div>
        <div hidden={step !== 1}>
          <Form.List name="benefits" rules={[{ validator: async (_, v) => { if (!v?.length) throw new Error('至少选择一个慰问对象'); } }]}>
            {(fields, { add, remove }, { errors }) => (
              <>
                {fields.map((f) => (
                  <Space key={f.key} align="start" wrap style={{ display: 'flex' }}>
                    <Form.Item label="慰问对象" name={[f.name, 'group']} rules={[{ required: true, message: '请选择慰问对象' }]}>
                      <Select style={{ width: 180 }} loading={!groups.data} options={(groups.data?.warmthTargetGroups ?? []).map((g) => ({ value: g.code, label: g.labelZh }))} />
                    </Form.Item>
                    <Form.Item label="慰问形式" name={[f.name, 'form']} rules={[{ required: true }]}>
                      <Select style={{ width: 100 }} options={[{ value: 'cash', label: '现金' }, { value: 'in_kind', label: '实物' }]} />
                    </Form.Item>
                    <Form.Item label={benefitForm[f.name]?.form === 'in_kind' ? '单价（元）' : '标准（元/人）'} name={[f.name, 'amountYuan']} tooltip="不填按本省标准">
                      <InputNumber min={0} precision={2} style={{ width: 130 }} />
                    </Form.Item>
                    {benefitForm[f.name]?.form === 'in_kind' && (
                      <Form.Item label="物品" name={[f.name, 'item']} rules={[{ required: true, whitespace: true, message: '请填写物品' }]}>
                        <Input style={{ width: 140 }} />
                      </Form.Item>
                    )}
                    <Button aria-label="删除该对象" type="text" icon={<MinusCircleOutlined />} style={{ marginTop: 30 }} onClick={() => remove(f.name)} />
                  </Space>
                ))}
                <Button icon={<PlusOutlined />} onClick={() => add({ form: 'cash' })}>添加慰问对象</Button>
                <Form.ErrorList errors={errors} />
              </>
            )}
          </Form.List>
        </div>
        <div hidden={step !== 2}>
          <p style={{ color: '#666' }}>按工会分配预算；审批时从各工会的支付经费中预留。</p>
          <Form.List name="budgets">
            {(fields, { add, remove }) => (
              <>
                {fields.map((f) => (
                  <Space key={f.key} align="start" wrap style={{ display: 'flex' }}>
                    <Form.Item label="工会" name={[f.name, 'orgUnitId']} rules={[{ required: true, message: '请选择工会' }]}>
                      <OrgUnitPicker />
                    </Form.Item>
                    <Form.Item label="预算（元）" name={[f.name, 'budgetYuan']} rules={[{ required: true, message: '请输入预算' }]}>
                      <InputNumber min={0} precision={2} style={{ width: 160 }} />
                    </Form.Item>
                    <Button aria-label="删除该预算" type="text" icon={<MinusCircleOutlined />} style={{ marginTop: 30 }} onClick={() => remove(f.name)} />
                  </Space>
                ))}
                <Button icon={<PlusOutlined />} onClick={() => add()}>添加预算</Button>
              </>
            )}
          </Form.List>
        </div>
      </Form>
    </Modal>
  );
}

export default function Campaigns() {
  const q = useGql(WarmthCampaignsDocument);
  const { can } = useAuth();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [creating, setCreating] = useState(false);
  const create = can('warmth.write') ? (
    <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
      新建活动
    </Button>
  ) : null;
  return (
    <PageContainer title="送温暖活动" subTitle="元旦春节、夏送清凉、金秋助学等慰问活动" extra={create}>
      {q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <LoadingState />
      ) : q.data.warmthCampaigns.length === 0 ? (
        <EmptyState description="暂无活动；点击“新建活动”开始">{create}</EmptyState>
      ) : (
        <Table<Campaign>
          rowKey="id"
          size="small"
          scroll={{ x: 640 }}
          dataSource={[...q.data.warmthCampaigns]}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          columns={[
            { title: '活动名称', dataIndex: 'name', render: (n, c) => <Link to={`/warmth/campaigns/${c.id}`}>{n}</Link> },
            { title: '类型', dataIndex: 'kindZh' },
            { title: '时间', key: 'window', render: (_, c) => `${formatDate(c.startsOn)} 至 ${formatDate(c.endsOn)}` },
            { title: '主办工会', dataIndex: 'orgUnitId', responsive: ['md'], render: unitName },
            { title: '状态', dataIndex: 'state', render: (s, c) => <Tag color={STATE_COLORS[s]}>{c.stateZh}</Tag> },
          ]}
        />
      )}
      {creating && (
        <CreateWizard
          onClose={() => setCreating(false)}
          onCreated={(c) => {
            setCreating(false);
            message.success('活动草稿已创建');
            navigate(`/warmth/campaigns/${c.id}`);
          }}
        />
      )}
    </PageContainer>
  );
}
