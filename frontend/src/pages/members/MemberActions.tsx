/**
 * Actions on one member, used by the detail page: 退会, 重新入会, 登记去世, 会籍转移 (request), and
 * the household editor. Which buttons show follows `member.write` and the member's state; the
 * server checks both again (INVALID_STATE, FORBIDDEN appear at the top of the dialog).
 */
import { useState } from 'react';
import { Link } from 'react-router';
import { Alert, App, Button, DatePicker, Form, Input, List, Popconfirm, Radio, Select, Space, Tag, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import { gql } from '../../api/client';
import { describeError, errorMessage, type ErrorMessages, type UserError } from '../../api/errors';
import { useGql } from '../../api/useGql';
import {
  HouseholdAddPersonDocument,
  HouseholdCreateDocument,
  HouseholdRemovePersonDocument,
  LoginTenantsDocument,
  MemberLeaveDocument,
  MemberMarkDeceasedDocument,
  MemberRejoinDocument,
  MemberTransferRequestDocument,
  MembersDocument,
  type HouseholdRelation,
  type MemberDetailQuery,
  type MembershipState,
} from '../../graphql/generated';
import { useAuth } from '../../auth/AuthProvider';
import { MutationDialog } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { EmptyState } from '../../components/states';
import { HOUSEHOLD_RELATION_LABELS } from '../../lib/labels';

export type DetailMember = NonNullable<MemberDetailQuery['member']>;
export type LifecycleAction = 'edit' | 'leave' | 'rejoin' | 'deceased' | 'transfer';

/**
 * The actions a user may start on a member in a given state (pure, so it is tested on its own).
 * 退会 and 会籍转移 need an active member; 重新入会 one who left; 去世 can be recorded for an
 * active member or one who left; a deceased member's record is closed.
 */
export function allowedActions(state: MembershipState, can: (p: string) => boolean): LifecycleAction[] {
  if (!can('member.write')) return [];
  switch (state) {
    case 'JOINED':
      return ['edit', 'transfer', 'leave', 'deceased'];
    case 'LEFT':
      return ['edit', 'rejoin', 'deceased'];
    case 'TRANSFERRING':
      return ['edit'];
    case 'DECEASED':
      return [];
  }
}

const noFuture = (d: Dayjs) => d.isAfter(dayjs(), 'day');
const day = (d: Dayjs | null | undefined) => (d ? d.format('YYYY-MM-DD') : null);

const LIFECYCLE_MESSAGES: ErrorMessages = {
  'id.INVALID_STATE': '会员当前状态不允许此操作，请刷新页面查看最新状态',
  'leftOn.INVALID_INPUT': '退会日期不能晚于今天，也不能早于入会日期',
  'diedOn.INVALID_INPUT': '去世日期不能晚于今天，也不能早于出生日期',
  'joinedOn.INVALID_INPUT': '入会日期不能晚于今天，也不能早于退会日期',
  'reason.INVALID_INPUT': '退会原因不能超过 200 个字',
  'orgUnitId.INVALID_INPUT': '请选择您管辖范围内的基层工会',
  'orgUnitId.FORBIDDEN': '您无权在该工会办理入会',
  'orgUnitId.NOT_FOUND': '所选工会不存在或已停用',
};

/** Shared shape of the member dialogs: a MutationDialog with a warning above the form and the lifecycle texts. */
function ActionDialog<V extends object, P extends { errors: readonly UserError[] } = { errors: readonly UserError[] }>({
  warning,
  fieldMap,
  messages = LIFECYCLE_MESSAGES,
  ...rest
}: {
  title: string;
  okText: string;
  danger?: boolean;
  warning: string;
  name: string;
  onClose: () => void;
  mutate: (v: V) => Promise<P>;
  onDone: () => void;
  children: React.ReactNode;
  initialValues?: Partial<V>;
  fieldMap?: Record<string, string>;
  messages?: ErrorMessages;
}) {
  return (
    <MutationDialog<V, P> {...rest} intro={<Alert type="warning" showIcon style={{ marginBottom: 16 }} message={warning} />} errorOptions={{ messages, fieldMap }} />
  );
}

export function LeaveDialog({ member, onClose, onDone }: { member: DetailMember; onClose: () => void; onDone: () => void }) {
  return (
    <ActionDialog<{ leftOn?: Dayjs; reason?: string }>
      title={`办理退会：${member.name}`}
      okText="确认退会"
      danger
      name="member-leave"
      warning="退会后该会员不再计入在会人数；如需恢复，可办理重新入会。"
      initialValues={{ leftOn: dayjs() }}
      onClose={onClose}
      onDone={onDone}
      mutate={async (v) => {
        const { memberLeave: r } = await gql(MemberLeaveDocument, { id: member.id, leftOn: day(v.leftOn), reason: (v.reason ?? '').trim() });
        return r;
      }}
    >
      <Form.Item label="退会日期" name="leftOn" rules={[{ required: true, message: '请选择退会日期' }]}>
        <DatePicker disabledDate={noFuture} style={{ width: '100%' }} />
      </Form.Item>
      <Form.Item label="退会原因" name="reason" rules={[{ max: 200, message: '退会原因不能超过 200 个字' }]} extra="例如：本人申请；调离本单位且未转移会籍">
        <Input.TextArea rows={2} maxLength={200} showCount />
      </Form.Item>
    </ActionDialog>
  );
}

export function DeceasedDialog({ member, onClose, onDone }: { member: DetailMember; onClose: () => void; onDone: () => void }) {
  return (
    <ActionDialog<{ diedOn?: Dayjs }>
      title={`登记去世：${member.name}`}
      okText="确认登记"
      danger
      name="member-deceased"
      warning="登记去世后该会员档案将关闭，不能再修改、退会或转移。请核实后再登记。"
      initialValues={{ diedOn: dayjs() }}
      onClose={onClose}
      onDone={onDone}
      mutate={async (v) => {
        const { memberMarkDeceased: r } = await gql(MemberMarkDeceasedDocument, { id: member.id, diedOn: day(v.diedOn) });
        return r;
      }}
    >
      <Form.Item label="去世日期" name="diedOn" rules={[{ required: true, message: '请选择去世日期' }]}>
        <DatePicker disabledDate={noFuture} style={{ width: '100%' }} />
      </Form.Item>
    </ActionDialog>
  );
}

export function RejoinDialog({ member, onClose, onDone }: { member: DetailMember; onClose: () => void; onDone: () => void }) {
  return (
    <ActionDialog<{ orgUnitId?: string; joinedOn?: Dayjs }>
      title={`重新入会：${member.name}`}
      okText="确认入会"
      name="member-rejoin"
      warning="重新入会后恢复为在会会员，入会日期更新为本次入会日期。"
      initialValues={{ orgUnitId: member.orgUnit?.id, joinedOn: dayjs() }}
      fieldMap={{ orgUnit: 'orgUnitId' }}
      onClose={onClose}
      onDone={onDone}
      mutate={async (v) => {
        const { memberRejoin: r } = await gql(MemberRejoinDocument, { id: member.id, orgUnitId: v.orgUnitId ?? null, joinedOn: day(v.joinedOn) });
        return r;
      }}
    >
      <Form.Item label="入会工会" name="orgUnitId" extra="默认为原所属工会，也可选择您管辖的其他基层工会">
        <OrgUnitPicker initialOption={member.orgUnit ? { id: member.orgUnit.id, name: member.orgUnit.name } : undefined} placeholder="原所属工会" />
      </Form.Item>
      <Form.Item label="入会日期" name="joinedOn" rules={[{ required: true, message: '请选择入会日期' }]}>
        <DatePicker disabledDate={noFuture} style={{ width: '100%' }} />
      </Form.Item>
    </ActionDialog>
  );
}

const TRANSFER_MESSAGES: ErrorMessages = {
  'memberId.INVALID_STATE': '会员当前状态不能办理会籍转移（须为在会会员，且没有进行中的转移）',
  'id.INVALID_STATE': '会员当前状态不能办理会籍转移（须为在会会员，且没有进行中的转移）',
  'toOrgUnitId.INVALID_INPUT': '请选择转入的基层工会（不能是原工会）',
  'toOrgUnitId.NOT_FOUND': '转入工会不存在或已停用',
  'toTenantCode.NOT_FOUND': '转入省份不存在',
  'toOrgUnitCode.INVALID_INPUT': '请填写对方基层工会的组织编码',
  'toOrgUnitCode.NOT_FOUND': '对方省份没有该编码的基层工会',
  CONFLICT: '该职工在转入省份已是在会会员，不能转入',
  'reason.INVALID_INPUT': '转移原因不能超过 200 个字',
};

interface TransferValues {
  scope: 'within' | 'other';
  toOrgUnitId?: string;
  toTenantCode?: string;
  toOrgUnitCode?: string;
  reason?: string;
}

export function TransferDialog({ member, onClose, onDone }: { member: DetailMember; onClose: () => void; onDone: () => void }) {
  const { me } = useAuth();
  const tenants = useGql(LoginTenantsDocument);
  const provinces = (tenants.data?.loginTenants ?? []).filter((t) => t.code !== 'platform' && t.code !== me.tenant.code);
  return (
    <ActionDialog<TransferValues>
      title={`申请会籍转移：${member.name}`}
      okText="提交申请"
      name="member-transfer"
      messages={TRANSFER_MESSAGES}
      warning="转移须经转出、转入双方工会审批（由两位不同的审核人）；审批完成前会员状态为「会籍转移中」。"
      initialValues={{ scope: 'within' }}
      onClose={onClose}
      onDone={onDone}
      mutate={async (v) => {
        const input =
          v.scope === 'within'
            ? { memberId: member.id, toOrgUnitId: v.toOrgUnitId ?? null, reason: (v.reason ?? '').trim() }
            : { memberId: member.id, toTenantCode: v.toTenantCode ?? null, toOrgUnitCode: (v.toOrgUnitCode ?? '').trim() || null, reason: (v.reason ?? '').trim() };
        const { memberTransferRequest: r } = await gql(MemberTransferRequestDocument, { input });
        return r;
      }}
    >
      <Form.Item label="转往" name="scope">
        <Radio.Group
          optionType="button"
          options={[
            { value: 'within', label: '本省工会' },
            { value: 'other', label: '外省工会' },
          ]}
        />
      </Form.Item>
      <Form.Item noStyle shouldUpdate={(a, b) => a.scope !== b.scope}>
        {({ getFieldValue }) =>
          getFieldValue('scope') === 'other' ? (
            <>
              <Form.Item label="转入省份" name="toTenantCode" rules={[{ required: true, message: '请选择转入省份' }]}>
                <Select
                  showSearch
                  optionFilterProp="label"
                  loading={tenants.loading}
                  placeholder="选择省总工会"
                  options={provinces.map((t) => ({ value: t.code, label: t.name }))}
                  notFoundContent={tenants.error ? '省份列表加载失败' : '没有可选的省份'}
                />
              </Form.Item>
              <Form.Item label="转入工会编码" name="toOrgUnitCode" rules={[{ required: true, whitespace: true, message: '请填写对方基层工会的组织编码' }]} extra="请向转入工会索取其组织编码">
                <Input autoComplete="off" maxLength={64} />
              </Form.Item>
            </>
          ) : (
            <Form.Item label="转入工会" name="toOrgUnitId" rules={[{ required: true, message: '请选择转入的基层工会' }]}>
              <OrgUnitPicker excludeIds={member.orgUnit ? [member.orgUnit.id] : []} placeholder="输入名称搜索基层工会" />
            </Form.Item>
          )
        }
      </Form.Item>
      <Form.Item label="转移原因" name="reason" rules={[{ max: 200, message: '转移原因不能超过 200 个字' }]} extra="例如：调动工作；新单位已建会">
        <Input.TextArea rows={2} maxLength={200} showCount />
      </Form.Item>
    </ActionDialog>
  );
}

// ---------------------------------------------------------------------------------------------
// Household (家庭成员)

const ADDABLE_RELATIONS = (Object.keys(HOUSEHOLD_RELATION_LABELS) as HouseholdRelation[]).filter((r) => r !== 'SELF');

const HOUSEHOLD_MESSAGES: ErrorMessages = {
  'idNumber.INVALID_INPUT': '身份证号码不正确（须为 18 位，校验位正确）',
  'idNumber.CONFLICT': '此人已登记在其他家庭中',
  'memberId.CONFLICT': '该会员已登记在其他家庭中',
  'memberId.INVALID_INPUT': '请选择会员，或填写非会员的姓名和身份证号码',
  'relation.INVALID_INPUT': '请选择与会员的关系',
};

/** The household card's body: people, and for clerks 登记家庭 / 添加 / 移除. */
export function HouseholdEditor({ member, onChanged }: { member: DetailMember; onChanged: () => void }) {
  const { can } = useAuth();
  const { message } = App.useApp();
  const [adding, setAdding] = useState(false);
  const [creating, setCreating] = useState(false);
  const editable = can('member.write') && member.state !== 'DECEASED';
  const hh = member.household;

  const create = async () => {
    setCreating(true);
    try {
      const { householdCreate: r } = await gql(HouseholdCreateDocument, { memberId: member.id, note: '' });
      if (r.errors.length) message.error(errorMessage(r.errors[0].code, r.errors[0].field, { 'memberId.CONFLICT': '该会员已登记在其他家庭中' }));
      else {
        message.success('已登记家庭');
        onChanged();
      }
    } catch (e) {
      message.error(describeError(e));
    } finally {
      setCreating(false);
    }
  };

  const remove = async (personId: string) => {
    try {
      const { householdRemovePerson: r } = await gql(HouseholdRemovePersonDocument, { personId });
      if (r.errors.length) message.error(errorMessage(r.errors[0].code, r.errors[0].field));
      else {
        message.success('已移除家庭成员');
        onChanged();
      }
    } catch (e) {
      message.error(describeError(e));
    }
  };

  if (!hh) {
    return (
      <EmptyState description="尚未登记家庭信息">
        {editable ? (
          <Button icon={<PlusOutlined />} loading={creating} onClick={() => void create()}>
            登记家庭
          </Button>
        ) : null}
      </EmptyState>
    );
  }
  return (
    <>
      <List
        size="small"
        dataSource={hh.people}
        renderItem={(p) => (
          <List.Item
            actions={
              editable && p.relation !== 'SELF'
                ? [
                    <Popconfirm key="rm" title={`将${p.name}移出家庭？`} okText="移出" cancelText="取消" onConfirm={() => remove(p.id)}>
                      <Button size="small" type="link" danger icon={<DeleteOutlined />} aria-label={`移出${p.name}`}>
                        移出
                      </Button>
                    </Popconfirm>,
                  ]
                : undefined
            }
          >
            <Space wrap>
              <Tag>{p.relationLabel}</Tag>
              {p.member && p.member.id !== member.id ? <Link to={`/members/${encodeURIComponent(p.member.id)}`}>{p.name}</Link> : <span>{p.name}</span>}
              <span className="hj-mono-small">{p.idNumberMasked ?? ''}</span>
              {!p.member && <Typography.Text type="secondary">非会员</Typography.Text>}
            </Space>
          </List.Item>
        )}
      />
      {editable && (
        <Button icon={<PlusOutlined />} style={{ marginTop: 8 }} onClick={() => setAdding(true)}>
          添加家庭成员
        </Button>
      )}
      {adding && (
        <AddPersonDialog
          householdId={hh.id}
          onClose={() => setAdding(false)}
          onDone={() => {
            setAdding(false);
            message.success('已添加家庭成员');
            onChanged();
          }}
        />
      )}
    </>
  );
}

interface PersonValues {
  relation?: HouseholdRelation;
  kind: 'member' | 'person';
  memberId?: string;
  name?: string;
  idNumber?: string;
}

function MemberSearch({ id, value, onChange }: { id?: string; value?: string; onChange?: (v: string | undefined) => void }) {
  const [text, setText] = useState('');
  const q = useGql(MembersDocument, { filter: { namePrefix: text.trim() }, first: 20 }, { skip: !text.trim() });
  return (
    <Select
      id={id}
      value={value}
      onChange={onChange}
      showSearch
      allowClear
      filterOption={false}
      onSearch={setText}
      loading={q.loading}
      placeholder="输入姓名搜索本省会员"
      notFoundContent={!text.trim() ? '请输入姓名' : q.loading ? '搜索中…' : '没有匹配的会员'}
      options={(q.data?.members.nodes ?? []).map((m) => ({ value: m.id, label: `${m.name}（${m.idNumberMasked}，${m.orgUnit?.name ?? ''}）` }))}
    />
  );
}

function AddPersonDialog({ householdId, onClose, onDone }: { householdId: string; onClose: () => void; onDone: () => void }) {
  return (
    <ActionDialog<PersonValues>
      title="添加家庭成员"
      okText="添加"
      name="household-person"
      messages={HOUSEHOLD_MESSAGES}
      warning="非会员家庭成员的身份证号码加密保存，列表中只显示脱敏号码。"
      initialValues={{ kind: 'person' }}
      onClose={onClose}
      onDone={onDone}
      mutate={async (v) => {
        const input =
          v.kind === 'member'
            ? { relation: v.relation as HouseholdRelation, memberId: v.memberId ?? null }
            : { relation: v.relation as HouseholdRelation, name: (v.name ?? '').trim(), idNumber: (v.idNumber ?? '').trim().toUpperCase() };
        const { householdAddPerson: r } = await gql(HouseholdAddPersonDocument, { householdId, input });
        return r;
      }}
    >
      <Form.Item label="与会员关系" name="relation" rules={[{ required: true, message: '请选择与会员的关系' }]}>
        <Select options={ADDABLE_RELATIONS.map((r) => ({ value: r, label: HOUSEHOLD_RELATION_LABELS[r] }))} />
      </Form.Item>
      <Form.Item label="成员类型" name="kind">
        <Radio.Group
          optionType="button"
          options={[
            { value: 'person', label: '非会员' },
            { value: 'member', label: '本省会员' },
          ]}
        />
      </Form.Item>
      <Form.Item noStyle shouldUpdate={(a, b) => a.kind !== b.kind}>
        {({ getFieldValue }) =>
          getFieldValue('kind') === 'member' ? (
            <Form.Item label="会员" name="memberId" rules={[{ required: true, message: '请选择会员' }]}>
              <MemberSearch />
            </Form.Item>
          ) : (
            <>
              <Form.Item label="姓名" name="name" rules={[{ required: true, whitespace: true, message: '请填写姓名' }]}>
                <Input maxLength={50} autoComplete="off" />
              </Form.Item>
              <Form.Item
                label="身份证号码"
                name="idNumber"
                rules={[
                  { required: true, whitespace: true, message: '请填写身份证号码' },
                  { pattern: /^\s*\d{17}[\dXx]\s*$/, message: '身份证号码须为 18 位（最后一位可以是 X）' },
                ]}
              >
                <Input maxLength={18} autoComplete="off" className="hj-mono-small" />
              </Form.Item>
            </>
          )
        }
      </Form.Item>
    </ActionDialog>
  );
}
