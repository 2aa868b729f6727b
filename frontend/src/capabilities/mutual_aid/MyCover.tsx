/**
 * 我的互助保障 (portal, 390 px): the worker's cover plan by plan (dates, caps used and left), their
 * claims with where each stands and the benefit, and a claim of their own with documents.
 */
import { useState } from 'react';
import { Alert, Button, Card, Drawer, Form, Tag } from 'antd';
import { gql } from '../../api/client';
import { useGql } from '../../api/useGql';
import { useMutationForm } from '../../components/MutationDialog';
import { FormAlert } from '../../components/FormAlert';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { MutualAidMyClaimSubmitDocument, MutualAidMyPortalDocument } from '../../graphql/generated';
import { formatDate } from '../../lib/format';
import { formatYuan } from '../../lib/money';
import { CLAIM_FIELD_MAP, ClaimFields, claimInput, placeClaimErrors, type ClaimValues } from './ClaimForm';
import { ClaimDocuments, ClaimProgress, ClaimTimeline } from './ClaimDetail';
import { CoverList } from './CoverList';
import { MUTUAL_AID_ERRORS, STATE_COLORS } from './labels';
import { RateButton, dbIdOf, useMyRatings } from '../../portal/rating/RateButton';
import type { Plan } from './shared';

function ClaimDrawer({ plans, onClose, onDone }: { plans: readonly Plan[]; onClose: () => void; onDone: () => void }) {
  const [form] = Form.useForm<ClaimValues>();
  const { busy, formErrors, submit } = useMutationForm(form, {
    mutate: async (v: ClaimValues) => placeClaimErrors((await gql(MutualAidMyClaimSubmitDocument, { input: await claimInput(v) })).mutualAidMyClaimSubmit),
    isDone: (p) => !!p.claim,
    onDone,
    errorOptions: { messages: MUTUAL_AID_ERRORS, fieldMap: CLAIM_FIELD_MAP },
  });
  return (
    <Drawer open title="申请互助金" placement="bottom" height="90%" onClose={onClose} destroyOnHidden>
      <FormAlert errors={formErrors} />
      <Form<ClaimValues> form={form} layout="vertical" name="mutual-aid-my-claim" onFinish={(v) => void submit(v)}>
        <ClaimFields form={form} plans={plans} />
        <Button type="primary" htmlType="submit" block loading={busy}>
          提交申请
        </Button>
      </Form>
    </Drawer>
  );
}

export default function MyCover() {
  const { data, error, refetch } = useGql(MutualAidMyPortalDocument);
  const [claiming, setClaiming] = useState(false);
  const [sent, setSent] = useState(false);
  const { ratings, reload: reloadRatings } = useMyRatings('mutual_aid_claim');
  if (error) return <ErrorState error={error} onRetry={() => void refetch()} />;
  if (!data) return <LoadingState minHeight={160} />;
  const cover = data.mutualAidMyCover;
  const covered = new Set(cover.covers.map((c) => c.planCode));
  // the form offers only the plans the worker is enrolled in (the server refuses any other anyway)
  const plans = data.mutualAidMyPlans.filter((p) => covered.has(p.code)) as unknown as Plan[];
  const kindLabel = (plan: string, kind: string) => data.mutualAidMyPlans.find((p) => p.code === plan)?.claimKinds.find((k) => k.code === kind)?.label ?? kind;
  return (
    <>
      <h1 style={{ fontSize: 18, margin: '4px 4px 12px' }}>我的互助保障</h1>
      {sent && <Alert type="success" showIcon closable style={{ marginBottom: 12 }} message="申请已提交，工会核查后将在此显示进度" onClose={() => setSent(false)} />}
      {cover.covers.length === 0 ? (
        <EmptyState description="您还没有参加互助保障，请联系所在单位工会" />
      ) : (
        <>
          <CoverList covers={cover.covers} compact />
          <Button type="primary" block style={{ marginBottom: 16 }} onClick={() => setClaiming(true)}>
            申请互助金
          </Button>
        </>
      )}
      <h2 style={{ fontSize: 16, margin: '8px 4px' }}>我的申请</h2>
      {data.mutualAidMyClaims.length === 0 ? (
        <EmptyState description="暂无互助金申请" />
      ) : (
        data.mutualAidMyClaims.map((c) => (
          <Card
            key={c.id}
            size="small"
            style={{ marginBottom: 12 }}
            data-testid="my-mutual-aid-claim"
            title={
              <>
                {kindLabel(c.planCode, c.kind)} <Tag color={STATE_COLORS[c.state]}>{c.stateLabel}</Tag>
              </>
            }
            extra={<span style={{ color: '#888', fontSize: 12 }}>{formatDate(c.createdAt)}</span>}
          >
            <ClaimProgress state={c.state} />
            <div style={{ marginTop: 8 }}>
              事故日期 {formatDate(c.eventDate)} · 核定金额 <strong>{formatYuan(c.amountFen)}</strong>
            </div>
            {c.breakdown.length > 0 && (
              <ul style={{ margin: '6px 0 0', paddingLeft: 18, color: '#555' }}>
                {c.breakdown.map((b, i) => (
                  <li key={i}>
                    {b.label} {formatYuan(b.amountFen)}
                    {b.note && `（${b.note}）`}
                  </li>
                ))}
              </ul>
            )}
            <ClaimTimeline steps={c.timeline} />
            <div style={{ color: '#888', fontSize: 12, marginTop: 4 }}>已交材料 {c.documents.length} 份</div>
            {c.documents.length > 0 && <ClaimDocuments documents={c.documents} emptyText="暂无材料" />}
            {c.state === 'paid' && (
              <div style={{ marginTop: 8 }}>
                <RateButton subjectType="mutual_aid_claim" subjectId={dbIdOf(c.id)} label={`${kindLabel(c.planCode, c.kind)} ${formatYuan(c.amountFen)}`}
                  current={ratings.get(dbIdOf(c.id))} onRated={reloadRatings} />
              </div>
            )}
          </Card>
        ))
      )}
      {claiming && (
        <ClaimDrawer
          plans={plans}
          onClose={() => setClaiming(false)}
          onDone={async () => {
            setClaiming(false);
            setSent(true);
            await refetch();
          }}
        />
      )}
    </>
  );
}
