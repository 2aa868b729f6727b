import { Card, Col, Row, Typography } from 'antd';
import { useAuth } from '../auth/AuthProvider';
import { PageContainer } from '../components/PageContainer';
import { PANELS } from '../dashboard/panels';
import { visibleEntries } from '../routes/access';

function greeting(): string {
  const h = new Date().getHours();
  if (h < 6) return '夜深了';
  if (h < 12) return '上午好';
  if (h < 14) return '中午好';
  if (h < 18) return '下午好';
  return '晚上好';
}

export default function Dashboard() {
  const { me, permissions } = useAuth();
  const panels = visibleEntries(
    PANELS.map((p) => ({ ...p, path: p.key, label: p.title })),
    permissions,
  );
  const stats = panels.filter((p) => p.kind === 'stat');
  const rest = panels.filter((p) => p.kind === 'panel');
  return (
    <PageContainer title="工作台" subTitle={`${greeting()}，${me.user.displayName || me.user.username}。欢迎使用${me.tenant.name}管理后台。`}>
      {stats.length > 0 && (
        <Row gutter={[16, 16]} className="hj-stats">
          {stats.map((p) => (
            <Col key={p.key} flex="1 1 150px">
              <p.component />
            </Col>
          ))}
        </Row>
      )}
      <Row gutter={[16, 16]} style={{ marginTop: stats.length ? 16 : 0 }}>
        {rest.map((p) => (
          <Col key={p.key} xs={24} xl={p.span ?? 24}>
            <Card
              title={
                <Typography.Title level={2} className="hj-card-title">
                  {p.title}
                </Typography.Title>
              }
              size="small"
              className="hj-panel"
            >
              <p.component />
            </Card>
          </Col>
        ))}
      </Row>
    </PageContainer>
  );
}
