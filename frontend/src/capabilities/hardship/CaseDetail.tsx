/** 档案详情: household and masked personal data, classification with reasons (old and new side by
 * side after a re-check), the timeline, documents, aid, and exactly the steps the server allows. */
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { App, Breadcrumb, Button, Card, Col, Descriptions, Row, Space, Table, Tag, Timeline, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useGql } from '../../api/useGql';
import { HardshipArchiveDocument, HardshipGrantsDocument, HardshipHouseholdDocument, type HardshipClassificationFieldsFragment, type HardshipGrantAction, type HardshipGrantFieldsFragment } from '../../graphql/generated';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { formatDate, formatDateTime } from '../../lib/format';
import { actorLabel } from '../../lib/labels';
import { RecheckDialog, StepDialog, orderedActions, type RecheckResult } from './Actions';
import { Attachments } from './Attachments';
import { AidForm, GrantStepDialog, GrantsTable } from './Grants';
import { ACTION_LABELS, DANGER_ACTIONS, STATE_COLORS, STATE_LABELS, TIER_LABELS, WORK_STATUS_LABELS } from './labels';

const yesNo = (v: boolean) => (v ? '是' : '否');

function Classification({ c, title }: { c: HardshipClassificationFieldsFragment; title?: string }) {
  return (
    <div data-testid={title ? `classification-${title}` : 'classification'}>
      {title && <Typography.Text strong>{title}</Typography.Text>}
      <div style={{ margin: '4px 0' }}>
        <Tag color={c.category === 'none' ? 'default' : c.category === 'deep' ? 'red' : 'orange'}>{c.categoryLabel}</Tag>
        {c.excluded && <Tag color="default">不予建档情形</Tag>}
      </div>
      <ul className="hj-plain-list" aria-label="认定理由">
        {c.reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
      <Typography.Text type="secondary">
        规则版本 {c.ruleVersion}
        {c.at ? ` · ${formatDateTime(c.at)}` : ''}
      </Typography.Text>
    </div>
  );
}

function SideBySide({ previous, current }: { previous: HardshipClassificationFieldsFragment; current: HardshipClassificationFieldsFragment }) {
  return (
    <Row gutter={16} data-testid="recheck-compare">
      <Col xs={24} md={12}>
        <Classification c={previous} title="原认定" />
      </Col>
      <Col xs={24} md={12}>
        <Classification c={current} title="复核认定" />
      </Col>
    </Row>
  );
}

function Household({ id }: { id: string }) {
  const q = useGql(HardshipHouseholdDocument, { id });
  if (q.error) return <ErrorState error={q.error} onRetry={() => void q.refetch()} title="家庭成员加载失败" />;
  if (!q.data) return <LoadingState minHeight={80} />;
  const people = q.data.household?.people ?? [];
  return (
    <Table
      size="small"
      rowKey="id"
      pagination={false}
      dataSource={people}
      locale={{ emptyText: '未登记家庭成员' }}
      columns={[
        { title: '姓名', dataIndex: 'name' },
        { title: '关系', dataIndex: 'relationLabel' },
        { title: '身份证号', dataIndex: 'idNumberMasked', render: (v: string | null) => <span className="hj-mono-small">{v ?? '—'}</span> },
        { title: '出生年份', dataIndex: 'birthYear', responsive: ['md'], render: (v: number | null) => v ?? '—' },
      ]}
    />
  );
}

export default function HardshipCaseDetail() {
  const { id = '' } = useParams();
  const { can } = useAuth();
  const { message } = App.useApp();
  const q = useGql(HardshipArchiveDocument, { id });
  const grants = useGql(HardshipGrantsDocument, { archiveId: id });
  const [acting, setActing] = useState<string | null>(null);
  const [recheck, setRecheck] = useState<RecheckResult | null>(null);
  const [aid, setAid] = useState(false);
  const [grantStep, setGrantStep] = useState<{ grant: HardshipGrantFieldsFragment; action: HardshipGrantAction } | null>(null);
  const a = q.data?.hardshipArchive;
  const actions = a ? orderedActions(a.allowedActions) : [];
  const done = (text: string) => {
    setActing(null);
    message.success(text);
    void q.refetch();
  };
  const history = a?.classificationHistory ?? [];
  // Old beside new only for a re-check (复核); a civil-affairs check also reclassifies, and its
  // earlier results are listed under the current one instead.
  const rechecked = !!a?.timeline.some((s) => s.action === 'recheck');
  const compare = recheck?.previous && recheck.current ? recheck : rechecked && history.length >= 2 ? { previous: history[1], current: history[0] } : null;

  return (
    <PageContainer
      title={a ? `${a.householdName || '困难职工'}家庭档案` : '档案详情'}
      subTitle={a ? `${TIER_LABELS[a.tier]}档案 · ${a.stateLabel || STATE_LABELS[a.state]}` : undefined}
      extra={
        a && actions.length ? (
          <Space wrap>
            {actions.map((act) => (
              <Button key={act} type={act === 'approve' ? 'primary' : 'default'} danger={DANGER_ACTIONS.has(act)} onClick={() => setActing(act)}>
                {ACTION_LABELS[act]}
              </Button>
            ))}
          </Space>
        ) : undefined
      }
    >
      <Breadcrumb style={{ marginBottom: 12 }} items={[{ title: <Link to="/hardship/cases">困难职工档案</Link> }, { title: a?.householdName || '档案详情' }]} />
      {q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <LoadingState />
      ) : !a ? (
        <EmptyState description="档案不存在，或不在您的管辖范围内" />
      ) : (
        <Row gutter={[16, 16]}>
          <Col xs={24} xl={15}>
            <Card size="small" className="hj-panel hj-panel-flow" title={<Typography.Title level={2} className="hj-card-title">家庭与档案信息</Typography.Title>}>
              <Descriptions column={{ xs: 1, sm: 1, md: 2, lg: 2, xl: 2, xxl: 2 }} size="small" bordered styles={{ label: { width: 110, whiteSpace: 'nowrap' } }}>
                <Descriptions.Item label="状态">
                  <Tag color={STATE_COLORS[a.state]}>{a.stateLabel}</Tag>
                </Descriptions.Item>
                <Descriptions.Item label="档案类型">{a.kind === 'temporary' ? '临时救助' : '常规建档'}</Descriptions.Item>
                <Descriptions.Item label="建档级别">{TIER_LABELS[a.tier]}</Descriptions.Item>
                <Descriptions.Item label="地区代码">{a.areaCode}</Descriptions.Item>
                <Descriptions.Item label="家庭人口">{a.householdSize} 人</Descriptions.Item>
                <Descriptions.Item label="工作状态">{WORK_STATUS_LABELS[a.workStatus] ?? a.workStatus}</Descriptions.Item>
                <Descriptions.Item label="农民工">{yesNo(a.migrant)}</Descriptions.Item>
                <Descriptions.Item label="单亲家庭">{yesNo(a.singleParent)}</Descriptions.Item>
                <Descriptions.Item label="零就业家庭">{yesNo(a.zeroEmployment)}</Descriptions.Item>
                <Descriptions.Item label="住房">{a.housing || '—'}</Descriptions.Item>
                <Descriptions.Item label="医疗保险">{a.medicalInsurance || '—'}</Descriptions.Item>
                <Descriptions.Item label="主要致困原因">{a.mainCause || '—'}</Descriptions.Item>
                <Descriptions.Item label="次要致困原因">{a.secondaryCauses.length ? a.secondaryCauses.join('、') : '—'}</Descriptions.Item>
                <Descriptions.Item label="银行卡">
                  <span className="hj-mono-small">{a.bankCardMasked ?? '未登记'}</span>
                </Descriptions.Item>
                <Descriptions.Item label="申请日期">{formatDate(a.createdAt)}</Descriptions.Item>
                <Descriptions.Item label="复核到期">{formatDate(a.reverifyDueOn)}</Descriptions.Item>
              </Descriptions>
              <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 0 }}>
                健康、收入、银行卡等信息加密保存，不在页面显示。
              </Typography.Paragraph>
            </Card>
            <Card size="small" className="hj-panel hj-panel-flow" style={{ marginTop: 16 }} title={<Typography.Title level={2} className="hj-card-title">家庭成员</Typography.Title>}>
              <Household id={a.householdId} />
            </Card>
            <Card size="small" className="hj-panel hj-panel-flow" style={{ marginTop: 16 }} data-testid="hardship-classification" title={<Typography.Title level={2} className="hj-card-title">困难认定</Typography.Title>}>
              {compare ? <SideBySide previous={compare.previous!} current={compare.current!} /> : <Classification c={a.classification} />}
              {history.length > 1 && (
                <div style={{ marginTop: 12 }} data-testid="classification-history">
                  <Typography.Text strong>认定记录</Typography.Text>
                  <ul className="hj-plain-list">
                    {history.map((h, i) => (
                      <li key={`${h.at}-${i}`}>
                        {formatDateTime(h.at)} · {h.categoryLabel} · 规则版本 {h.ruleVersion}
                      </li>
                    ))}
                  </ul>
                </div>
              )}
            </Card>
            <Card size="small" className="hj-panel hj-panel-flow" style={{ marginTop: 16 }} data-testid="hardship-attachments" title={<Typography.Title level={2} className="hj-card-title">材料</Typography.Title>}>
              <Attachments archiveId={a.id} attachments={a.attachments} canUpload={can('hardship.write')} onChanged={() => void q.refetch()} />
            </Card>
            <Card
              size="small"
              className="hj-panel hj-panel-flow"
              style={{ marginTop: 16 }}
              data-testid="hardship-grants"
              title={<Typography.Title level={2} className="hj-card-title">帮扶救助</Typography.Title>}
              extra={
                can('hardship.write') && a.state === 'archived' ? (
                  <Button size="small" type="primary" icon={<PlusOutlined />} onClick={() => setAid(true)}>
                    申请救助
                  </Button>
                ) : undefined
              }
            >
              {grants.error ? (
                <ErrorState error={grants.error} onRetry={() => void grants.refetch()} title="救助记录加载失败" />
              ) : !grants.data ? (
                <LoadingState minHeight={80} />
              ) : (
                <GrantsTable grants={grants.data.hardshipGrants} can={can} onAct={(grant, action) => setGrantStep({ grant, action })} />
              )}
            </Card>
          </Col>
          <Col xs={24} xl={9}>
            <Card size="small" className="hj-panel hj-panel-flow" data-testid="hardship-timeline" title={<Typography.Title level={2} className="hj-card-title">办理进度</Typography.Title>}>
              <Timeline
                items={a.timeline.map((s) => ({
                  color: s.action === 'reject' || s.action === 'cancel' ? 'red' : s.toState === 'archived' ? 'green' : 'blue',
                  children: (
                    <>
                      <div>
                        {s.actionLabel} → {STATE_LABELS[s.toState] ?? s.toState}
                      </div>
                      {s.reasons.length > 0 && <div className="hj-history-detail">{s.reasons.join('；')}</div>}
                      <Typography.Text type="secondary">
                        {actorLabel(s.actorName)} · {formatDateTime(s.at)}
                      </Typography.Text>
                    </>
                  ),
                }))}
              />
            </Card>
          </Col>
        </Row>
      )}
      {a && acting && acting !== 'recheck' && <StepDialog archive={a} action={acting} onClose={() => setActing(null)} onDone={() => done(`已办理：${ACTION_LABELS[acting]}`)} />}
      {a && acting === 'recheck' && (
        <RecheckDialog
          archive={a}
          onClose={() => setActing(null)}
          onDone={(r) => {
            setRecheck(r);
            done('复核完成');
          }}
        />
      )}
      {a && aid && (
        <AidForm
          archiveId={a.id}
          onClose={() => setAid(false)}
          onDone={() => {
            setAid(false);
            message.success('已提交救助申请');
            void grants.refetch();
          }}
        />
      )}
      {grantStep && (
        <GrantStepDialog
          grant={grantStep.grant}
          action={grantStep.action}
          onClose={() => setGrantStep(null)}
          onDone={() => {
            setGrantStep(null);
            message.success('已办理');
            void grants.refetch();
          }}
        />
      )}
    </PageContainer>
  );
}
