/** Platform operators: the provinces on the platform, and onboarding a new one (tenantCreate). */
import { useMemo, useState } from 'react';
import { App, Alert, Button, Card, Form, Input, Select, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PlusOutlined } from '@ant-design/icons';
import { gql } from '../api/client';
import { useGql } from '../api/useGql';
import { TenantCreateDocument, TenantsDocument, type TenantCreateMutation, type TenantFieldsFragment } from '../graphql/generated';
import { useAuth } from '../auth/AuthProvider';
import { PageContainer } from '../components/PageContainer';
import { EmptyState, ErrorState } from '../components/states';
import { MutationDialog } from '../components/MutationDialog';
import { PROVINCES, provinceName } from '../lib/labels';

type TenantRow = TenantFieldsFragment & { adminUsername?: string };

export default function Tenants() {
  const { can } = useAuth();
  const { message } = App.useApp();
  const q = useGql(TenantsDocument);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<TenantRow | null>(null);
  const knownPlugins = useMemo(() => [...new Set((q.data?.tenants ?? []).flatMap((t) => t.plugins))].sort(), [q.data]);

  const columns: ColumnsType<TenantRow> = [
    {
      title: '省份',
      dataIndex: 'name',
      render: (name: string, t) => (
        <>
          <Typography.Text strong>{name}</Typography.Text>
          {t.isPlatform && (
            <Tag color="gold" className="hj-tag-inline">
              平台
            </Tag>
          )}
        </>
      ),
    },
    { title: '登录代码', dataIndex: 'code', render: (c: string) => <Typography.Text code>{c}</Typography.Text> },
    { title: '行政区划', dataIndex: 'provinceCode', responsive: ['sm'], render: (c: string) => `${c} ${provinceName(c) !== c ? provinceName(c) : ''}` },
    {
      title: '启用插件',
      dataIndex: 'plugins',
      responsive: ['md'],
      render: (ps: string[]) => (ps.length ? ps.map((p) => <Tag key={p}>{p}</Tag>) : <Typography.Text type="secondary">仅全国默认规则</Typography.Text>),
    },
  ];

  return (
    <PageContainer
      title="省份管理"
      subTitle="平台上已开通的省总工会；开通新省份会同时创建其省级总工会根组织"
      extra={
        can('tenant.create') ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            开通省份
          </Button>
        ) : null
      }
    >
      {created && (
        <Alert
          type="success"
          showIcon
          closable
          onClose={() => setCreated(null)}
          style={{ marginBottom: 16 }}
          message={`已开通“${created.name}”（登录代码 ${created.code}）`}
          description={
            created.adminUsername ? (
              <span>
                首位系统管理员 <Typography.Text code>{created.adminUsername}</Typography.Text> 已创建，请将登录代码、用户名和初始密码通过安全渠道交给该省。
              </span>
            ) : (
              <span>
                未创建管理员。可在服务器上运行{' '}
                <Typography.Text code copyable>{`huijia users create --tenant ${created.code} --username admin --role tenant_admin`}</Typography.Text>
              </span>
            )
          }
        />
      )}
      <Card size="small" className="hj-panel">
        {q.error ? (
          <ErrorState error={q.error} onRetry={() => void q.refetch()} />
        ) : (
          <Table<TenantRow>
            rowKey="id"
            columns={columns}
            dataSource={q.data?.tenants ?? []}
            loading={q.loading}
            pagination={false}
            scroll={{ x: 480 }}
            locale={{ emptyText: <EmptyState description="尚未开通任何省份" /> }}
          />
        )}
      </Card>
      {creating && (
        <CreateTenantDialog
          knownPlugins={knownPlugins}
          onClose={() => setCreating(false)}
          onDone={async (t) => {
            setCreating(false);
            setCreated(t);
            message.success(`已开通“${t.name}”`);
            await q.refetch();
          }}
        />
      )}
    </PageContainer>
  );
}

interface TenantForm {
  code: string;
  name: string;
  provinceCode: string;
  plugins: string[];
  rootAreaCode?: string;
  settings?: string;
  adminUsername?: string;
  adminPassword?: string;
}

function CreateTenantDialog({ knownPlugins, onClose, onDone }: { knownPlugins: string[]; onClose: () => void; onDone: (t: TenantRow) => Promise<void> }) {
  const [form] = Form.useForm<TenantForm>();
  return (
    <MutationDialog<TenantForm, TenantCreateMutation['tenantCreate']>
      title="开通省份"
      okText="开通"
      name="tenant-create"
      width={560}
      form={form}
      onClose={onClose}
      initialValues={{ plugins: [] }}
      onValuesChange={(changed) => {
        if (changed.provinceCode && !form.getFieldValue('name')) {
          const p = PROVINCES.find((x) => x.code === changed.provinceCode);
          if (p) form.setFieldValue('name', `${p.name}总工会`);
        }
      }}
      mutate={async (v) => {
        const settings = v.settings?.trim() ? (JSON.parse(v.settings) as unknown) : null;
        const { tenantCreate: r } = await gql(TenantCreateDocument, {
          input: {
            code: v.code.trim().toLowerCase(),
            name: v.name.trim(),
            provinceCode: v.provinceCode,
            plugins: v.plugins ?? [],
            settings,
            rootAreaCode: v.rootAreaCode?.trim() || null,
            adminUsername: v.adminUsername?.trim() || null,
            adminPassword: v.adminUsername?.trim() ? v.adminPassword ?? '' : null,
          },
        });
        return r;
      }}
      isDone={(r) => !!r.tenant}
      onDone={(r, v) => onDone({ ...r.tenant!, adminUsername: v.adminUsername?.trim() || undefined })}
      errorOptions={{
        messages: {
          'code.DUPLICATE': '该登录代码已被其他省份使用',
          'settings.PLUGIN_CONFIG': '插件或插件设置有误：请确认插件已安装、设置项符合插件要求',
          'provinceCode.INVALID_INPUT': '请选择两位数的省级行政区划代码',
          'adminPassword.INVALID_INPUT': '初始密码至少 8 个字符',
          'adminUsername.INVALID_INPUT': '用户名只能包含字母、数字和 . _ - @',
        },
      }}
    >
        <Form.Item label="省级行政区" name="provinceCode" rules={[{ required: true, message: '请选择省级行政区' }]}>
          <Select
            showSearch
            optionFilterProp="label"
            placeholder="选择省、自治区、直辖市"
            options={PROVINCES.map((p) => ({ value: p.code, label: `${p.code} ${p.name}` }))}
          />
        </Form.Item>
        <Form.Item label="名称" name="name" rules={[{ required: true, whitespace: true, message: '请输入省总工会名称' }, { max: 100, message: '名称不能超过 100 个字' }]}>
          <Input placeholder="例如：广东省总工会" />
        </Form.Item>
        <Form.Item
          label="登录代码"
          name="code"
          tooltip="职工和工作人员登录时选择省份所用的代码，开通后不可修改"
          rules={[
            { required: true, whitespace: true, message: '请输入登录代码' },
            { pattern: /^[a-z0-9][a-z0-9_.-]*$/, message: '小写字母或数字开头，只能包含小写字母、数字和 - _ .' },
            { max: 64, message: '不能超过 64 个字符' },
          ]}
        >
          <Input placeholder="例如：guangdong" autoComplete="off" />
        </Form.Item>
        <Form.Item label="根组织行政区划代码" name="rootAreaCode" rules={[{ pattern: /^(\d{6}|\d{9}|\d{12})$/, message: '行政区划代码为 6、9 或 12 位数字' }]} extra="可选，如 440000">
          <Input inputMode="numeric" maxLength={12} />
        </Form.Item>
        <Form.Item label="首位管理员用户名" name="adminUsername" extra="可选：开通时一并创建该省的系统管理员（省总工会根组织）" rules={[{ max: 64, message: '不能超过 64 个字符' }]}>
          <Input autoComplete="off" placeholder="例如：admin" />
        </Form.Item>
        <Form.Item noStyle shouldUpdate={(a, b) => a.adminUsername !== b.adminUsername}>
          {({ getFieldValue }) =>
            getFieldValue('adminUsername')?.trim() ? (
              <Form.Item label="初始密码" name="adminPassword" rules={[{ required: true, message: '请输入初始密码' }, { min: 8, message: '初始密码至少 8 个字符' }]}>
                <Input.Password autoComplete="new-password" />
              </Form.Item>
            ) : null
          }
        </Form.Item>
        <Form.Item label="启用插件" name="plugins" extra="省级插件包名；不选则只使用全国默认规则">
          <Select mode="tags" placeholder="输入插件名后回车" options={knownPlugins.map((p) => ({ value: p, label: p }))} tokenSeparators={[',', ' ']} />
        </Form.Item>
        <Form.Item
          label="插件设置（JSON）"
          name="settings"
          extra={'可选，格式：{"插件名": {"设置项": 值}}'}
          rules={[
            {
              validator: async (_, value?: string) => {
                if (!value?.trim()) return;
                let parsed: unknown;
                try {
                  parsed = JSON.parse(value);
                } catch {
                  throw new Error('不是有效的 JSON');
                }
                if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('设置必须是 JSON 对象');
              },
            },
          ]}
        >
          <Input.TextArea rows={3} className="hj-mono-small" />
        </Form.Item>
    </MutationDialog>
  );
}
