/** 满意度评价: rankings of org units by average stars over a period (e.g. the cities, as Jiangsu
 *  publishes), the request dashboard for the same period, and low ratings with their follow-ups. */
import { useState } from 'react';
import dayjs, { type Dayjs } from 'dayjs';
import { Button, Card, Checkbox, DatePicker, Form, Input, Segmented, Select, Space, Tag, message } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { PageContainer } from '../../components/PageContainer';
import { ConnectionTable } from '../../components/ConnectionTable';
import { MutationDialog } from '../../components/MutationDialog';
import { useAuth } from '../../auth/AuthProvider';
import { gql } from '../../api/client';
import { formatDateTime } from '../../lib/format';
import { useGql } from '../../api/useGql';
import {
  SnRatingFollowUpDocument,
  SnRequestCategoriesDocument,
  SnStationsDocument,
  SnRatingRankingDocument,
  SnRatingsDocument,
  SnRequestDashboardDocument,
  type SnRatingFollowUpMutation,
  type SnRatingRankingQuery,
  type SnRatingsQuery,
  type SnRequestDashboardQuery,
} from '../../graphql/generated';
import { SUBJECT_TYPES, Stars, pkOf, useListSource, useUnitNames } from './common';

type Rank = SnRatingRankingQuery['ratingRanking'][number];
type Dash = SnRequestDashboardQuery['serviceRequestDashboard'][number];
type Rating = SnRatingsQuery['ratings'][number];

const LEVELS = [
  { value: 'city', label: '市级' },
  { value: 'county', label: '县（区）级' },
  { value: 'grassroots', label: '基层' },
  { value: 'industry', label: '产业' },
];

const hours = (h: number | null | undefined) => (h === null || h === undefined ? '—' : `${h.toFixed(1)} 小时`);

export default function Ratings() {
  const { can } = useAuth();
  const unitName = useUnitNames();
  const [range, setRange] = useState<[Dayjs, Dayjs]>([dayjs().startOf('year'), dayjs().add(1, 'day')]);
  const [level, setLevel] = useState('city');
  const [subjectType, setSubjectType] = useState<string | undefined>();
  const [following, setFollowing] = useState<Rating | null>(null);
  const [queue, setQueue] = useState<'todo' | 'all'>('todo');
  const period = { since: range[0].format('YYYY-MM-DD'), until: range[1].format('YYYY-MM-DD') };
  const ranking = useListSource(SnRatingRankingDocument, { ...period, level, subjectType: subjectType ?? null }, (d) => d.ratingRanking);
  const dash = useListSource(SnRequestDashboardDocument, period, (d) => d.serviceRequestDashboard);
  // the follow-up queue (low and not yet followed up), or every rating with its follow-ups
  const categories = useGql(SnRequestCategoriesDocument).data?.serviceRequestCategories ?? [];
  const categoryLabel = new Map(categories.map((c) => [c.code, c.labelZh]));
  // rated stations by name (the rating carries the station's database id)
  const stations = useGql(SnStationsDocument).data?.stations ?? [];
  const stationName = new Map(stations.map((st) => [pkOf(st.id), st.name]));
  const subjectText = (type: string, id: number | string) =>
    type === 'station' && stationName.has(Number(id)) ? `驿站：${stationName.get(Number(id))}` : `${SUBJECT_TYPES[type] ?? '其他'}（编号 ${id}）`;
  const low = useListSource(SnRatingsDocument, { flagged: queue === 'todo' ? true : null, subjectType: subjectType ?? null }, (d) => d.ratings);

  const rankColumns: ColumnsType<Rank> = [
    { title: '排名', dataIndex: 'rank', width: 70 },
    { title: '组织', dataIndex: 'name' },
    { title: '平均星级', dataIndex: 'averageStars', render: (v: number) => <span><Stars value={Math.round(v)} label="平均" /> {v.toFixed(2)}</span> },
    { title: '评价数', dataIndex: 'count' },
    { title: '低分数', dataIndex: 'lowCount', render: (v: number) => (v ? <Tag color="red">{v}</Tag> : 0) },
  ];
  const dashColumns: ColumnsType<Dash> = [
    { title: '承办单位', dataIndex: 'unitName' },
    { title: '类别', dataIndex: 'category', render: (c: string) => categoryLabel.get(c) ?? '其他' },
    { title: '总数', dataIndex: 'total' },
    { title: '未办结', dataIndex: 'open' },
    { title: '超时', dataIndex: 'overdue', render: (v: number) => (v ? <Tag color="red">{v}</Tag> : 0) },
    { title: '平均首次响应', dataIndex: 'avgFirstResponseHours', render: hours, responsive: ['md'] },
    { title: '平均办结', dataIndex: 'avgResolutionHours', render: hours, responsive: ['md'] },
  ];
  const lowColumns: ColumnsType<Rating> = [
    { title: '评价时间', dataIndex: 'ratedAt', render: (v: string) => formatDateTime(v), width: 150 },
    { title: '对象', dataIndex: 'subjectType', render: (t: string, r) => subjectText(t, r.subjectId) },
    { title: '所属组织', dataIndex: 'orgUnitId', render: (id: string) => unitName(id), responsive: ['lg'] },
    { title: '星级', dataIndex: 'stars', render: (v: number) => <Stars value={v} label="评分" /> },
    {
      title: '评价内容', dataIndex: 'comment', responsive: ['md'],
      render: (c: string, r) => (
        <div>
          {c || '—'}
          {r.dimensions.length > 0 && <div style={{ fontSize: 12, color: '#888' }}>{r.dimensions.map((d) => `${d.labelZh}${d.stars}星`).join('、')}</div>}
        </div>
      ),
    },
    {
      title: '回访', key: 'follow',
      render: (_: unknown, r) => (
        <div>
          {r.followUps.map((f, i) => (
            <div key={i} style={{ fontSize: 12 }}>{formatDateTime(f.createdAt)}：{f.note}{f.resolved ? '（已解决）' : ''}</div>
          ))}
          {r.followedUp ? <Tag color="green">已回访</Tag> : r.flagged ? <Tag color="orange">待回访</Tag> : null}
          {r.flagged && !r.followedUp && can('service_network.follow_up') && <Button size="small" onClick={() => setFollowing(r)}>登记回访</Button>}
        </div>
      ),
    },
  ];

  return (
    <PageContainer title="满意度评价" subTitle="按组织和期间汇总排名；低分评价须回访并登记结果">
      <Space wrap style={{ marginBottom: 12 }}>
        <DatePicker.RangePicker aria-label="统计期间" allowClear={false} value={range} onChange={(v) => v?.[0] && v[1] && setRange([v[0], v[1]])} />
        <Select aria-label="排名层级" style={{ width: 130 }} value={level} onChange={setLevel} options={LEVELS} />
        <Select aria-label="评价对象" allowClear placeholder="全部评价对象" style={{ width: 150 }} value={subjectType} onChange={setSubjectType}
          options={Object.entries(SUBJECT_TYPES).map(([value, label]) => ({ value, label }))} />
      </Space>
      <Card size="small" title="满意度排名" className="hj-panel-flow" style={{ marginBottom: 12 }}>
        <ConnectionTable<Rank> source={ranking} columns={rankColumns} rowKey="orgUnitId" emptyText="该期间暂无评价" />
      </Card>
      <Card size="small" title="诉求办理情况" className="hj-panel-flow" style={{ marginBottom: 12 }}>
        <ConnectionTable<Dash> source={dash} columns={dashColumns} rowKey={(r) => `${r.orgUnitId}-${r.category}`} emptyText="该期间暂无诉求" />
      </Card>
      <Card size="small" title="低分评价与回访" className="hj-panel-flow"
        extra={<Segmented aria-label="评价范围" value={queue} onChange={(v) => setQueue(v as 'todo' | 'all')} options={[{ value: 'todo', label: '待回访' }, { value: 'all', label: '全部评价' }]} />}>
        <ConnectionTable<Rating> source={low} columns={lowColumns} emptyText={queue === 'todo' ? '暂无待回访的低分评价' : '暂无评价'} />
      </Card>
      {following && (
        <MutationDialog<{ note: string; resolved: boolean }, SnRatingFollowUpMutation['ratingFollowUp']>
          title="登记回访"
          okText="保存"
          name="sn-follow"
          onClose={() => setFollowing(null)}
          initialValues={{ resolved: true }}
          mutate={async (v) => (await gql(SnRatingFollowUpDocument, { id: following.id, note: v.note.trim(), resolved: !!v.resolved })).ratingFollowUp}
          isDone={(r) => !!r.rating}
          onDone={async () => {
            message.success('已登记回访');
            setFollowing(null);
            await low.refetch();
          }}
        >
          <Form.Item label="回访记录" name="note" rules={[{ required: true, whitespace: true, message: '请填写回访记录' }]}>
            <Input.TextArea rows={3} maxLength={1000} />
          </Form.Item>
          <Form.Item name="resolved" valuePropName="checked">
            <Checkbox>问题已解决</Checkbox>
          </Form.Item>
        </MutationDialog>
      )}
    </PageContainer>
  );
}
