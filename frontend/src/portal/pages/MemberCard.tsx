import { useEffect } from 'react';
import { Link } from 'react-router';
import { Button, Result } from 'antd';
import { QRCodeSVG } from 'qrcode.react';
import { useGql } from '../../api/useGql';
import { describeError } from '../../api/errors';
import { ErrorState, LoadingState } from '../../components/states';
import { MyCardDocument } from '../../graphql/generated';

/** Refresh the code a little before it expires, so what is shown always verifies. */
const REFRESH_MARGIN_MS = 30_000;

export default function MemberCardPage() {
  const { data, error, loading, refetch } = useGql(MyCardDocument);
  const card = data?.myWorker.card;

  useEffect(() => {
    if (!card) return;
    // Bounded both ways: never a busy loop, and never past setTimeout's 32-bit limit.
    const wait = Math.min(10 * 60_000, Math.max(5_000, Date.parse(String(card.qrExpiresAt)) - Date.now() - REFRESH_MARGIN_MS));
    const timer = window.setTimeout(() => void refetch(), wait);
    return () => window.clearTimeout(timer);
  }, [card, refetch]);

  if (loading && !data) return <LoadingState minHeight={280} tip="正在生成会员卡…" />;
  if (error) return <ErrorState error={error} title={describeError(error)} onRetry={() => void refetch()} />;
  if (!card) {
    const status = data?.myWorker.status;
    return (
      <Result
        status="info"
        title="暂无电子会员卡"
        subTitle={status === 'PROOF_NEEDED' ? '请先绑定会员身份' : '入会申请通过后即可领取电子会员卡'}
        extra={
          <Link to={status === 'PROOF_NEEDED' ? '/bind' : '/join'}>
            <Button type="primary">{status === 'PROOF_NEEDED' ? '去绑定' : '申请入会'}</Button>
          </Link>
        }
      />
    );
  }
  return (
    <div className="hj-portal-card" data-testid="member-card">
      <div style={{ fontSize: 13, opacity: 0.9 }}>中华全国总工会 · 电子会员卡</div>
      <div style={{ fontSize: 22, fontWeight: 700, margin: '8px 0' }}>{card.name}</div>
      <div>会员编号：<span data-testid="member-number">{card.memberNumber}</span></div>
      <div>所在工会：{card.unionName}</div>
      <div>入会日期：{card.joinedOn ?? '—'}</div>
      <div className="hj-portal-qr">
        <QRCodeSVG value={card.qrToken} size={200} level="M" aria-label="会员卡二维码" />
      </div>
      <div style={{ fontSize: 12, marginTop: 8, opacity: 0.9 }}>
        二维码 {new Date(String(card.qrExpiresAt)).toLocaleTimeString('zh-CN')} 前有效，过期自动刷新；请勿截图转发。
      </div>
      <Button ghost block style={{ marginTop: 8 }} onClick={() => void refetch()}>
        刷新二维码
      </Button>
    </div>
  );
}
