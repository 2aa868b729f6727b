/** Users of the province and their role grants (tenant admins edit; auditors read). */
import { useState } from 'react';
import { App, Badge, Button, Card, Form, Input, List, Modal, Select, Space, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { MinusCircleOutlined, PlusOutlined, SafetyCertificateOutlined, UserAddOutlined } from '@ant-design/icons';
import { gql } from '../api/client';
import { describeError, errorMessage } from '../api/errors';
import {
  RoleGrantDocument,
  RoleRevokeDocument,
  UserCreateDocument,
  type UserCreateMutation,
  UserSetActiveDocument,
  UserUnlockDocument,
  UsersDocument,
  type Role,
  type UserFieldsFragment,
} from '../graphql/generated';
import { useAuth } from '../auth/AuthProvider';
import { PageContainer } from '../components/PageContainer';
import { ConnectionTable, useConnection } from '../components/ConnectionTable';
import { EmptyState } from '../components/states';
import { FormAlert } from '../components/FormAlert';
import { MutationDialog, useMutationForm } from '../components/MutationDialog';
import { OrgUnitPicker } from '../components/OrgUnitPicker';
import { GRANTABLE_ROLES, ROLE_LABELS } from '../lib/labels';
import { formatDateTime } from '../lib/format';

type UserRow = UserFieldsFragment;
const PAGE_SIZE = 20;

const ROLE_OPTIONS = GRANTABLE_ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r] }));

const GRANT_MESSAGES = {
  'orgUnitId.FORBIDDEN': '只能在您管理的组织范围内授权',
  'orgUnitId.NOT_FOUND': '所选组织不存在',
  'role.FORBIDDEN': '平台管理员角色只能在平台运营中授予',
  'username.DUPLICATE': '该用户名已被使用',
  'password.INVALID_INPUT': '密码至少 8 位',
  'username.INVALID_INPUT': '用户名只能包含字母、数字和 . _ - @，最长 64 位',
  'userId.INVALID_INPUT': '不能停用自己的账号',
};

export default function Users() {
  const { can, me } = useAuth();
  const { message, modal } = App.useApp();
  const mayWrite = can('user.write');
  const [prefix, setPrefix] = useState('');
  const q = useConnection(UsersDocument, { usernamePrefix: prefix || null }, (d) => d.users, { pageSize: PAGE_SIZE });
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<UserRow | null>(null);

  const setActive = (u: UserRow, active: boolean) => {
    modal.confirm({
      title: active ? `启用用户“${u.displayName || u.username}”？` : `停用用户“${u.displayName || u.username}”？`,
      content: active ? '启用后该用户可以重新登录。' : '停用后该用户立即退出登录，且不能再登录；角色授权保留。',
      okText: active ? '启用' : '停用',
      okButtonProps: { danger: !active },
      cancelText: '取消',
      onOk: async () => {
        try {
          const { userSetActive: r } = await gql(UserSetActiveDocument, { userId: u.id, active });
          if (r.errors.length) {
            message.error(errorMessage(r.errors[0].code, r.errors[0].field, GRANT_MESSAGES));
            return;
          }
          message.success(active ? '已启用' : '已停用');
          await q.refetch();
        } catch (e) {
          message.error(describeError(e));
        }
      },
    });
  };

  const unlock = async (u: UserRow) => {
    try {
      const { userUnlock: r } = await gql(UserUnlockDocument, { userId: u.id });
      if (r.errors.length) {
        message.error(errorMessage(r.errors[0].code, r.errors[0].field, GRANT_MESSAGES));
        return;
      }
      message.success(`已解除“${u.displayName || u.username}”的登录锁定`);
    } catch (e) {
      message.error(describeError(e));
    }
  };

  const columns: ColumnsType<UserRow> = [
    {
      title: '用户名',
      dataIndex: 'username',
      render: (v: string, u) => (
        <Space direction="vertical" size={0}>
          <Typography.Text strong>{v}</Typography.Text>
          {u.displayName ? <Typography.Text type="secondary">{u.displayName}</Typography.Text> : null}
        </Space>
      ),
    },
    {
      title: '角色授权',
      dataIndex: 'grants',
      render: (grants: UserRow['grants']) =>
        grants.length === 0 ? (
          <Typography.Text type="secondary">无</Typography.Text>
        ) : (
          <Space size={[4, 4]} wrap>
            {grants.map((g) => (
              <Tag key={`${g.role}:${g.orgUnit?.id}`} color="red">
                {ROLE_LABELS[g.role]} · {g.orgUnit?.name ?? '—'}
              </Tag>
            ))}
          </Space>
        ),
    },
    {
      title: '状态',
      dataIndex: 'active',
      width: 90,
      render: (active: boolean) => (active ? <Badge status="success" text="正常" /> : <Badge status="default" text="已停用" />),
    },
    { title: '创建时间', dataIndex: 'createdAt', width: 170, responsive: ['md'], render: formatDateTime },
  ];
  if (mayWrite) {
    columns.push({
      title: '操作',
      key: 'actions',
      width: 170,
      render: (_, u) => (
        <Space size={0} wrap>
          <Button type="link" size="small" onClick={() => setEditing(u)} aria-label={`管理 ${u.username} 的角色`}>
            管理角色
          </Button>
          {u.id !== me.user.id && (
            <Button type="link" size="small" onClick={() => void unlock(u)} aria-label={`解除 ${u.username} 的登录锁定`}>
              解除锁定
            </Button>
          )}
          {u.id !== me.user.id &&
            (u.active ? (
              <Button type="link" size="small" danger onClick={() => setActive(u, false)} aria-label={`停用 ${u.username}`}>
                停用
              </Button>
            ) : (
              <Button type="link" size="small" onClick={() => setActive(u, true)} aria-label={`启用 ${u.username}`}>
                启用
              </Button>
            ))}
        </Space>
      ),
    });
  }


  return (
    <PageContainer
      title="用户与授权"
      subTitle="本省的系统用户；角色授予在某个组织，覆盖其全部下级组织"
      extra={
        mayWrite ? (
          <Button type="primary" icon={<UserAddOutlined />} onClick={() => setCreating(true)}>
            新建用户
          </Button>
        ) : null
      }
    >
      <Card size="small" className="hj-panel">
        <Input.Search
          allowClear
          placeholder="按用户名开头搜索"
          aria-label="按用户名开头搜索"
          style={{ maxWidth: 320, marginBottom: 12 }}
          onSearch={(v) => {
            setPrefix(v.trim());
          }}
        />
        <ConnectionTable<UserRow>
          source={q}
          emptyText={prefix ? `没有以“${prefix}”开头的用户` : '暂无用户'}
          scrollX={640}
          size="middle"
          columns={columns}
        />
      </Card>
      {creating && (
        <CreateUserDialog
          onClose={() => setCreating(false)}
          onDone={async (u) => {
            setCreating(false);
            message.success(`已创建用户 ${u.username}`);
            await q.refetch();
          }}
        />
      )}
      {editing && (
        <GrantsDialog
          user={editing}
          onClose={() => setEditing(null)}
          onChanged={async (u) => {
            setEditing(u);
            await q.refetch();
          }}
        />
      )}
    </PageContainer>
  );
}

interface CreateUserForm {
  username: string;
  displayName?: string;
  password: string;
  grants: { role?: Role; orgUnitId?: string }[];
}

function CreateUserDialog({ onClose, onDone }: { onClose: () => void; onDone: (u: UserRow) => Promise<void> }) {
  return (
    <MutationDialog<CreateUserForm, UserCreateMutation['userCreate']>
      title="新建用户"
      okText="创建"
      name="user-create"
      width={600}
      onClose={onClose}
      initialValues={{ grants: [{}] }}
      mutate={async (v) =>
        (
          await gql(UserCreateDocument, {
            input: {
              username: v.username.trim(),
              displayName: v.displayName?.trim() ?? '',
              password: v.password,
              grants: (v.grants ?? []).filter((g) => g.role && g.orgUnitId).map((g) => ({ role: g.role!, orgUnitId: g.orgUnitId! })),
            },
          })
        ).userCreate
      }
      isDone={(r) => !!r.user}
      onDone={(r) => onDone(r.user!)}
      errorOptions={{ messages: GRANT_MESSAGES }}
    >
        <Form.Item
          label="用户名"
          name="username"
          rules={[
            { required: true, whitespace: true, message: '请输入用户名' },
            { pattern: /^[\p{L}\p{N}._@-]+$/u, message: '用户名只能包含字母、数字和 . _ - @' },
            { max: 64, message: '用户名不能超过 64 位' },
          ]}
        >
          <Input autoComplete="off" autoFocus />
        </Form.Item>
        <Form.Item label="姓名" name="displayName" rules={[{ max: 100, message: '姓名不能超过 100 个字' }]}>
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item label="初始密码" name="password" rules={[{ required: true, message: '请输入初始密码' }, { min: 8, message: '密码至少 8 位' }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Typography.Text strong>角色授权</Typography.Text>
        <Form.List name="grants">
          {(fields, { add, remove }) => (
            <div className="hj-grant-list">
              {fields.map((field, i) => (
                <Space key={field.key} align="start" wrap className="hj-grant-row">
                  <Form.Item name={[field.name, 'role']} label={`角色 ${i + 1}`} rules={[{ required: true, message: '请选择角色' }]}>
                    <Select options={ROLE_OPTIONS} placeholder="选择角色" style={{ width: 150 }} />
                  </Form.Item>
                  <Form.Item name={[field.name, 'orgUnitId']} label={`授权组织 ${i + 1}`} rules={[{ required: true, message: '请选择组织' }]}>
                    <OrgUnitPicker />
                  </Form.Item>
                  <Button type="text" icon={<MinusCircleOutlined />} aria-label={`删除第 ${i + 1} 项授权`} onClick={() => remove(field.name)} className="hj-grant-remove" />
                </Space>
              ))}
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({})} block>
                添加角色授权
              </Button>
            </div>
          )}
        </Form.List>
    </MutationDialog>
  );
}

function GrantsDialog({ user, onClose, onChanged }: { user: UserRow; onClose: () => void; onChanged: (u: UserRow) => Promise<void> }) {
  const { message, modal } = App.useApp();
  const [form] = Form.useForm<{ role: Role; orgUnitId: string }>();
  // the form sits below the current grants with its own 授予 button, so the modal is not a MutationDialog
  const { busy, formErrors, submit: grant } = useMutationForm(form, {
    mutate: async (v: { role: Role; orgUnitId: string }) => (await gql(RoleGrantDocument, { userId: user.id, grant: v })).roleGrant,
    isDone: (r) => !!r.user,
    onDone: async (r) => {
      message.success('已授予角色');
      form.resetFields();
      await onChanged(r.user!);
    },
    errorOptions: { messages: GRANT_MESSAGES },
  });

  const revoke = (g: UserRow['grants'][number]) => {
    if (!g.orgUnit) return;
    const orgUnitId = g.orgUnit.id;
    modal.confirm({
      title: `撤销“${ROLE_LABELS[g.role]} · ${g.orgUnit.name}”？`,
      okText: '撤销',
      okButtonProps: { danger: true },
      cancelText: '取消',
      onOk: async () => {
        try {
          const { roleRevoke: r } = await gql(RoleRevokeDocument, { userId: user.id, grant: { role: g.role, orgUnitId } });
          if (r.errors.length || !r.user) {
            message.error(errorMessage(r.errors[0]?.code, r.errors[0]?.field, GRANT_MESSAGES));
            return;
          }
          message.success('已撤销');
          await onChanged(r.user);
        } catch (e) {
          message.error(describeError(e));
        }
      },
    });
  };

  return (
    <Modal open title={`管理角色：${user.displayName || user.username}`} footer={null} onCancel={onClose} destroyOnHidden width={600}>
      <Typography.Title level={3} className="hj-section-title">
        现有授权
      </Typography.Title>
      {user.grants.length === 0 ? (
        <EmptyState description="尚未授予任何角色" />
      ) : (
        <List
          size="small"
          bordered
          dataSource={user.grants}
          renderItem={(g) => (
            <List.Item
              actions={[
                <Button key="revoke" type="link" danger size="small" onClick={() => revoke(g)} disabled={!g.orgUnit}>
                  撤销
                </Button>,
              ]}
            >
              <Space>
                <SafetyCertificateOutlined aria-hidden="true" />
                <span>{ROLE_LABELS[g.role]}</span>
                <Typography.Text type="secondary">{g.orgUnit?.name ?? '—'}</Typography.Text>
              </Space>
            </List.Item>
          )}
        />
      )}
      <Typography.Title level={3} className="hj-section-title">
        授予新角色
      </Typography.Title>
      <FormAlert errors={formErrors} />
      <Form form={form} layout="vertical" name="role-grant" onFinish={(v) => void grant(v)}>
        <Form.Item label="角色" name="role" rules={[{ required: true, message: '请选择角色' }]}>
          <Select options={ROLE_OPTIONS} placeholder="选择角色" />
        </Form.Item>
        <Form.Item label="授权组织" name="orgUnitId" rules={[{ required: true, message: '请选择组织' }]} extra="角色覆盖该组织及其全部下级组织">
          <OrgUnitPicker />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} icon={<PlusOutlined />}>
          授予
        </Button>
      </Form>
    </Modal>
  );
}
