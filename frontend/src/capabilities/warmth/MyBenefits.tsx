/** 我的慰问 (portal): the benefits given to the logged-in worker, and 确认收到 for a served, unconfirmed one. */
import { useState } from 'react';
import { Alert, Button, Card, Tag } from 'antd';
import { gql } from '../../api/client';
import { describeError, errorMessage } from '../../api/errors';
import { useGql } from '../../api/useGql';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { MyWarmthBenefitsDocument, WarmthReceiptConfirmDocument } from '../../graphql/generated';
import { formatDateTime } from '../../lib/format';
import { formatYuan } from '../../lib/money';
import { RECEIPT_LABELS, RECEIPT_METHOD_LABELS } from './labels';
import { RateButton, useMyRatings } from '../../portal/rating/RateButton';

const RECEIPT_COLORS: Record<string, string> = { not_given: 'default', unconfirmed: 'orange', confirmed: 'green' };

export default function MyBenefits() {
  const { data, error, refetch } = useGql(MyWarmthBenefitsDocument);
  const [busy, setBusy] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const { ratings, reload: reloadRatings } = useMyRatings('warmth_benefit');
  if (error) return <ErrorState error={error} onRetry={() => void refetch()} />;
  if (!data) return <LoadingState minHeight={160} />;
  const confirm = async (id: string) => {
    setBusy(id);
    setFailure(null);
    try {
      const r = (await gql(WarmthReceiptConfirmDocument, { beneficiaryId: id })).warmthReceiptConfirm;
      if (r.errors.length) setFailure(r.errors[0].messageZh || errorMessage(r.errors[0].code));
      await refetch();
    } catch (e) {
      setFailure(describeError(e));
    } finally {
      setBusy(null);
    }
  };
  const rows = data.myWarmthBenefits;
  return (
    <>
      <h1 style={{ fontSize: 18, margin: '4px 4px 12px' }}>我的慰问</h1>
      {failure && <Alert type="error" showIcon message={failure} style={{ marginBottom: 12 }} />}
      {rows.length === 0 ? (
        <EmptyState description="暂无送温暖慰问" />
      ) : (
        rows.map(({ campaignName, beneficiary: b }) => (
          <Card
            key={b.id}
            size="small"
            style={{ marginBottom: 12 }}
            data-testid="my-warmth-benefit"
            title={campaignName}
            extra={<Tag color={RECEIPT_COLORS[b.receiptStatus]}>{RECEIPT_LABELS[b.receiptStatus] ?? b.receiptStatus}</Tag>}
          >
            <div>慰问内容：<strong>{b.itemGiven ?? (b.amountFen != null ? formatYuan(b.amountFen) : '待定')}</strong></div>
            {b.paidAt && <div style={{ color: '#666' }}>发放时间：{formatDateTime(b.paidAt)}</div>}
            {b.receiptStatus === 'confirmed' ? (
              <div style={{ color: '#666' }}>
                已确认（{RECEIPT_METHOD_LABELS[b.receiptMethod ?? ''] ?? ''}）{b.receiptAt ? formatDateTime(b.receiptAt) : ''}
              </div>
            ) : b.receiptStatus === 'unconfirmed' ? (
              <Button type="primary" block style={{ marginTop: 12 }} loading={busy === b.id} onClick={() => void confirm(b.id)}>
                确认收到
              </Button>
            ) : (
              <div style={{ color: '#888' }}>尚未发放，发放后可确认收到</div>
            )}
            {b.paid && (
              <div style={{ marginTop: 8 }}>
                <RateButton subjectType="warmth_benefit" subjectId={Number(b.id)} label={campaignName}
                  current={ratings.get(Number(b.id))} onRated={reloadRatings} />
              </div>
            )}
          </Card>
        ))
      )}
    </>
  );
}
