/** 会员查询: search by name, ID number or phone; filter by union, state, work status and tags. Masked by default. */
import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Button, Card, Form, Input, Select, Space, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { DownloadOutlined, PlusOutlined, ReloadOutlined, SearchOutlined, UploadOutlined } from '@ant-design/icons';
import { useGql } from '../../api/useGql';
import { MemberTagsDocument, MembersDocument, type MemberFilter, type MemberListFieldsFragment, type MemberWorkStatus, type MembershipState } from '../../graphql/generated';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable, useConnection } from '../../components/ConnectionTable';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { GENDER_LABELS, MEMBERSHIP_STATE_LABELS, WORK_STATUS_LABELS, parseMemberQuery } from '../../lib/labels';
import { formatDate } from '../../lib/format';
import { ExportDialog } from './ExportDialog';

type Row = MemberListFieldsFragment;
const PAGE_SIZE = 20;

interface FilterForm {
  q?: string;
  subtreeOf?: string;
  states?: MembershipState[];
  workStatuses?: MemberWorkStatus[];
  tags?: string[];
}

function toFilter(v: FilterForm): MemberFilter {
  return {
    ...parseMemberQuery(v.q ?? ''),
    subtreeOf: v.subtreeOf ?? null,
    states: v.states?.length ? v.states : null,
    workStatuses: v.workStatuses?.length ? v.workStatuses : null,
    tags: v.tags?.length ? v.tags : null,
  };
}

const STATE_COLORS: Record<MembershipState, string> = { JOINED: 'green', TRANSFERRING: 'blue', LEFT: 'default', DECEASED: 'default' };

export default function MembersList() {
  const { can } = useAuth();
  const navigate = useNavigate();
  const [form] = Form.useForm<FilterForm>();
  const [filter, setFilter] = useState<MemberFilter>({});
  const q = useConnection(MembersDocument, { filter }, (d) => d.members, { pageSize: PAGE_SIZE });
  const tags = useGql(MemberTagsDocument);
  const [exporting, setExporting] = useState(false);
  const searchKind = useMemo(() => (filter.idNumber ? '身份证号' : filter.phone ? '手机号' : filter.namePrefix ? '姓名' : null), [filter]);

  const columns: ColumnsType<Row> = [
    {
      title: '姓名',
      dataIndex: 'name',
      render: (name: string, m) => (
        <Space direction="vertical" size={0}>
          <Link to={`/members/${encodeURIComponent(m.id)}`}>{name}</Link>
          <Typography.Text type="secondary">
            {GENDER_LABELS[m.gender]} · {m.age} 岁
          </Typography.Text>
        </Space>
      ),
    },
    { title: '身份证号', dataIndex: 'idNumberMasked', responsive: ['md'], render: (v: string) => <span className="hj-mono-small">{v}</span> },
    { title: '手机号', dataIndex: 'phoneMasked', responsive: ['lg'], render: (v: string | null) => (v ? <span className="hj-mono-small">{v}</span> : '—') },
    { title: '所属工会', key: 'unit', render: (_, m) => m.orgUnit?.name ?? '—' },
    { title: '工作状态', dataIndex: 'workStatusLabel', responsive: ['sm'], width: 90 },
    {
      title: '会员状态',
      dataIndex: 'state',
      width: 100,
      render: (s: MembershipState, m) => <Tag color={STATE_COLORS[s]}>{m.stateLabel || MEMBERSHIP_STATE_LABELS[s]}</Tag>,
    },
    {
      title: '标签',
      key: 'tags',
      responsive: ['lg'],
      render: (_, m) => (m.tags.length ? <Space size={[4, 4]} wrap>{m.tags.map((t) => <Tag key={t.code}>{t.label}</Tag>)}</Space> : '—'),
    },
    { title: '入会日期', dataIndex: 'joinedOn', width: 110, responsive: ['xl'], render: formatDate },
  ];
  const conn = q.connection;

  return (
    <PageContainer
      title="会员管理"
      subTitle="身份证号、手机号默认脱敏显示；查看完整信息须说明理由并记入审计日志"
      extra={
        <>
          {can('member.write') && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/members/new')}>
              新增会员
            </Button>
          )}
          {can('member.import') && (
            <Button icon={<UploadOutlined />} onClick={() => navigate('/members/import')}>
              导入名册
            </Button>
          )}
          {can('member.export') && (
            <Button icon={<DownloadOutlined />} onClick={() => setExporting(true)}>
              导出
            </Button>
          )}
        </>
      }
    >
      <Card size="small" className="hj-panel">
        <Form<FilterForm>
          form={form}
          layout="inline"
          name="members-filter"
          className="hj-filter-form"
          onFinish={(v) => {
            setFilter(toFilter(v));
          }}
        >
          <Form.Item label="查找" name="q">
            <Input allowClear placeholder="姓名、身份证号或手机号" style={{ width: 220 }} />
          </Form.Item>
          <Form.Item label="工会（含下级）" name="subtreeOf">
            <OrgUnitPicker placeholder="全部" />
          </Form.Item>
          <Form.Item label="会员状态" name="states">
            <Select mode="multiple" allowClear placeholder="全部" style={{ minWidth: 140 }} options={Object.entries(MEMBERSHIP_STATE_LABELS).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Form.Item label="工作状态" name="workStatuses">
            <Select mode="multiple" allowClear placeholder="全部" style={{ minWidth: 140 }} options={Object.entries(WORK_STATUS_LABELS).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Form.Item label="标签" name="tags">
            <Select mode="multiple" allowClear placeholder="全部" loading={tags.loading} style={{ minWidth: 140 }} options={(tags.data?.memberTags ?? []).map((t) => ({ value: t.code, label: t.label, title: t.description }))} />
          </Form.Item>
          <Form.Item>
            <Space>
              <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
                查询
              </Button>
              <Button
                icon={<ReloadOutlined />}
                onClick={() => {
                  form.resetFields();
                  setFilter({});
                }}
              >
                重置
              </Button>
            </Space>
          </Form.Item>
        </Form>
        {searchKind && (
          <Typography.Paragraph type="secondary" style={{ marginTop: -4 }}>
            按{searchKind}查找{searchKind === '姓名' ? '（姓名开头匹配）' : '（精确匹配）'}
          </Typography.Paragraph>
        )}
        <ConnectionTable<Row>
          source={q}
          emptyText={searchKind ? '没有找到符合条件的会员' : '暂无会员；可通过“导入名册”批量登记'}
          size="middle"
          columns={columns}
        />
      </Card>
      {exporting && <ExportDialog filter={filter} total={conn?.totalCount} onClose={() => setExporting(false)} />}
    </PageContainer>
  );
}
