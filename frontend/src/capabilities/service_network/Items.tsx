/** 服务项目清单: each unit's list of services (provider, how to get it, hours, contact); publish to the public. */
import { useState } from 'react';
import { Button, Form, Input, Select, Space, Switch, Tag, message } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { useAuth } from '../../auth/AuthProvider';
import { gql } from '../../api/client';
import { describeError } from '../../api/errors';
import {
  SnServiceItemCreateDocument,
  SnServiceItemUpdateDocument,
  SnServiceItemsDocument,
  type ServiceItemFieldsFragment,
  type ServiceItemInput,
  type SnServiceItemCreateMutation,
} from '../../graphql/generated';
import { PROVIDER_KINDS, useListSource, useUnitNames } from './common';

type Item = ServiceItemFieldsFragment;
type Values = ServiceItemInput & { orgUnitId?: string };

function inputOf(v: Values | Item, published?: boolean): ServiceItemInput {
  return {
    name: v.name.trim(), providerKind: v.providerKind, providerName: (v.providerName ?? '').trim(), howTo: (v.howTo ?? '').trim(),
    hours: (v.hours ?? '').trim(), contact: (v.contact ?? '').trim(), published: published ?? !!v.published,
  };
}

export default function ServiceItems() {
  const { can } = useAuth();
  const canWrite = can('service_network.write');
  const unitName = useUnitNames();
  const [unitFilter, setUnitFilter] = useState<string | undefined>();
  const [editing, setEditing] = useState<Item | 'new' | null>(null);
  const source = useListSource(SnServiceItemsDocument, {}, (d) => d.serviceItems.filter((i) => !unitFilter || i.orgUnitId === unitFilter));

  const togglePublish = async (item: Item) => {
    try {
      const r = (await gql(SnServiceItemUpdateDocument, { id: item.id, input: inputOf(item, !item.published) })).serviceItemUpdate;
      if (r.errors.length) message.error(r.errors[0].messageZh ?? '操作失败');
      else message.success(item.published ? '已撤回公开' : '已公开发布');
      await source.refetch();
    } catch (e) {
      message.error(describeError(e));
    }
  };

  const columns: ColumnsType<Item> = [
    { title: '服务项目', dataIndex: 'name' },
    { title: '所属组织', dataIndex: 'orgUnitId', render: (id: string) => unitName(id) },
    { title: '提供方', dataIndex: 'providerKind', render: (k: string, r) => `${PROVIDER_KINDS[k] ?? k}${r.providerName ? `：${r.providerName}` : ''}` },
    { title: '办理方式', dataIndex: 'howTo', responsive: ['lg'] },
    { title: '服务时间', dataIndex: 'hours', responsive: ['md'] },
    { title: '联系方式', dataIndex: 'contact', responsive: ['md'] },
    { title: '状态', dataIndex: 'published', render: (p: boolean) => (p ? <Tag color="green">已公开</Tag> : <Tag>未公开</Tag>) },
    ...(canWrite
      ? [{
          title: '操作', key: 'actions', render: (_: unknown, r: Item) => (
            <Space size={4} wrap>
              <Button size="small" onClick={() => setEditing(r)}>编辑</Button>
              <Button size="small" onClick={() => void togglePublish(r)}>{r.published ? '撤回公开' : '公开发布'}</Button>
            </Space>
          ),
        }]
      : []),
  ];

  return (
    <PageContainer title="服务项目清单" subTitle="各级工会服务职工工作项目清单；公开发布后职工无需登录即可查看"
      extra={canWrite ? <Button type="primary" onClick={() => setEditing('new')}>新增服务项目</Button> : null}>
      <ConnectionTable<Item>
        source={source}
        columns={columns}
        filters={
          <Form layout="inline" style={{ marginBottom: 12 }}>
            <Form.Item label="所属组织" htmlFor="sn-item-unit">
              <OrgUnitPicker id="sn-item-unit" value={unitFilter} onChange={setUnitFilter} placeholder="全部（输入名称筛选）" />
            </Form.Item>
            {unitFilter && <Button onClick={() => setUnitFilter(undefined)}>清除</Button>}
          </Form>
        }
        emptyText={canWrite ? '暂无服务项目，可点击“新增服务项目”登记' : '暂无服务项目'}
      />
      {editing && (
        <MutationDialog<Values, SnServiceItemCreateMutation['serviceItemCreate']>
          title={editing === 'new' ? '新增服务项目' : '编辑服务项目'}
          okText="保存"
          name="sn-item"
          onClose={() => setEditing(null)}
          initialValues={editing === 'new' ? { providerKind: 'union', published: false } : { ...editing }}
          mutate={async (v) =>
            editing === 'new'
              ? (await gql(SnServiceItemCreateDocument, { orgUnitId: v.orgUnitId ?? '', input: inputOf(v) })).serviceItemCreate
              : (await gql(SnServiceItemUpdateDocument, { id: editing.id, input: inputOf(v) })).serviceItemUpdate
          }
          isDone={(r) => !!r.item}
          onDone={async () => {
            message.success('已保存');
            setEditing(null);
            await source.refetch();
          }}
        >
          {editing === 'new' && (
            <Form.Item label="所属组织" name="orgUnitId" rules={[{ required: true, message: '请选择所属组织' }]}>
              <OrgUnitPicker />
            </Form.Item>
          )}
          <Form.Item label="服务项目名称" name="name" rules={[{ required: true, whitespace: true, message: '请填写服务项目名称' }]}>
            <Input maxLength={100} />
          </Form.Item>
          <Form.Item label="提供方类型" name="providerKind" rules={[{ required: true }]}>
            <Select options={Object.entries(PROVIDER_KINDS).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Form.Item label="提供方名称" name="providerName" rules={[{ required: true, whitespace: true, message: '请填写提供方名称' }]}>
            <Input maxLength={100} />
          </Form.Item>
          <Form.Item label="办理方式" name="howTo">
            <Input.TextArea rows={2} maxLength={500} />
          </Form.Item>
          <Form.Item label="服务时间" name="hours">
            <Input maxLength={100} placeholder="如：工作日 9:00–17:00" />
          </Form.Item>
          <Form.Item label="联系方式" name="contact">
            <Input maxLength={100} />
          </Form.Item>
          <Form.Item label="公开发布" name="published" valuePropName="checked">
            <Switch />
          </Form.Item>
        </MutationDialog>
      )}
    </PageContainer>
  );
}
