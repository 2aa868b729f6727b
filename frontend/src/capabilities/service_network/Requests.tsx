/** 服务诉求: the queue of your subtree with the SLA clocks in colour; 12351 热线 clerks register a need here. */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Button, Form, Input, Select, Space, message } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { useAuth } from '../../auth/AuthProvider';
import { useGql } from '../../api/useGql';
import { gql } from '../../api/client';
import { formatDateTime } from '../../lib/format';
import {
  SnRequestCategoriesDocument,
  SnServiceRequestSubmitDocument,
  SnServiceRequestsDocument,
  type ServiceRequestFieldsFragment,
  type SnServiceRequestSubmitMutation,
} from '../../graphql/generated';
import { CHANNELS, STATES, SlaTag, useListSource, useUnitNames } from './common';

type Req = ServiceRequestFieldsFragment;
interface SubmitValues { orgUnitId: string; category: string; requesterName: string; phone?: string; summary: string }

/** The clock that matters now: the first response until it is given, then the resolution. */
export function currentSla(r: Pick<Req, 'responseSla' | 'resolutionSla' | 'firstRespondedAt'>): { value: string; label: string } {
  return r.firstRespondedAt ? { value: r.resolutionSla, label: '办结' } : { value: r.responseSla, label: '首次响应' };
}

export default function ServiceRequests() {
  const { can } = useAuth();
  const navigate = useNavigate();
  const unitName = useUnitNames();
  const [state, setState] = useState<string | undefined>();
  const [category, setCategory] = useState<string | undefined>();
  const [submitting, setSubmitting] = useState(false);
  const categories = useGql(SnRequestCategoriesDocument).data?.serviceRequestCategories ?? [];
  const source = useListSource(SnServiceRequestsDocument, { state: state ?? null, category: category ?? null }, (d) => d.serviceRequests);

  const columns: ColumnsType<Req> = [
    { title: '提交时间', dataIndex: 'createdAt', render: (v: string) => formatDateTime(v), width: 150 },
    { title: '类别', dataIndex: 'categoryLabelZh' },
    { title: '诉求人', dataIndex: 'requesterName', render: (v: string, r) => <Link to={`/service-network/requests/${encodeURIComponent(r.id)}`}>{v || '（未留姓名）'}</Link> },
    { title: '诉求内容', dataIndex: 'summary', ellipsis: true, responsive: ['md'] },
    { title: '来源', dataIndex: 'channel', render: (c: string) => CHANNELS[c] ?? c, responsive: ['lg'] },
    { title: '承办单位', dataIndex: 'orgUnitId', render: (id: string, r) => (r.socialOrg ? `转介：${r.socialOrg}` : unitName(id)), responsive: ['lg'] },
    { title: '状态', dataIndex: 'stateLabelZh' },
    {
      title: '时限', key: 'sla',
      render: (_: unknown, r) => {
        const s = currentSla(r);
        return <SlaTag value={s.value} label={s.label} />;
      },
    },
  ];

  return (
    <PageContainer title="服务诉求" subTitle="职工之家、12351热线、驿站提交的诉求；颜色表示时限：绿色按时、橙色即将超时、红色已超时"
      extra={can('service_network.request') ? <Button type="primary" onClick={() => setSubmitting(true)}>登记诉求（热线）</Button> : null}>
      <ConnectionTable<Req>
        source={source}
        columns={columns}
        onRow={(r) => ({ onDoubleClick: () => navigate(`/service-network/requests/${encodeURIComponent(r.id)}`) })}
        filters={
          <Space wrap style={{ marginBottom: 12 }}>
            <Select aria-label="状态" allowClear placeholder="全部状态" style={{ width: 140 }} value={state} onChange={setState}
              options={Object.entries(STATES).map(([value, label]) => ({ value, label }))} />
            <Select aria-label="类别" allowClear placeholder="全部类别" style={{ width: 140 }} value={category} onChange={setCategory}
              options={categories.map((c) => ({ value: c.code, label: c.labelZh }))} />
          </Space>
        }
        emptyText="暂无服务诉求"
      />
      {submitting && (
        <MutationDialog<SubmitValues, SnServiceRequestSubmitMutation['serviceRequestSubmit']>
          title="登记诉求（12351热线）"
          okText="提交"
          name="sn-request"
          onClose={() => setSubmitting(false)}
          mutate={async (v) =>
            (await gql(SnServiceRequestSubmitDocument, {
              input: { orgUnitId: v.orgUnitId, category: v.category, channel: 'hotline', summary: v.summary.trim(), requesterName: v.requesterName.trim(), phone: v.phone?.trim() || null },
            })).serviceRequestSubmit
          }
          isDone={(r) => !!r.request}
          onDone={async (r) => {
            message.success(`已提交，首次响应时限：${formatDateTime(r.request?.firstResponseDue)}`);
            setSubmitting(false);
            await source.refetch();
          }}
        >
          <Form.Item label="诉求人所在工会" name="orgUnitId" rules={[{ required: true, message: '请选择诉求人所在工会' }]}>
            <OrgUnitPicker />
          </Form.Item>
          <Form.Item label="诉求类别" name="category" rules={[{ required: true, message: '请选择诉求类别' }]}>
            <Select options={categories.map((c) => ({ value: c.code, label: `${c.labelZh}（${c.firstResponseHours}小时内响应）` }))} />
          </Form.Item>
          <Form.Item label="诉求人姓名" name="requesterName" rules={[{ required: true, whitespace: true, message: '请填写诉求人姓名' }]}>
            <Input maxLength={40} />
          </Form.Item>
          <Form.Item label="联系电话" name="phone">
            <Input maxLength={20} inputMode="tel" />
          </Form.Item>
          <Form.Item label="诉求内容" name="summary" rules={[{ required: true, whitespace: true, message: '请填写诉求内容' }]}>
            <Input.TextArea rows={3} maxLength={1000} />
          </Form.Item>
        </MutationDialog>
      )}
    </PageContainer>
  );
}
