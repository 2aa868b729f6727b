/** 互助申请: the claim queue with filters, and entering a claim for a member found by ID number. */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Button, Card, Form, Input, Select, Space, Tag } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PlusOutlined, ReloadOutlined, SearchOutlined } from '@ant-design/icons';
import { gql } from '../../api/client';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable, useConnection } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { MutualAidClaimsDocument, MutualAidClaimSubmitDocument, MutualAidCoverDocument, type MutualAidClaimFilter, type MutualAidClaimsQuery, type MutualAidClaimState, type MutualAidClaimSubmitMutation } from '../../graphql/generated';
import { formatDate } from '../../lib/format';
import { formatYuan } from '../../lib/money';
import { CLAIM_FIELD_MAP, ClaimFields, claimInput, placeClaimErrors, type ClaimValues } from './ClaimForm';
import { MUTUAL_AID_ERRORS, SOURCE_LABELS, STATE_COLORS, STATE_LABELS, options } from './labels';
import { planOptions, usePlans, type Plan } from './shared';

type Row = MutualAidClaimsQuery['mutualAidClaims']['nodes'][number];

export function ClaimDialog({ plans, onClose, onDone }: { plans: readonly Plan[]; onClose: () => void; onDone: (id: string) => void }) {
  const [form] = Form.useForm<ClaimValues & { idNumber: string }>();
  return (
    <MutationDialog<ClaimValues & { idNumber: string }, MutualAidClaimSubmitMutation['mutualAidClaimSubmit']>
      title="录入互助申请"
      okText="提交"
      name="mutual-aid-claim"
      width={640}
      form={form}
      onClose={onClose}
      isDone={(p) => !!p.claim}
      errorOptions={{ messages: MUTUAL_AID_ERRORS, fieldMap: CLAIM_FIELD_MAP }}
      mutate={async (v) => {
        // the member is found by ID number (blind index) so the clerk never browses personal data
        const { mutualAidCover: who } = await gql(MutualAidCoverDocument, { idNumber: v.idNumber.trim().toUpperCase() });
        return placeClaimErrors((await gql(MutualAidClaimSubmitDocument, { input: await claimInput({ ...v, memberId: who.memberId }) })).mutualAidClaimSubmit);
      }}
      onDone={(p) => onDone(p.claim!.id)}
    >
      <ClaimFields
        form={form as never}
        plans={plans}
        withMember={
          <Form.Item label="会员身份证号码" name="idNumber" rules={[{ required: true, pattern: /^\d{17}[\dXx]$/, message: '请输入18位身份证号码' }]}>
            <Input autoComplete="off" />
          </Form.Item>
        }
      />
    </MutationDialog>
  );
}

interface FilterForm {
  plan?: string;
  state?: MutualAidClaimState;
  orgUnitId?: string;
  source?: string;
}

/**
 * The queue; `payouts` is 给付管理: the same list opened on the approved claims waiting for finance
 * (the filter can still be changed to see what was paid).
 */
export function ClaimsPage({ payouts = false }: { payouts?: boolean }) {
  const { can } = useAuth();
  const navigate = useNavigate();
  const { plans } = usePlans();
  const [form] = Form.useForm<FilterForm>();
  const initial: MutualAidClaimFilter = payouts ? { state: 'APPROVED' } : {};
  const [filter, setFilter] = useState<MutualAidClaimFilter>(initial);
  const [creating, setCreating] = useState(false);
  const q = useConnection(MutualAidClaimsDocument, { filter }, (d) => d.mutualAidClaims, { pageSize: 20 });
  const planName = (c: string) => plans.find((p) => p.code === c)?.nameZh ?? c;
  const kindName = (plan: string, k: string) => plans.find((p) => p.code === plan)?.claimKinds.find((x) => x.code === k)?.label ?? k;

  const columns: ColumnsType<Row> = [
    { title: '申请', key: 'id', render: (_, c) => <Link to={`/mutual-aid/claims/${encodeURIComponent(c.id)}`}>{kindName(c.planCode, c.kind)}</Link> },
    { title: '计划', dataIndex: 'planCode', render: planName, responsive: ['md'] },
    { title: '事故日期', dataIndex: 'eventDate', render: formatDate, width: 110 },
    { title: '来源', dataIndex: 'source', render: (s: string) => SOURCE_LABELS[s] ?? s, responsive: ['lg'] },
    { title: '给付金额', dataIndex: 'amountFen', align: 'right', render: (v: number) => formatYuan(v) },
    { title: '状态', dataIndex: 'state', width: 100, render: (s: string, c) => <Tag color={STATE_COLORS[s]}>{c.stateLabel || STATE_LABELS[s]}</Tag> },
    { title: '受理日期', dataIndex: 'createdAt', render: formatDate, width: 110, responsive: ['sm'] },
  ];

  return (
    <PageContainer
      title={payouts ? '给付管理' : '互助申请'}
      subTitle={payouts ? '已审批的申请由财务给付，从该计划互助金支出' : '受理 → 核查 → 审批 → 给付；录入人不能审批自己录入的申请'}
      extra={
        can('mutual_aid.claim') && !payouts ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            录入申请
          </Button>
        ) : undefined
      }
    >
      <Card size="small" className="hj-panel">
        <Form<FilterForm>
          form={form}
          layout="inline"
          name="mutual-aid-claim-filter"
          className="hj-filter-form"
          initialValues={payouts ? { state: 'APPROVED' } : undefined}
          onFinish={(v) => setFilter({ plan: v.plan ?? null, state: v.state ?? null, orgUnitId: v.orgUnitId ?? null, source: v.source ?? null })}
        >
          <Form.Item label="计划" name="plan">
            <Select allowClear placeholder="全部" style={{ minWidth: 180 }} options={planOptions(plans)} />
          </Form.Item>
          <Form.Item label="状态" name="state">
            <Select allowClear placeholder="全部" style={{ minWidth: 110 }} options={Object.entries(STATE_LABELS).map(([v, label]) => ({ value: v.toUpperCase(), label }))} />
          </Form.Item>
          <Form.Item label="来源" name="source">
            <Select allowClear placeholder="全部" style={{ minWidth: 110 }} options={options(SOURCE_LABELS)} />
          </Form.Item>
          <Form.Item label="工会（含下级）" name="orgUnitId">
            <OrgUnitPicker placeholder="全部" />
          </Form.Item>
          <Form.Item>
            <Space>
              <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
                查询
              </Button>
              <Button icon={<ReloadOutlined />} onClick={() => { form.resetFields(); setFilter(initial); }}>
                重置
              </Button>
            </Space>
          </Form.Item>
        </Form>
        <ConnectionTable<Row> source={q} columns={columns} rowKey="id" emptyText="暂无互助申请" />
      </Card>
      {creating && (
        <ClaimDialog
          plans={plans}
          onClose={() => setCreating(false)}
          onDone={(id) => {
            setCreating(false);
            navigate(`/mutual-aid/claims/${encodeURIComponent(id)}`);
          }}
        />
      )}
    </PageContainer>
  );
}

export default function MutualAidClaims() {
  return <ClaimsPage />;
}
