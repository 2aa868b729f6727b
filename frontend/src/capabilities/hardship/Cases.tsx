/** 困难职工档案: the case (archive) list with filters, and 建档申请 for a household. */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Button, Card, Form, Input, Select, Space, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PlusOutlined, ReloadOutlined, SearchOutlined } from '@ant-design/icons';
import { HardshipArchivesDocument, type HardshipArchiveListFieldsFragment, type HardshipTier } from '../../graphql/generated';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable, useConnection } from '../../components/ConnectionTable';
import { OrgUnitPicker } from '../../components/OrgUnitPicker';
import { formatDate } from '../../lib/format';
import { CATEGORY_LABELS, STATE_COLORS, STATE_LABELS, TIER_LABELS, options } from './labels';
import { CreateArchiveDialog } from './CreateArchive';

type Row = HardshipArchiveListFieldsFragment;

interface FilterForm {
  text?: string;
  state?: string;
  category?: string;
  tier?: HardshipTier;
  unitId?: string;
}

interface Filter {
  text?: string | null;
  state?: string | null;
  category?: string | null;
  tier?: HardshipTier | null;
  unitId?: string | null;
}

function toFilter(v: FilterForm): Filter {
  return { text: v.text?.trim() || null, state: v.state ?? null, category: v.category ?? null, tier: v.tier ?? null, unitId: v.unitId ?? null };
}

export default function HardshipCases() {
  const { can } = useAuth();
  const navigate = useNavigate();
  const [form] = Form.useForm<FilterForm>();
  const [filter, setFilter] = useState<Filter>({});
  const [creating, setCreating] = useState(false);
  const q = useConnection(HardshipArchivesDocument, filter, (d) => d.hardshipArchives, { pageSize: 20 });

  const columns: ColumnsType<Row> = [
    {
      title: '户主',
      dataIndex: 'householdName',
      render: (name: string, a) => (
        <Space direction="vertical" size={0}>
          <Link to={`/hardship/cases/${encodeURIComponent(a.id)}`}>{name || '（未登记姓名）'}</Link>
          <Typography.Text type="secondary">
            {a.householdSize} 人{a.kind === 'temporary' ? ' · 临时救助' : ''}
          </Typography.Text>
        </Space>
      ),
    },
    { title: '困难类别', key: 'category', render: (_, a) => a.classification.categoryLabel || CATEGORY_LABELS[a.classification.category] },
    { title: '建档级别', dataIndex: 'tier', responsive: ['md'], render: (t: HardshipTier) => TIER_LABELS[t] },
    { title: '状态', dataIndex: 'state', width: 100, render: (s: string, a) => <Tag color={STATE_COLORS[s]}>{a.stateLabel || STATE_LABELS[s]}</Tag> },
    { title: '地区代码', dataIndex: 'areaCode', responsive: ['lg'], render: (v: string) => <span className="hj-mono-small">{v}</span> },
    { title: '复核到期', dataIndex: 'reverifyDueOn', responsive: ['lg'], render: formatDate },
    { title: '申请日期', dataIndex: 'createdAt', width: 110, responsive: ['sm'], render: formatDate },
  ];

  return (
    <PageContainer
      title="困难职工档案"
      subTitle="一户一档；健康、收入、银行卡等信息加密保存，页面只显示脱敏结果"
      extra={
        can('hardship.write') ? (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            建档申请
          </Button>
        ) : undefined
      }
    >
      <Card size="small" className="hj-panel">
        <Form<FilterForm> form={form} layout="inline" name="hardship-filter" className="hj-filter-form" onFinish={(v) => setFilter(toFilter(v))}>
          <Form.Item label="姓名" name="text">
            <Input allowClear placeholder="家庭成员姓名" style={{ width: 160 }} />
          </Form.Item>
          <Form.Item label="状态" name="state">
            <Select allowClear placeholder="全部" style={{ minWidth: 120 }} options={options(STATE_LABELS)} />
          </Form.Item>
          <Form.Item label="困难类别" name="category">
            <Select allowClear placeholder="全部" style={{ minWidth: 120 }} options={options(CATEGORY_LABELS)} />
          </Form.Item>
          <Form.Item label="建档级别" name="tier">
            <Select allowClear placeholder="全部" style={{ minWidth: 110 }} options={options(TIER_LABELS)} />
          </Form.Item>
          <Form.Item label="工会（含下级）" name="unitId">
            <OrgUnitPicker placeholder="全部" />
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
        <ConnectionTable<Row> source={q} columns={columns} rowKey="id" emptyText={can('hardship.write') ? '暂无档案；可点击“建档申请”为困难职工家庭建档' : '暂无档案'} />
      </Card>
      {creating && (
        <CreateArchiveDialog
          onClose={() => setCreating(false)}
          onDone={(id) => {
            setCreating(false);
            navigate(`/hardship/cases/${encodeURIComponent(id)}`);
          }}
        />
      )}
    </PageContainer>
  );
}
