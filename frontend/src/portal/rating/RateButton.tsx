/**
 * 评价 what a worker used, from the page that shows it (a paid aid grant, a received campaign benefit, a
 * paid mutual-aid claim…). Ratings belong to the service_network capability (`workerRatingSubmit`,
 * `myRatings`): each capability offers its things through that capability's `rating_subjects` hook, and
 * its owner decides whether the worker used one. So the button shows only where the province enables
 * service_network, and a page loads the worker's ratings of its kind once (`useMyRatings`), not per row.
 */
import { useCallback, useEffect, useState } from 'react';
import { Button, Form, Modal, Rate as StarInput, Space, message } from 'antd';
import { gql } from '../../api/client';
import { FormAlert } from '../../components/FormAlert';
import { useMutationForm } from '../../components/MutationDialog';
import { SnMyRatingsDocument, SnWorkerRateDocument, type SnMyRatingsQuery } from '../../graphql/generated';
import { useWorker } from '../worker';
import { RatingFields } from './RatingFields';

export type MyRating = SnMyRatingsQuery['myRatings'][number];

const RATING_CAPABILITY = 'service_network';

/** Whether the worker's province rates things at all (the service_network capability). */
export function useRatingsEnabled(): boolean {
  return useWorker().worker.capabilities.includes(RATING_CAPABILITY);
}

/** The worker's current ratings of one kind, by the rated thing's database id (empty where ratings are off). */
export function useMyRatings(subjectType: string): { ratings: Map<number, MyRating>; reload: () => Promise<void> } {
  const enabled = useRatingsEnabled();
  const [ratings, setRatings] = useState<Map<number, MyRating>>(new Map());
  const reload = useCallback(async () => {
    if (!enabled) return;
    try {
      const rows = (await gql(SnMyRatingsDocument, { subjectType })).myRatings;
      setRatings(new Map(rows.map((r) => [Number(r.subjectId), r])));
    } catch {
      // The button still works without them: the server keeps one rating per thing and person.
    }
  }, [enabled, subjectType]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { ratings, reload };
}

interface Values { stars: number; comment?: string }

interface Props {
  subjectType: string;
  /** The rated thing's database id. */
  subjectId: number;
  /** What is rated, for the dialog's title (e.g. 「临时救助 500.00元」). */
  label: string;
  current?: MyRating;
  onRated?: () => void | Promise<void>;
}

export function RateButton({ subjectType, subjectId, label, current, onRated }: Props) {
  const enabled = useRatingsEnabled();
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm<Values>();
  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async (v: Values) =>
      (await gql(SnWorkerRateDocument, { subjectType, subjectId, stars: v.stars, dimensions: [], comment: (v.comment ?? '').trim() }))
        .workerRatingSubmit,
    isDone: (r) => !!r.rating,
    onDone: async (r) => {
      message.success(r.rating && r.rating.version > 1 ? '评价已更新' : '感谢您的评价');
      setOpen(false);
      await onRated?.();
    },
    errorOptions: { messages: { 'subjectId.NOT_ELIGIBLE': '您还没有使用过这项服务，暂不能评价' } },
  });
  if (!enabled) return null;
  return (
    <>
      <Space size={8} wrap>
        {current && (
          <span data-testid="my-rating">
            我的评价：<StarInput disabled value={current.stars} style={{ fontSize: 14 }} />
          </span>
        )}
        <Button
          size="small"
          onClick={() => {
            form.setFieldsValue({ stars: current?.stars, comment: current?.comment ?? '' });
            setOpen(true);
          }}
        >
          {current ? '修改评价' : '评价'}
        </Button>
      </Space>
      <Modal
        open={open}
        title={`评价：${label}`}
        okText="提交评价"
        cancelText="取消"
        confirmLoading={busy}
        onOk={() => form.submit()}
        onCancel={() => setOpen(false)}
        forceRender
      >
        <FormAlert errors={formErrors} />
        <Form form={form} layout="vertical" name={`rate-${subjectType}-${subjectId}`} onFinish={(v) => void submit(v)}>
          <RatingFields />
          {current && <div style={{ color: '#888', fontSize: 12 }}>再次提交将替换您之前的评价（原评价会保留在记录中）</div>}
        </Form>
      </Modal>
    </>
  );
}

/** The database id inside a GraphQL global id (base64 of `Type:id`), which ratings name things by. */
export function dbIdOf(globalId: string): number {
  try {
    return Number(atob(globalId).split(':')[1]);
  } catch {
    return NaN;
  }
}
