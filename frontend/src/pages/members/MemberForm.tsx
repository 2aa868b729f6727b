/**
 * 新增会员 (/members/new) and 编辑会员 (/members/:id/edit): one form for both. Editing sends the
 * version it loaded (expectedVersion), so a change made by someone else meanwhile is refused
 * (CONFLICT) instead of silently overwritten.
 */
import { useEffect } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Alert, App, Breadcrumb, Button, Card, Checkbox, DatePicker, Form, Input, Select, Space, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { gql } from '../../api/client';
import { type ErrorMessages, type UserError } from '../../api/errors';
import { useGql } from '../../api/useGql';
import {
  MemberCreateDocument,
  MemberEditDocument,
  MemberTagsDocument,
  MemberUpdateDocument,
  type MemberEditQuery,
  type MemberUpdateInput,
  type MemberWorkStatus,
} from '../../graphql/generated';
import { PageContainer } from '../../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { FormAlert } from '../../components/FormAlert';
import { useMutationForm } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { WORK_STATUS_LABELS } from '../../lib/labels';

export interface MemberFormValues {
  name: string;
  idNumber?: string;
  phone?: string;
  clearPhone?: boolean;
  orgUnitId?: string;
  employer?: string;
  workStatus?: MemberWorkStatus;
  tags?: string[];
  joinedOn?: Dayjs | null;
}

export const STALE_VERSION_TEXT = '该会员信息已被他人修改，请刷新后重试';

/** Per-form texts for the server's typed errors (the rest come from ERROR_MESSAGES). */
export const MEMBER_FORM_MESSAGES: ErrorMessages = {
  'idNumber.INVALID_INPUT': '身份证号码不正确（须为 18 位，校验位正确）',
  'idNumber.DUPLICATE': '本省已有使用该身份证号码的会员',
  'phone.INVALID_INPUT': '手机号码不正确（须为 11 位手机号）',
  'orgUnitId.INVALID_INPUT': '请选择您管辖范围内的基层工会',
  'orgUnitId.FORBIDDEN': '您无权在该工会登记会员',
  'orgUnitId.NOT_FOUND': '所选工会不存在或已停用',
  'orgUnitId.INACTIVE': '所选工会已停用',
  'joinedOn.INVALID_INPUT': '入会日期不正确（不能晚于今天）',
  'tags.INVALID_INPUT': '标签不正确，请从列表中选择',
  'expectedVersion.CONFLICT': STALE_VERSION_TEXT,
  CONFLICT: STALE_VERSION_TEXT,
  'id.INVALID_STATE': '已去世会员的档案已关闭，不能修改',
};

const WORK_STATUS_OPTIONS = Object.entries(WORK_STATUS_LABELS).map(([value, label]) => ({ value, label }));
const noFuture = (d: Dayjs) => d.isAfter(dayjs(), 'day');
const clean = (s: string | undefined) => (s ?? '').trim();

type EditMember = NonNullable<MemberEditQuery['member']>;

export default function MemberFormPage() {
  const { id } = useParams();
  return id ? <EditMemberPage id={id} /> : <CreateMemberPage />;
}

function CreateMemberPage() {
  return (
    <PageContainer title="新增会员" subTitle="性别和出生日期由身份证号码自动识别；身份证号、手机号加密保存">
      <Breadcrumb style={{ marginBottom: 12 }} items={[{ title: <Link to="/members">会员管理</Link> }, { title: '新增会员' }]} />
      <MemberForm />
    </PageContainer>
  );
}

function EditMemberPage({ id }: { id: string }) {
  const q = useGql(MemberEditDocument, { id });
  const m = q.data?.member;
  return (
    <PageContainer title={m ? `编辑会员：${m.name}` : '编辑会员'} subTitle="只填写需要修改的内容；身份证号、手机号留空表示不修改">
      <Breadcrumb
        style={{ marginBottom: 12 }}
        items={[{ title: <Link to="/members">会员管理</Link> }, { title: m ? <Link to={`/members/${encodeURIComponent(m.id)}`}>{m.name}</Link> : '会员详情' }, { title: '编辑' }]}
      />
      {q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <LoadingState />
      ) : !m ? (
        <EmptyState description="会员不存在，或不在您的管辖范围内" />
      ) : (
        <MemberForm member={m} onReload={() => void q.refetch()} />
      )}
    </PageContainer>
  );
}

function initialValues(m: EditMember | undefined): Partial<MemberFormValues> {
  if (!m) return { workStatus: 'ON_DUTY', tags: [], joinedOn: dayjs() };
  return {
    name: m.name,
    employer: m.employer,
    workStatus: m.workStatus,
    tags: m.tags.map((t) => t.code),
    joinedOn: m.joinedOn ? dayjs(m.joinedOn) : null,
  };
}

/** The form itself (exported for tests). `member` given = edit, else create. */
export function MemberForm({ member, onReload }: { member?: EditMember; onReload?: () => void }) {
  const [form] = Form.useForm<MemberFormValues>();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const tags = useGql(MemberTagsDocument);
  const clearPhone = Form.useWatch('clearPhone', form);
  const editing = !!member;
  const closed = member?.state === 'DECEASED';

  // A reload after a conflict brings a new version: show its values.
  useEffect(() => {
    if (member) form.setFieldsValue({ ...initialValues(member), idNumber: undefined, phone: undefined, clearPhone: false });
  }, [member, form]);

  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async (v: MemberFormValues): Promise<{ errors: readonly UserError[]; memberId?: string }> => {
      const joinedOn = v.joinedOn ? v.joinedOn.format('YYYY-MM-DD') : null;
      if (!member) {
        const { memberCreate: r } = await gql(MemberCreateDocument, {
          input: {
            name: clean(v.name),
            idNumber: clean(v.idNumber).toUpperCase(),
            orgUnitId: v.orgUnitId ?? '',
            phone: clean(v.phone) || null,
            employer: clean(v.employer) || null,
            workStatus: v.workStatus ?? null,
            tags: v.tags ?? [],
            joinedOn,
          },
        });
        return { errors: r.errors, memberId: r.member?.id };
      }
      const input: MemberUpdateInput = {
        name: clean(v.name),
        employer: clean(v.employer),
        workStatus: v.workStatus,
        tags: v.tags ?? [],
        expectedVersion: member.version,
      };
      if (joinedOn) input.joinedOn = joinedOn;
      if (clean(v.idNumber)) input.idNumber = clean(v.idNumber).toUpperCase();
      // `phone: null` removes the phone; omitting it keeps the current one.
      if (v.clearPhone) input.phone = null;
      else if (clean(v.phone)) input.phone = clean(v.phone);
      const { memberUpdate: r } = await gql(MemberUpdateDocument, { id: member.id, input });
      return { errors: r.errors, memberId: r.member?.id };
    },
    onDone: ({ memberId }) => {
      message.success(editing ? '会员信息已保存' : '会员已登记');
      if (memberId) navigate(`/members/${encodeURIComponent(memberId)}`);
    },
    errorOptions: { messages: MEMBER_FORM_MESSAGES },
  });

  const stale = formErrors.some((e) => e.code === 'CONFLICT');

  return (
    <Card size="small" className="hj-panel hj-member-form">
      {closed && <Alert type="info" showIcon style={{ marginBottom: 16 }} message="已去世会员的档案已关闭，不能修改" />}
      <FormAlert errors={formErrors} />
      {stale && onReload && (
        <Button style={{ marginBottom: 16 }} onClick={onReload}>
          刷新，载入最新信息
        </Button>
      )}
      <Form<MemberFormValues>
        form={form}
        layout="vertical"
        name={editing ? 'member-edit' : 'member-create'}
        initialValues={initialValues(member)}
        onFinish={(v) => void submit(v)}
        disabled={closed}
        style={{ maxWidth: 640 }}
      >
        <Form.Item label="姓名" name="name" rules={[{ required: true, whitespace: true, message: '请填写姓名' }, { max: 50, message: '姓名不能超过 50 个字' }]}>
          <Input autoComplete="off" maxLength={50} />
        </Form.Item>
        <Form.Item
          label="身份证号码"
          name="idNumber"
          rules={[
            { required: !editing, whitespace: true, message: '请填写身份证号码' },
            { pattern: /^\s*\d{17}[\dXx]\s*$/, message: '身份证号码须为 18 位（最后一位可以是 X）' },
          ]}
          extra={editing ? `当前：${member.idNumberMasked}。仅在更正登记错误时填写完整号码` : '性别和出生日期由身份证号码识别'}
        >
          <Input autoComplete="off" maxLength={18} className="hj-mono-small" inputMode="text" />
        </Form.Item>
        <Form.Item
          label="手机号码"
          name="phone"
          rules={[{ pattern: /^\s*1\d{10}\s*$/, message: '请填写 11 位手机号码' }]}
          extra={editing ? (member.phoneMasked ? `当前：${member.phoneMasked}。留空表示不修改` : '当前未登记') : undefined}
        >
          <Input autoComplete="off" maxLength={11} inputMode="tel" disabled={closed || !!clearPhone} />
        </Form.Item>
        {editing && member.phoneMasked && (
          <Form.Item name="clearPhone" valuePropName="checked" style={{ marginTop: -12 }}>
            <Checkbox>删除已登记的手机号码</Checkbox>
          </Form.Item>
        )}
        {editing ? (
          <Form.Item label="所属工会" extra="调整所属工会请办理会籍转移">
            <Typography.Text>{member.orgUnit?.name ?? '—'}</Typography.Text>
          </Form.Item>
        ) : (
          <Form.Item label="所属工会" name="orgUnitId" rules={[{ required: true, message: '请选择所属基层工会' }]}>
            <OrgUnitPicker placeholder="输入名称搜索基层工会" />
          </Form.Item>
        )}
        <Form.Item label="工作单位" name="employer" rules={[{ max: 200, message: '工作单位不能超过 200 个字' }]}>
          <Input maxLength={200} />
        </Form.Item>
        <Form.Item label="工作状态" name="workStatus">
          <Select options={WORK_STATUS_OPTIONS} showSearch optionFilterProp="label" />
        </Form.Item>
        <Form.Item label="会员标签" name="tags">
          <Select
            mode="multiple"
            allowClear
            placeholder="可多选"
            optionFilterProp="label"
            loading={tags.loading}
            options={(tags.data?.memberTags ?? []).map((t) => ({ value: t.code, label: t.label, title: t.description }))}
          />
        </Form.Item>
        <Form.Item label="入会日期" name="joinedOn" extra={editing ? undefined : '不填写则为今天'}>
          <DatePicker disabledDate={noFuture} style={{ width: '100%', maxWidth: 240 }} />
        </Form.Item>
        <Form.Item>
          <Space wrap>
            <Button type="primary" htmlType="submit" loading={busy}>
              {editing ? '保存' : '登记会员'}
            </Button>
            <Button htmlType="button" disabled={false} onClick={() => navigate(member ? `/members/${encodeURIComponent(member.id)}` : '/members')}>
              取消
            </Button>
          </Space>
        </Form.Item>
      </Form>
    </Card>
  );
}
