/** 社会组织库: applications to approve or reject (with reasons), the negative list, score history. */
import { useState } from 'react';
import { Button, DatePicker, Descriptions, Form, Input, Select, Space, Table, Tag } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import type { Dayjs } from 'dayjs';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { useAuth } from '../../auth/AuthProvider';
import { gql } from '../../api/client';
import {
  PcOrgBlacklistDocument,
  PcOrgBlacklistLiftDocument,
  PcOrgDecideDocument,
  PcOrgsDocument,
  type PcOrgBlacklistMutation,
  type PcOrgDecideMutation,
  type SocialOrgFieldsFragment,
} from '../../graphql/generated';
import { DOCUMENT_KINDS, DocumentLinks, ORG_STATUS, StatusTag, dateTime, points, toastErrors, useListSource, useUnitNames } from './common';

type Org = SocialOrgFieldsFragment;

export function OrgDetail({ org, onLift }: { org: Org; onLift?: (entryId: string) => void }) {
  return (
    <div>
      <Descriptions size="small" column={{ xs: 1, md: 2 }}>
        <Descriptions.Item label="登记管理机关">{org.registrationAuthority}</Descriptions.Item>
        <Descriptions.Item label="登记证号">{org.registrationNo}</Descriptions.Item>
        <Descriptions.Item label="服务区域">{org.serviceAreas.join('、') || '—'}</Descriptions.Item>
        <Descriptions.Item label="自建工会">{org.hasOwnUnion ? '是' : '否'}</Descriptions.Item>
        {org.decisionReasons.length > 0 && <Descriptions.Item label="审核意见">{org.decisionReasons.join('；')}</Descriptions.Item>}
        <Descriptions.Item label="资质材料">
          {org.documents.length ? (
            <Space direction="vertical" size={0}>
              {org.documents.map((d) => (
                <span key={d.id}>{DOCUMENT_KINDS[d.kind] ?? d.kind}：<DocumentLinks documents={[d]} /></span>
              ))}
            </Space>
          ) : '未上传'}
        </Descriptions.Item>
      </Descriptions>
      <Table
        size="small" pagination={false} rowKey={(r) => r.id} title={() => '负面清单记录'}
        dataSource={org.blacklist} locale={{ emptyText: '无' }}
        columns={[
          { title: '原因', dataIndex: 'reason' },
          { title: '期间', key: 'p', render: (_: unknown, e) => `${e.startsOn} 至 ${e.endsOn}` },
          { title: '状态', key: 's', render: (_: unknown, e) => (e.liftedAt ? <Tag>已提前解除</Tag> : e.inForce ? <Tag color="red">执行中</Tag> : <Tag>未生效/已到期</Tag>) },
          ...(onLift ? [{ title: '操作', key: 'a', render: (_: unknown, e: Org['blacklist'][number]) => (e.inForce && !e.liftedAt ? <Button size="small" onClick={() => onLift(e.id)}>提前解除</Button> : null) }] : []),
        ]}
      />
      <Table
        size="small" pagination={false} rowKey={(r) => `${r.at}-${r.source}`} title={() => '绩效评分记录'}
        dataSource={org.scoreHistory} locale={{ emptyText: '暂无评分变化' }}
        columns={[
          { title: '时间', dataIndex: 'at', render: dateTime },
          { title: '评分', dataIndex: 'scoreBp', render: points },
          { title: '来源', dataIndex: 'source' },
          { title: '说明', dataIndex: 'note' },
        ]}
      />
    </div>
  );
}

interface RejectValues { reasons: string }
interface BlacklistValues { reason: string; period: [Dayjs, Dayjs] }

export default function Orgs() {
  const { can } = useAuth();
  const canDecide = can('procurement.org.decide');
  const unitName = useUnitNames();
  const [status, setStatus] = useState<string | undefined>();
  const source = useListSource(PcOrgsDocument, { status: status ?? null }, (d) => d.procurementOrgs);
  const [rejecting, setRejecting] = useState<Org | null>(null);
  const [blacklisting, setBlacklisting] = useState<Org | null>(null);

  const approve = async (org: Org) => {
    const r = (await gql(PcOrgDecideDocument, { orgId: org.id, approve: true })).procurementOrgDecide;
    if (toastErrors(r.errors, '已审核通过，入库')) await source.refetch();
  };
  const lift = async (entryId: string) => {
    const r = (await gql(PcOrgBlacklistLiftDocument, { entryId })).procurementOrgBlacklistLift;
    if (toastErrors(r.errors, '已提前解除')) await source.refetch();
  };

  const columns: ColumnsType<Org> = [
    { title: '组织名称', dataIndex: 'name' },
    { title: '统一社会信用代码', dataIndex: 'creditCode', responsive: ['md'] },
    { title: '申请入库工会', dataIndex: 'orgUnitId', render: (id: string) => unitName(id), responsive: ['lg'] },
    { title: '状态', dataIndex: 'status', render: (s: string, r) => <Space size={2}><StatusTag map={ORG_STATUS} value={s} />{r.blacklisted && <Tag color="red">负面清单</Tag>}</Space> },
    { title: '绩效评分', dataIndex: 'scoreBp', render: points },
    { title: '申请时间', dataIndex: 'createdAt', render: dateTime, responsive: ['lg'] },
    ...(canDecide
      ? [{
          title: '操作', key: 'actions', render: (_: unknown, r: Org) => (
            <Space size={4} wrap>
              {r.status === 'pending' && <Button size="small" type="primary" onClick={() => void approve(r)}>通过</Button>}
              {r.status === 'pending' && <Button size="small" danger onClick={() => setRejecting(r)}>驳回</Button>}
              {r.status === 'approved' && !r.blacklisted && <Button size="small" danger onClick={() => setBlacklisting(r)}>列入负面清单</Button>}
            </Space>
          ),
        }]
      : []),
  ];

  return (
    <PageContainer title="社会组织库" subTitle="社会组织入库申请审核、负面清单与绩效评分">
      <ConnectionTable<Org>
        source={source}
        columns={columns}
        expandable={{ expandedRowRender: (r: Org) => <OrgDetail org={r} onLift={canDecide ? (id) => void lift(id) : undefined} /> }}
        filters={
          <Form layout="inline" style={{ marginBottom: 12 }}>
            <Form.Item label="状态" htmlFor="pc-org-status">
              <Select id="pc-org-status" allowClear placeholder="全部" style={{ width: 140 }} value={status} onChange={setStatus}
                options={Object.entries(ORG_STATUS).map(([value, s]) => ({ value, label: s.text }))} />
            </Form.Item>
          </Form>
        }
        emptyText="暂无社会组织申请"
      />
      {rejecting && (
        <MutationDialog<RejectValues, PcOrgDecideMutation['procurementOrgDecide']>
          title={`驳回入库申请：${rejecting.name}`} okText="驳回" danger name="pc-reject" onClose={() => setRejecting(null)}
          mutate={async (v) => (await gql(PcOrgDecideDocument, { orgId: rejecting.id, approve: false, reasons: v.reasons.split('\n').map((s) => s.trim()).filter(Boolean) })).procurementOrgDecide}
          isDone={(r) => !!r.org}
          onDone={async () => { setRejecting(null); await source.refetch(); }}
        >
          <Form.Item label="驳回理由（每行一条）" name="reasons" rules={[{ required: true, whitespace: true, message: '请填写驳回理由' }]}>
            <Input.TextArea rows={3} maxLength={1000} />
          </Form.Item>
        </MutationDialog>
      )}
      {blacklisting && (
        <MutationDialog<BlacklistValues, PcOrgBlacklistMutation['procurementOrgBlacklist']>
          title={`列入负面清单：${blacklisting.name}`} okText="列入" danger name="pc-blacklist" onClose={() => setBlacklisting(null)}
          mutate={async (v) => (await gql(PcOrgBlacklistDocument, {
            orgId: blacklisting.id, reason: v.reason.trim(), startsOn: v.period[0].format('YYYY-MM-DD'), endsOn: v.period[1].format('YYYY-MM-DD'),
          })).procurementOrgBlacklist}
          isDone={(r) => !!r.entry}
          errorOptions={{ fieldMap: { startsOn: 'period', endsOn: 'period' } }}
          onDone={async () => { setBlacklisting(null); await source.refetch(); }}
        >
          <Form.Item label="原因" name="reason" rules={[{ required: true, whitespace: true, message: '请填写原因' }]}>
            <Input.TextArea rows={2} maxLength={500} />
          </Form.Item>
          <Form.Item label="期间" name="period" rules={[{ required: true, message: '请选择期间' }]}>
            <DatePicker.RangePicker />
          </Form.Item>
        </MutationDialog>
      )}
    </PageContainer>
  );
}
