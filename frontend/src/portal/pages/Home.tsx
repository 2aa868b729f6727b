import { Link } from 'react-router';
import { Alert, Button, Card } from 'antd';
import { useWorker } from '../worker';
import { visibleEntries } from '../registry';
import { EmptyState } from '../../components/states';

const STATUS_TEXT = {
  MEMBER: '您已绑定会员身份',
  PROOF_NEEDED: '已有使用您身份证号码的会员档案，请完成身份绑定',
  NOT_MEMBER: '您还不是工会会员，可在线申请入会',
} as const;

export default function Home() {
  const { worker } = useWorker();
  const tiles = visibleEntries(worker.capabilities, worker.status === 'MEMBER');
  return (
    <>
      <Card size="small" style={{ marginBottom: 12 }}>
        <div style={{ fontSize: 18, fontWeight: 600 }}>{worker.name}，您好</div>
        <div style={{ color: '#666', marginTop: 4 }}>{STATUS_TEXT[worker.status]}</div>
        <div style={{ marginTop: 12 }}>
          {worker.status === 'MEMBER' && (
            <Link to="/card">
              <Button type="primary" block>查看电子会员卡</Button>
            </Link>
          )}
          {worker.status === 'PROOF_NEEDED' && (
            <Link to="/bind">
              <Button type="primary" block>绑定会员身份</Button>
            </Link>
          )}
          {worker.status === 'NOT_MEMBER' && (
            <Link to="/join">
              <Button type="primary" block>申请入会</Button>
            </Link>
          )}
        </div>
      </Card>
      <h2 style={{ fontSize: 16, margin: '16px 4px 8px' }}>服务</h2>
      {tiles.length === 0 ? (
        <EmptyState description="本省（市）暂未开通在线服务，敬请期待" />
      ) : (
        <div className="hj-portal-tiles">
          {tiles.map((t) => (
            <Link key={t.path} to={`/${t.path}`}>
              <Card size="small" hoverable>
                <div style={{ fontWeight: 600 }}>{t.title}</div>
                {t.description && <div style={{ color: '#888', fontSize: 12 }}>{t.description}</div>}
              </Card>
            </Link>
          ))}
        </div>
      )}
      {/* 12351 is the unions' national rights hotline; on a phone the link dials it. */}
      <Alert style={{ marginTop: 16 }} type="info" showIcon
        message={<a href="tel:12351">职工维权服务热线 12351（点击拨打）</a>} />
    </>
  );
}
