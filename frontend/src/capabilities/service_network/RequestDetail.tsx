/** 诉求详情: the request, both SLA clocks, its timeline, and the steps your role allows now. */
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { Button, Card, Descriptions, Form, Input, Space, Timeline, message } from 'antd';
import { PageContainer } from '../../components/PageContainer';
import { AsyncView } from '../../components/states';
import { MutationDialog } from '../../components/MutationDialog';
import { useGql } from '../../api/useGql';
import { gql } from '../../api/client';
import { formatDateTime } from '../../lib/format';
import { SnServiceRequestDocument, SnServiceRequestStepDocument, type SnServiceRequestQuery, type SnServiceRequestStepMutation } from '../../graphql/generated';
import { CHANNELS, NEEDS_REASON, STATES, SlaTag, TRANSITIONS, useUnitNames } from './common';

type Req = NonNullable<SnServiceRequestQuery['serviceRequest']>;

function StepDialog({ req, transition, onClose, onDone }: { req: Req; transition: string; onClose: () => void; onDone: () => Promise<void> }) {
  const needsReason = NEEDS_REASON.has(transition);
  return (
    <MutationDialog<{ reason?: string }, SnServiceRequestStepMutation['serviceRequestStep']>
      title={`${TRANSITIONS[transition] ?? transition}：${req.categoryLabelZh}`}
      okText={TRANSITIONS[transition] ?? '确定'}
      danger={transition === 'reject'}
      name="sn-step"
      onClose={onClose}
      mutate={async (v) =>
        (await gql(SnServiceRequestStepDocument, { id: req.id, transition, reasons: v.reason?.trim() ? [v.reason.trim()] : null, expectedVersion: req.version })).serviceRequestStep
      }
      isDone={(r) => !!r.request}
      onDone={async () => {
        message.success('已处理');
        onClose();
        await onDone();
      }}
      errorOptions={{ fieldMap: { reasons: 'reason' }, messages: { 'expectedVersion.CONFLICT': '该诉求已被他人处理，请关闭后刷新页面' } }}
    >
      <Form.Item label={needsReason ? '理由' : '处理说明（可不填）'} name="reason" rules={needsReason ? [{ required: true, whitespace: true, message: '请填写理由' }] : []}>
        <Input.TextArea rows={3} maxLength={500} />
      </Form.Item>
    </MutationDialog>
  );
}

export default function RequestDetail() {
  const { id = '' } = useParams();
  const unitName = useUnitNames();
  const q = useGql(SnServiceRequestDocument, { id });
  const [step, setStep] = useState<string | null>(null);
  return (
    <PageContainer title="诉求详情" extra={<Link to="/service-network/requests">返回诉求列表</Link>}>
      <AsyncView loading={q.loading} error={q.error} data={q.data} onRetry={() => void q.refetch()} isEmpty={(d) => !d.serviceRequest} emptyText="未找到该诉求，或它不在您的管理范围内">
        {(d) => {
          const r = d.serviceRequest as Req;
          const actions = r.allowedTransitions.filter((t) => t !== 'auto_close');
          return (
            <>
              <Card size="small" className="hj-panel-flow" style={{ marginBottom: 12 }}>
                <Descriptions size="small" column={{ xs: 1, sm: 1, md: 2, lg: 2, xl: 3, xxl: 3 }}>
                  <Descriptions.Item label="类别">{r.categoryLabelZh}</Descriptions.Item>
                  <Descriptions.Item label="状态">{r.stateLabelZh}</Descriptions.Item>
                  <Descriptions.Item label="来源">{CHANNELS[r.channel] ?? r.channel}</Descriptions.Item>
                  <Descriptions.Item label="诉求人">{r.requesterName || '（未留姓名）'}</Descriptions.Item>
                  <Descriptions.Item label="联系电话">{r.phoneMasked ?? '—'}</Descriptions.Item>
                  <Descriptions.Item label="承办单位">{r.socialOrg ? `转介：${r.socialOrg}` : unitName(r.orgUnitId)}</Descriptions.Item>
                  <Descriptions.Item label="提交时间">{formatDateTime(r.createdAt)}</Descriptions.Item>
                  <Descriptions.Item label="首次响应时限">
                    {formatDateTime(r.firstResponseDue)} <SlaTag value={r.responseSla} />
                  </Descriptions.Item>
                  <Descriptions.Item label="办结时限">
                    {formatDateTime(r.resolutionDue)} <SlaTag value={r.resolutionSla} />
                  </Descriptions.Item>
                  <Descriptions.Item label="诉求内容" span={3}>{r.summary}</Descriptions.Item>
                </Descriptions>
                {actions.length > 0 && (
                  <Space wrap style={{ marginTop: 8 }}>
                    {actions.map((t) => (
                      <Button key={t} type={t === 'accept' || t === 'resolve' ? 'primary' : 'default'} danger={t === 'reject'} onClick={() => setStep(t)}>
                        {TRANSITIONS[t] ?? t}
                      </Button>
                    ))}
                  </Space>
                )}
              </Card>
              <Card size="small" title="办理过程" className="hj-panel-flow">
                <Timeline
                  items={r.timeline.map((s) => ({
                    key: `${s.at}-${s.transition}`,
                    children: (
                      <div>
                        <div>
                          <strong>{TRANSITIONS[s.transition] ?? s.transition}</strong> → {STATES[s.toState] ?? s.toState}
                          <span style={{ color: '#888', marginLeft: 8 }}>{s.actorName} · {formatDateTime(s.at)}</span>
                        </div>
                        {s.reasons.length > 0 && <div style={{ color: '#555' }}>理由：{s.reasons.join('；')}</div>}
                      </div>
                    ),
                  }))}
                />
              </Card>
              {step && <StepDialog req={r} transition={step} onClose={() => setStep(null)} onDone={async () => void (await q.refetch())} />}
            </>
          );
        }}
      </AsyncView>
    </PageContainer>
  );
}
