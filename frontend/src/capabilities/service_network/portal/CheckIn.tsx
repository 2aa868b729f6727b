/** 驿站签到: check in at a station with the phone on my member record; my visits, with a link to rate. */
import { Link, useSearchParams } from 'react-router';
import { Button, Card, Form, Input, List, message } from 'antd';
import { gql } from '../../../api/client';
import { useGql } from '../../../api/useGql';
import { FormAlert } from '../../../components/FormAlert';
import { ErrorState, LoadingState } from '../../../components/states';
import { useMutationForm } from '../../../components/MutationDialog';
import { formatDateTime } from '../../../lib/format';
import { SnMyVisitsDocument, SnWorkerCheckInDocument } from '../../../graphql/generated';
import { Stars } from '../common';

interface Values { number: string; occupation: string }

export default function CheckIn() {
  const [params] = useSearchParams();
  const [form] = Form.useForm<Values>();
  const q = useGql(SnMyVisitsDocument);
  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async (v: Values) => (await gql(SnWorkerCheckInDocument, { number: v.number.trim(), occupation: v.occupation.trim() })).workerStationCheckIn,
    isDone: (r) => !!r.visit,
    onDone: async (r) => {
      message.success(`已在「${r.visit?.stationName}」签到`);
      await q.refetch();
    },
    errorOptions: { messages: { 'number.NOT_FOUND': '未找到该驿站编号，请核对驿站门口的编号', TOO_MANY_ATTEMPTS: '签到过于频繁，请稍后再试' } },
  });
  return (
    <>
      <h1 className="hj-portal-title">驿站签到</h1>
      <Card size="small" style={{ marginBottom: 12 }}>
        <p style={{ color: '#666', marginTop: 0 }}>使用会员档案中的手机号签到，手机号加密保存，不会公开。</p>
        <FormAlert errors={formErrors} />
        <Form form={form} layout="vertical" name="sn-checkin" initialValues={{ number: params.get('number') ?? '' }} onFinish={(v) => void submit(v)}>
          <Form.Item label="驿站编号" name="number" rules={[{ required: true, whitespace: true, message: '请输入驿站编号' }]}>
            <Input maxLength={40} />
          </Form.Item>
          <Form.Item label="我的职业" name="occupation" rules={[{ required: true, whitespace: true, message: '请填写职业，如快递员、环卫工人' }]}>
            <Input maxLength={40} placeholder="如：快递员、外卖骑手、环卫工人" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>签到</Button>
        </Form>
      </Card>
      {q.loading && !q.data ? <LoadingState minHeight={80} /> : q.error ? <ErrorState error={q.error} onRetry={() => void q.refetch()} /> : (
        <Card size="small" title="我的到访记录">
          <List
            aria-label="我的到访记录"
            dataSource={q.data?.myStationVisits ?? []}
            locale={{ emptyText: '暂无到访记录' }}
            renderItem={(v) => (
              <List.Item key={`${v.stationId}-${v.visitedAt}`} data-testid="my-visit"
                actions={[<Link key="r" to={`/ratings/new?type=station&id=${encodeURIComponent(v.stationId)}`}>{v.myStars ? '修改评价' : '评价'}</Link>]}>
                <List.Item.Meta title={v.stationName} description={<>{formatDateTime(v.visitedAt)}{v.myStars ? <> · 我的评价 <Stars value={v.myStars} label="我的评价" /></> : null}</>} />
              </List.Item>
            )}
          />
        </Card>
      )}
    </>
  );
}
