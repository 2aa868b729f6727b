/** 我的诉求: the worker's own requests with their status and clocks; rate one once it is resolved. */
import { Link } from 'react-router';
import { Button, Card, List, Tag } from 'antd';
import { useGql } from '../../../api/useGql';
import { EmptyState, ErrorState, LoadingState } from '../../../components/states';
import { formatDateTime } from '../../../lib/format';
import { SnMyRequestsDocument } from '../../../graphql/generated';
import { SlaTag } from '../common';
import { currentSla } from '../Requests';

const DONE = new Set(['resolved', 'closed']);

export default function MyRequests() {
  const q = useGql(SnMyRequestsDocument);
  return (
    <>
      <h1 className="hj-portal-title">我的诉求</h1>
      {q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : q.loading && !q.data ? (
        <LoadingState minHeight={120} />
      ) : !q.data?.myServiceRequests.length ? (
        <EmptyState description="您还没有提交过诉求">
          <Link to="/service-requests/new"><Button type="primary">我要求助</Button></Link>
        </EmptyState>
      ) : (
        <List
          aria-label="我的诉求"
          dataSource={q.data.myServiceRequests}
          renderItem={(r) => {
            const sla = currentSla(r);
            return (
              <Card size="small" key={r.id} style={{ marginBottom: 8 }} data-testid="my-request">
                <div style={{ display: 'flex', justifyContent: 'space-between', gap: 8 }}>
                  <strong>{r.categoryLabelZh}</strong>
                  <Tag color={DONE.has(r.state) ? 'green' : r.state === 'rejected' ? 'default' : 'processing'}>{r.stateLabelZh}</Tag>
                </div>
                <div style={{ margin: '4px 0', color: '#333' }}>{r.summary}</div>
                <div style={{ fontSize: 12, color: '#888' }}>提交于 {formatDateTime(r.createdAt)}{r.socialOrg ? ` · 转介至 ${r.socialOrg}` : ''}</div>
                {!DONE.has(r.state) && r.state !== 'rejected' && <SlaTag value={sla.value} label={sla.label} />}
                {DONE.has(r.state) && (
                  <Link to={`/ratings/new?type=service_request&id=${encodeURIComponent(r.id)}`}>
                    <Button size="small" style={{ marginTop: 8 }}>评价本次服务</Button>
                  </Link>
                )}
              </Card>
            );
          }}
        />
      )}
    </>
  );
}
