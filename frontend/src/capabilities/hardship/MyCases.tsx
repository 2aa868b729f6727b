/** 我的帮扶 (portal): the worker's own case, its status and dated steps, and aid granted. */
import { Link } from 'react-router';
import { Button, Card, List, Tag, Timeline } from 'antd';
import { useGql } from '../../api/useGql';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { MyHardshipCasesDocument } from '../../graphql/generated';
import { formatDate, formatDateTime } from '../../lib/format';
import { formatYuan } from '../../lib/money';
import { STATE_COLORS } from './labels';
import { RateButton, dbIdOf, useMyRatings } from '../../portal/rating/RateButton';

export default function MyCases() {
  const { data, error, refetch } = useGql(MyHardshipCasesDocument);
  const { ratings, reload: reloadRatings } = useMyRatings('hardship_grant');
  if (error) return <ErrorState error={error} onRetry={() => void refetch()} />;
  if (!data) return <LoadingState minHeight={160} />;
  const cases = data.myHardshipCases;
  return (
    <>
      <h1 style={{ fontSize: 18, margin: '4px 4px 12px' }}>我的帮扶</h1>
      {cases.length === 0 ? (
        <EmptyState description="您还没有帮扶申请">
          <Link to="/hardship/self-test">
            <Button type="primary">先做困难自测</Button>
          </Link>
        </EmptyState>
      ) : (
        cases.map((c) => (
          <Card
            key={c.id}
            size="small"
            style={{ marginBottom: 12 }}
            data-testid="my-hardship-case"
            title={
              <>
                帮扶申请 <Tag color={STATE_COLORS[c.state]}>{c.stateLabel}</Tag>
              </>
            }
            extra={<span style={{ color: '#888', fontSize: 12 }}>{formatDate(c.createdAt)}</span>}
          >
            <div style={{ marginBottom: 8 }}>
              认定类别：<strong>{c.categoryLabel}</strong>
            </div>
            <Timeline
              style={{ marginTop: 12 }}
              items={c.timeline.map((s) => ({
                children: (
                  <>
                    <div>
                      {s.actionLabel}（{s.stateLabel}）
                    </div>
                    {s.reasons.length > 0 && <div style={{ color: '#666' }}>理由：{s.reasons.join('；')}</div>}
                    <div style={{ color: '#888', fontSize: 12 }}>{formatDateTime(s.at)}</div>
                  </>
                ),
              }))}
            />
            {c.grants.length > 0 && (
              <List
                size="small"
                header={<strong>救助记录</strong>}
                dataSource={c.grants}
                renderItem={(g) => (
                  <List.Item
                    data-testid="my-hardship-grant"
                    extra={g.state === 'paid' && (
                      <RateButton subjectType="hardship_grant" subjectId={dbIdOf(g.id)} label={`${g.aidTypeLabel} ${formatYuan(g.amountFen)}`}
                        current={ratings.get(dbIdOf(g.id))} onRated={reloadRatings} />
                    )}
                  >
                    {g.aidTypeLabel} {formatYuan(g.amountFen)} <Tag>{g.stateLabel}</Tag>
                  </List.Item>
                )}
              />
            )}
          </Card>
        ))
      )}
    </>
  );
}
