/** One member: masked personal data; revealing a value asks for a reason, which is audited. */
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Alert, App, Breadcrumb, Button, Card, Col, Descriptions, Form, Input, Row, Space, Tag, Timeline, Typography } from 'antd';
import { EditOutlined, EyeOutlined, LoginOutlined, LogoutOutlined, SafetyCertificateOutlined, StopOutlined, SwapOutlined } from '@ant-design/icons';
import { gql } from '../../api/client';
import { useGql } from '../../api/useGql';
import { MemberDetailDocument, MemberRevealDocument, type MemberRevealField, type MemberRevealMutation } from '../../graphql/generated';
import { useAuth } from '../../auth/AuthProvider';
import { PageContainer } from '../../components/PageContainer';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { MutationDialog } from '../../components/MutationDialog';
import { GENDER_LABELS, REVEAL_FIELD_LABELS, actorLabel, memberHistoryLabel } from '../../lib/labels';
import { DeceasedDialog, HouseholdEditor, LeaveDialog, RejoinDialog, TransferDialog, allowedActions, type LifecycleAction } from './MemberActions';
import { formatDate, formatDateTime } from '../../lib/format';

const REASON_HINTS = ['办理困难帮扶核实身份', '会员本人来电核对信息', '会籍转移核对'];

function Revealable({ memberId, field, masked, revealed, onReveal }: { memberId: string; field: MemberRevealField; masked: string | null; revealed?: string | null; onReveal: (field: MemberRevealField) => void }) {
  const { can } = useAuth();
  if (revealed !== undefined) {
    return (
      <Space wrap>
        <Typography.Text className="hj-mono-small" copyable={!!revealed}>
          {revealed ?? '（未登记）'}
        </Typography.Text>
        <Tag icon={<SafetyCertificateOutlined />} color="gold">
          已记入审计
        </Tag>
      </Space>
    );
  }
  return (
    <Space wrap>
      <span className="hj-mono-small">{masked ?? '—'}</span>
      {can('member.reveal') && masked ? (
        <Button size="small" icon={<EyeOutlined />} onClick={() => onReveal(field)} aria-label={`查看完整${REVEAL_FIELD_LABELS[field]}`} data-member={memberId}>
          查看完整{REVEAL_FIELD_LABELS[field]}
        </Button>
      ) : null}
    </Space>
  );
}

/** The dates and reason a lifecycle change carries (personal values are never in `changes`). */
function historyDetail(changes: unknown): string {
  if (!changes || typeof changes !== 'object') return '';
  const c = changes as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof c.left_on === 'string') parts.push(`退会日期 ${c.left_on}`);
  if (typeof c.died_on === 'string') parts.push(`去世日期 ${c.died_on}`);
  if (typeof c.joined_on === 'string') parts.push(`入会日期 ${c.joined_on}`);
  if (typeof c.reason === 'string' && c.reason) parts.push(`原因：${c.reason}`);
  return parts.join('；');
}

export default function MemberDetail() {
  const { id = '' } = useParams();
  const q = useGql(MemberDetailDocument, { id });
  const [revealing, setRevealing] = useState<MemberRevealField | null>(null);
  const [revealed, setRevealed] = useState<Partial<Record<MemberRevealField, string | null>>>({});
  const m = q.data?.member;
  const { can } = useAuth();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [acting, setActing] = useState<Exclude<LifecycleAction, 'edit'> | null>(null);
  const actions = m ? allowedActions(m.state, can) : [];
  const done = (text: string) => () => {
    setActing(null);
    message.success(text);
    // the state, dates and the history list all come from the same query
    void q.refetch();
  };

  return (
    <PageContainer
      title={m ? m.name : '会员详情'}
      subTitle={m ? `${m.orgUnit?.name ?? ''} · ${m.stateLabel}` : undefined}
      extra={
        m && actions.length ? (
          <Space wrap>
            {actions.includes('edit') && (
              <Button icon={<EditOutlined />} onClick={() => navigate(`/members/${encodeURIComponent(m.id)}/edit`)}>
                编辑
              </Button>
            )}
            {actions.includes('transfer') && (
              <Button icon={<SwapOutlined />} onClick={() => setActing('transfer')}>
                会籍转移
              </Button>
            )}
            {actions.includes('rejoin') && (
              <Button type="primary" icon={<LoginOutlined />} onClick={() => setActing('rejoin')}>
                重新入会
              </Button>
            )}
            {actions.includes('leave') && (
              <Button danger icon={<LogoutOutlined />} onClick={() => setActing('leave')}>
                退会
              </Button>
            )}
            {actions.includes('deceased') && (
              <Button danger icon={<StopOutlined />} onClick={() => setActing('deceased')}>
                登记去世
              </Button>
            )}
          </Space>
        ) : undefined
      }
    >
      <Breadcrumb style={{ marginBottom: 12 }} items={[{ title: <Link to="/members">会员管理</Link> }, { title: m?.name ?? '会员详情' }]} />
      {q.error ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <LoadingState />
      ) : !m ? (
        <EmptyState description="会员不存在，或不在您的管辖范围内" />
      ) : (
        <>
        {m.state === 'TRANSFERRING' && (
          <Alert
            type="info"
            showIcon
            style={{ marginBottom: 16 }}
            message="会籍转移办理中"
            description={
              <span>
                转出、转入双方工会审批后完成转移；可在<Link to="/members/transfers">会籍转移</Link>页面查看审批进度。
              </span>
            }
          />
        )}
        <Row gutter={[16, 16]}>
          <Col xs={24} xl={15}>
            <Card size="small" className="hj-panel hj-panel-flow" data-testid="member-basic" title={<Typography.Title level={2} className="hj-card-title">基本信息</Typography.Title>}>
              {/* Every breakpoint named: antd fills the missing ones with 3 columns, which at
                  1280–1440 px squeezed each value into a few characters (a name one character a line). */}
              <Descriptions
                column={{ xs: 1, sm: 1, md: 2, lg: 2, xl: 2, xxl: 2 }}
                size="small"
                bordered
                styles={{ label: { width: 110, whiteSpace: 'nowrap' }, content: { minWidth: '8em' } }}
              >
                <Descriptions.Item label="姓名">
                  <span className="hj-person-name" data-testid="member-name">
                    {m.name}
                  </span>
                </Descriptions.Item>
                <Descriptions.Item label="性别">{GENDER_LABELS[m.gender]}</Descriptions.Item>
                <Descriptions.Item label="身份证号" span="filled">
                  <Revealable memberId={m.id} field="ID_NUMBER" masked={m.idNumberMasked} revealed={revealed.ID_NUMBER} onReveal={setRevealing} />
                </Descriptions.Item>
                <Descriptions.Item label="出生日期" span="filled">
                  <Revealable memberId={m.id} field="BIRTH_DATE" masked={`${m.birthYear} 年（${m.age} 岁）`} revealed={revealed.BIRTH_DATE} onReveal={setRevealing} />
                </Descriptions.Item>
                <Descriptions.Item label="手机号" span="filled">
                  <Revealable memberId={m.id} field="PHONE" masked={m.phoneMasked ?? null} revealed={revealed.PHONE} onReveal={setRevealing} />
                </Descriptions.Item>
                <Descriptions.Item label="工作单位">{m.employer || '—'}</Descriptions.Item>
                <Descriptions.Item label="工作状态">{m.workStatusLabel}</Descriptions.Item>
                <Descriptions.Item label="所属工会">{m.orgUnit?.name ?? '—'}</Descriptions.Item>
                <Descriptions.Item label="会员状态">{m.stateLabel}</Descriptions.Item>
                <Descriptions.Item label="入会日期">{formatDate(m.joinedOn)}</Descriptions.Item>
                <Descriptions.Item label="退会日期">{formatDate(m.leftOn)}</Descriptions.Item>
                <Descriptions.Item label="标签" span="filled">
                  {m.tags.length ? m.tags.map((t) => <Tag key={t.code}>{t.label}</Tag>) : '—'}
                </Descriptions.Item>
              </Descriptions>
            </Card>
            <Card size="small" className="hj-panel hj-panel-flow" data-testid="member-household" style={{ marginTop: 16 }} title={<Typography.Title level={2} className="hj-card-title">家庭成员</Typography.Title>}>
              <HouseholdEditor member={m} onChanged={() => void q.refetch()} />
            </Card>
          </Col>
          <Col xs={24} xl={9}>
            <Card size="small" className="hj-panel hj-panel-flow" data-testid="member-history" title={<Typography.Title level={2} className="hj-card-title">变更记录</Typography.Title>}>
              {m.history.nodes.length === 0 ? (
                <EmptyState description="暂无变更记录" />
              ) : (
                <Timeline
                  items={m.history.nodes.map((h) => ({
                    children: (
                      <>
                        <div>{memberHistoryLabel(h.action)}</div>
                        {historyDetail(h.changes) && <div className="hj-history-detail">{historyDetail(h.changes)}</div>}
                        <Typography.Text type="secondary">
                          {actorLabel(h.actorName)} · {formatDateTime(h.at)}
                        </Typography.Text>
                      </>
                    ),
                  }))}
                />
              )}
            </Card>
          </Col>
        </Row>
        </>
      )}
      {m && acting === 'leave' && <LeaveDialog member={m} onClose={() => setActing(null)} onDone={done('已办理退会')} />}
      {m && acting === 'rejoin' && <RejoinDialog member={m} onClose={() => setActing(null)} onDone={done('已重新入会')} />}
      {m && acting === 'deceased' && <DeceasedDialog member={m} onClose={() => setActing(null)} onDone={done('已登记去世')} />}
      {m && acting === 'transfer' && <TransferDialog member={m} onClose={() => setActing(null)} onDone={done('会籍转移申请已提交，等待双方工会审批')} />}
      {revealing && m && (
        <RevealDialog
          memberId={m.id}
          memberName={m.name}
          field={revealing}
          onClose={() => setRevealing(null)}
          onDone={(value) => {
            setRevealed((r) => ({ ...r, [revealing]: value }));
            setRevealing(null);
          }}
        />
      )}
    </PageContainer>
  );
}

function RevealDialog({ memberId, memberName, field, onClose, onDone }: { memberId: string; memberName: string; field: MemberRevealField; onClose: () => void; onDone: (value: string | null) => void }) {
  const label = REVEAL_FIELD_LABELS[field];
  return (
    <MutationDialog<{ reason: string }, MemberRevealMutation['memberReveal']>
      title={`查看${memberName}的完整${label}`}
      okText="确认查看"
      name="member-reveal"
      onClose={onClose}
      intro={<Alert type="warning" showIcon style={{ marginBottom: 16 }} message="查看明文个人信息将记入审计日志（记录查看人、时间和理由，不记录信息本身）。请仅在办理业务确有需要时查看。" />}
      mutate={async (v) => (await gql(MemberRevealDocument, { id: memberId, field, reason: v.reason.trim() })).memberReveal}
      onDone={(r) => onDone(r.value ?? null)}
      errorOptions={{ messages: { 'reason.INVALID_INPUT': '请说明查看理由（至少几个字）', FORBIDDEN: '您没有查看明文个人信息的权限' } }}
    >
      <Form.Item label="查看理由" name="reason" rules={[{ required: true, whitespace: true, message: '请填写查看理由' }, { max: 200, message: '理由不能超过 200 个字' }]} extra={`例如：${REASON_HINTS.join('；')}`}>
        <Input.TextArea rows={3} autoFocus maxLength={200} showCount />
      </Form.Item>
    </MutationDialog>
  );
}
