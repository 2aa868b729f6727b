/** 服务评价: rate a station I visited or a request of mine that was resolved (1–5 stars, dimensions for
 *  stations, a comment). A later rating replaces the earlier one. */
import { useMemo } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { Button, Card, Form, Select, message } from 'antd';
import { gql } from '../../../api/client';
import { useGql } from '../../../api/useGql';
import { FormAlert } from '../../../components/FormAlert';
import { EmptyState, ErrorState, LoadingState } from '../../../components/states';
import { useMutationForm } from '../../../components/MutationDialog';
import { SnMyRequestsDocument, SnMyVisitsDocument, SnWorkerRateDocument } from '../../../graphql/generated';
import { STATION_DIMENSIONS, pkOf } from '../common';
import { RatingFields } from '../../../portal/rating/RatingFields';

interface Values { subject: string; stars: number; comment?: string; dims?: Record<string, number> }

export { pkOf };

export default function Rate() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const visits = useGql(SnMyVisitsDocument);
  const requests = useGql(SnMyRequestsDocument);
  const options = useMemo(() => {
    const seen = new Set<string>();
    const out: { value: string; label: string }[] = [];
    for (const v of visits.data?.myStationVisits ?? []) {
      const key = `station|${v.stationId}`;
      if (!seen.has(key)) out.push({ value: key, label: `驿站：${v.stationName}` });
      seen.add(key);
    }
    for (const r of requests.data?.myServiceRequests ?? []) {
      if (r.state === 'resolved' || r.state === 'closed') out.push({ value: `service_request|${r.id}`, label: `诉求：${r.categoryLabelZh}（${r.summary.slice(0, 12)}）` });
    }
    return out;
  }, [visits.data, requests.data]);
  const subject = Form.useWatch('subject', form);
  const isStation = subject?.startsWith('station|');
  const preset = params.get('type') && params.get('id') ? `${params.get('type')}|${params.get('id')}` : undefined;

  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async (v: Values) => {
      const [subjectType, gid] = v.subject.split('|');
      const dimensions = subjectType === 'station' ? Object.entries(v.dims ?? {}).filter(([, s]) => s).map(([key, stars]) => ({ key, stars })) : [];
      return (await gql(SnWorkerRateDocument, { subjectType, subjectId: pkOf(gid), stars: v.stars, dimensions, comment: (v.comment ?? '').trim() })).workerRatingSubmit;
    },
    isDone: (r) => !!r.rating,
    onDone: async (r) => {
      message.success(r.rating && r.rating.version > 1 ? '评价已更新' : '感谢您的评价');
      navigate('/');
    },
    errorOptions: { fieldMap: { subjectId: 'subject', subjectType: 'subject' }, messages: { 'subjectId.NOT_ELIGIBLE': '您还没有使用过这项服务，暂不能评价' } },
  });

  if (visits.error || requests.error) return <ErrorState error={visits.error ?? requests.error} onRetry={() => { void visits.refetch(); void requests.refetch(); }} />;
  if (!visits.data || !requests.data) return <LoadingState minHeight={160} />;
  return (
    <>
      <h1 className="hj-portal-title">服务评价</h1>
      {options.length === 0 ? (
        <EmptyState description="到驿站签到或诉求办结后即可评价" />
      ) : (
        <Card size="small">
          <FormAlert errors={formErrors} />
          <Form form={form} layout="vertical" name="sn-rate" initialValues={{ subject: options.some((o) => o.value === preset) ? preset : undefined }} onFinish={(v) => void submit(v)}>
            <Form.Item label="评价对象" name="subject" rules={[{ required: true, message: '请选择要评价的服务' }]}>
              <Select options={options} />
            </Form.Item>
            <RatingFields dimensions={isStation ? STATION_DIMENSIONS : undefined} />
            <Button type="primary" htmlType="submit" block loading={busy}>提交评价</Button>
          </Form>
        </Card>
      )}
    </>
  );
}
