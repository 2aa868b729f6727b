/**
 * 采购项目详情: the call and its steps (publish, cancel), Q&A, the tender box (sealed before the
 * deadline), the evaluator panel (declaration first, then the criteria form), the ranking with
 * outliers, award with reasons, complaints, and signing the contract with its milestones.
 */
import { useState } from 'react';
import { useParams } from 'react-router';
import { Alert, Button, Card, Descriptions, Form, Input, InputNumber, Select, Space, Table, Tag, Typography } from 'antd';
import { PageContainer } from '../../components/PageContainer';
import { AsyncView } from '../../components/states';
import { MutationDialog } from '../../components/MutationDialog';
import { useAuth } from '../../auth/AuthProvider';
import { useGql } from '../../api/useGql';
import { gql } from '../../api/client';
import { describeError } from '../../api/errors';
import { formatYuan } from '../../lib/money';
import {
  PcCallAwardDocument,
  PcCallBidsDocument,
  PcCallDocument,
  PcCallResultsDocument,
  PcCallStepDocument,
  PcComplaintResolveDocument,
  PcContractSignDocument,
  PcEligibleEvaluatorsDocument,
  PcPanelAppointDocument,
  PcPanelDeclareDocument,
  PcQuestionAnswerDocument,
  PcScoreSubmitDocument,
  type CallFieldsFragment,
  type CallStep,
  type PcCallAwardMutation,
  type PcCallResultsQuery,
  type PcCallStepMutation,
  type PcComplaintResolveMutation,
  type PcContractSignMutation,
  type PcPanelAppointMutation,
  type PcQuestionAnswerMutation,
  type PcScoreSubmitMutation,
} from '../../graphql/generated';
import { COMPLAINT_OUTCOME, DocumentLinks, SEALED_STATES, StatusTag, dateTime, points, toastErrors, useUnitNames } from './common';

type Call = CallFieldsFragment;
type Results = PcCallResultsQuery['procurementCallResults'];
const splitLines = (s: string) => s.split('\n').map((x) => x.trim()).filter(Boolean);

const STEP_TEXT: Record<string, { title: string; ok: string }> = {
  CANCEL: { title: '取消采购项目', ok: '取消项目' },
  FAIL: { title: '流标', ok: '确认流标' },
};

function Sealed({ call }: { call: Call }) {
  return (
    <Alert type="info" showIcon data-testid="bids-sealed"
      message="投标文件已密封"
      description={`投标截止（${dateTime(call.tenderEnd)}）并进入评审后方可开启，任何人（包括管理员）在此之前都不能查看报价和投标文件。`} />
  );
}

function BidOverview({ call }: { call: Call }) {
  const bids = useGql(PcCallBidsDocument, { callId: call.id });
  return (
    <AsyncView {...bids} onRetry={() => void bids.refetch()}>
      {(d) => (
        <Table size="small" rowKey="id" pagination={false} dataSource={d.procurementCallBids} locale={{ emptyText: '没有投标' }}
          columns={[
            { title: '投标组织', dataIndex: 'orgName', render: (n: string, r) => <>{n}{r.hasOwnUnion && <Tag color="red" style={{ marginLeft: 4 }}>已建工会</Tag>}</> },
            { title: '报价', dataIndex: 'priceFen', render: (v) => formatYuan(v), align: 'right' },
            { title: '投标时间', dataIndex: 'submittedAt', render: dateTime },
            { title: '投标文件', key: 'documents', render: (_: unknown, r) => <DocumentLinks documents={r.documents} empty="无" /> },
          ]} />
      )}
    </AsyncView>
  );
}

/**
 * The evaluator picker: users holding the evaluator role at the call's union or above, searched by
 * name on the server (an approver has no user.read, so no user list of its own to pick from).
 */
function EvaluatorPicker({ callId, value, onChange }: { callId: string; value?: string; onChange?: (v: string) => void }) {
  const [search, setSearch] = useState('');
  const q = useGql(PcEligibleEvaluatorsDocument, { callId, search: search.trim() || null });
  const options = (q.data?.procurementEligibleEvaluators ?? []).map((u) => ({
    value: u.userId, label: u.displayName ? `${u.displayName}（${u.username}）` : u.username,
  }));
  return (
    <Select id="pc-evaluator" showSearch filterOption={false} value={value} onChange={onChange} onSearch={setSearch}
      loading={q.loading} options={options} placeholder="输入姓名或用户名搜索" aria-label="评审专家"
      notFoundContent={q.loading ? '正在查询…' : '没有可指定的评审专家'} />
  );
}

function Complaints({ call, canResolve, onChange }: { call: Call; canResolve: boolean; onChange: () => void }) {
  const [deciding, setDeciding] = useState<{ id: string; uphold: boolean } | null>(null);
  return (
    <>
      <Table size="small" rowKey="id" pagination={false} dataSource={call.complaints} aria-label="投诉"
        columns={[
          { title: '投诉人', dataIndex: 'orgName' },
          { title: '投诉内容', dataIndex: 'text', render: (t: string) => <span style={{ whiteSpace: 'pre-wrap' }}>{t}</span> },
          { title: '提出时间', dataIndex: 'createdAt', render: dateTime, responsive: ['md'] },
          { title: '处理结果', dataIndex: 'outcome', render: (o: string) => <StatusTag map={COMPLAINT_OUTCOME} value={o} /> },
          { title: '处理意见', dataIndex: 'resolution', render: (r: string, c) => r || (canResolve && !c.outcome && call.state === 'complaint' ? (
            <Space size={4}>
              <Button size="small" onClick={() => setDeciding({ id: c.id, uphold: false })}>驳回投诉</Button>
              <Button size="small" danger onClick={() => setDeciding({ id: c.id, uphold: true })}>投诉成立</Button>
            </Space>
          ) : '—') },
        ]} />
      {deciding && (
        <MutationDialog<{ resolution: string }, PcComplaintResolveMutation['procurementComplaintResolve']>
          title={deciding.uphold ? '投诉成立（撤销中标，退回评审）' : '驳回投诉（公示期重新计算）'}
          okText={deciding.uphold ? '投诉成立' : '驳回投诉'} danger={deciding.uphold} name="pc-resolve"
          onClose={() => setDeciding(null)}
          mutate={async (v) => (await gql(PcComplaintResolveDocument, { complaintId: deciding.id, uphold: deciding.uphold, resolution: v.resolution.trim() })).procurementComplaintResolve}
          isDone={(r) => !!r.complaint}
          onDone={() => { setDeciding(null); onChange(); }}
        >
          <Form.Item label="处理意见" name="resolution" rules={[{ required: true, whitespace: true, message: '请填写处理意见' }]}
            extra="处理意见随投诉保存，投诉人可以看到">
            <Input.TextArea rows={3} maxLength={2000} />
          </Form.Item>
        </MutationDialog>
      )}
    </>
  );
}

function ScoreForm({ call, results, bidId, onDone }: { call: Call; results: Results; bidId: string; onDone: () => void }) {
  const bid = results.bids.find((b) => b.bidId === bidId);
  return (
    <MutationDialog<Record<string, number>, PcScoreSubmitMutation['procurementScoreSubmit']>
      title={`评分：${bid?.orgName ?? ''}`} okText="提交评分" name="pc-score" onClose={onDone}
      mutate={async (v) => (await gql(PcScoreSubmitDocument, {
        callId: call.id, bidId, scores: results.criteria.map((c) => ({ criterion: c.code, points: v[c.code] })),
      })).procurementScoreSubmit}
      isDone={(r) => r.scored}
      onDone={() => { toastErrors([], '评分已提交'); onDone(); }}
    >
      {results.criteria.map((c) => (
        <Form.Item key={c.code} label={`${c.label}（权重 ${points(c.weightBp)}%）`} name={c.code} rules={[{ required: true, message: '请打分（0–100）' }]}>
          <InputNumber min={0} max={100} precision={0} style={{ width: 160 }} />
        </Form.Item>
      ))}
    </MutationDialog>
  );
}

function Ranking({ call, results, canScore, refetch }: { call: Call; results: Results; canScore: boolean; refetch: () => void }) {
  const [scoring, setScoring] = useState<string | null>(null);
  return (
    <>
      {!results.complete && <Alert type="warning" showIcon style={{ marginBottom: 8 }} message="评审尚未完成：仍有评审专家未对全部投标打分" />}
      <Table size="small" rowKey="bidId" pagination={false} dataSource={results.bids} aria-label="评审排名"
        columns={[
          { title: '排名', dataIndex: 'rank', width: 60 },
          { title: '投标组织', dataIndex: 'orgName', render: (n: string, r) => <>{n}{r.wonTieByUnion && <Tag color="red" style={{ marginLeft: 4 }}>同分优先（已建工会）</Tag>}</> },
          { title: '报价', dataIndex: 'priceFen', render: (v) => formatYuan(v), align: 'right' },
          { title: '专家均分', dataIndex: 'panelBp', render: points },
          { title: '绩效分', dataIndex: 'performanceBp', render: points },
          { title: '综合得分', dataIndex: 'totalBp', render: points },
          {
            title: '各专家得分', key: 'ev', render: (_: unknown, r) => (
              <Space size={2} wrap>
                {r.evaluatorTotals.map((e, i) => (
                  <Tag key={e.evaluatorId} color={e.outlier ? 'orange' : undefined} title={e.outlier ? '偏离中位数过大' : undefined}>
                    专家{i + 1}：{points(e.totalBp)}{e.outlier ? '（异常）' : ''}
                  </Tag>
                ))}
              </Space>
            ),
          },
          ...(canScore && call.state === 'evaluation'
            ? [{ title: '操作', key: 'a', render: (_: unknown, r: Results['bids'][number]) => <Button size="small" onClick={() => setScoring(r.bidId)}>评分</Button> }]
            : []),
        ]} />
      {scoring && <ScoreForm call={call} results={results} bidId={scoring} onDone={() => { setScoring(null); refetch(); }} />}
    </>
  );
}

function ResultsPanel({ call, canScore }: { call: Call; canScore: boolean }) {
  const results = useGql(PcCallResultsDocument, { callId: call.id });
  return <AsyncView {...results} onRetry={() => void results.refetch()}>{(d) => <Ranking call={call} results={d.procurementCallResults} canScore={canScore} refetch={() => void results.refetch()} />}</AsyncView>;
}

export default function CallDetail() {
  const { id = '' } = useParams();
  const { can, me } = useAuth();
  const unitName = useUnitNames();
  const q = useGql(PcCallDocument, { id });
  const [step, setStep] = useState<CallStep | null>(null);
  const [answering, setAnswering] = useState<string | null>(null);
  const [appointing, setAppointing] = useState(false);
  const [awarding, setAwarding] = useState<string | null>(null);
  const [signing, setSigning] = useState(false);
  const refetch = () => void q.refetch();

  const publish = async (call: Call) => {
    try {
      const r = (await gql(PcCallStepDocument, { callId: call.id, step: 'PUBLISH', expectedVersion: call.version })).procurementCallStep;
      if (toastErrors(r.errors, '已发布，进入答疑期')) refetch();
    } catch (e) {
      toastErrors([{ message: describeError(e) }], '');
    }
  };
  const declare = async (call: Call, noConflict: boolean) => {
    const r = (await gql(PcPanelDeclareDocument, { callId: call.id, noConflict })).procurementPanelDeclare;
    if (toastErrors(r.errors, noConflict ? '已声明无利益冲突' : '已声明存在利益冲突，回避本项目评审')) refetch();
  };

  return (
    <AsyncView {...q} onRetry={() => void q.refetch()}>
      {(d) => {
        const call = d.procurementCall;
        if (!call) return <PageContainer title="采购项目"><Alert type="error" message="采购项目不存在，或您无权查看" /></PageContainer>;
        const panel = d.procurementCallPanel;
        const mine = panel.find((m) => m.userId === me?.user.id);
        const sealed = SEALED_STATES.has(call.state);
        const canPublish = can('procurement.call.publish');
        const canAward = can('procurement.call.award');
        const open = !['contracted', 'cancelled', 'unsuccessful'].includes(call.state);
        const award = d.procurementCall?.awardBidId;
        return (
          <PageContainer title={call.title} subTitle={<Tag color="blue" data-testid="call-state">{call.stateLabel}</Tag>}
            extra={
              <Space wrap>
                {call.state === 'draft' && canPublish && <Button type="primary" onClick={() => void publish(call)}>发布</Button>}
                {call.state === 'evaluation' && canAward && <Button danger onClick={() => setStep('FAIL')}>流标</Button>}
                {call.state === 'awarded' && can('procurement.contract.sign') && <Button type="primary" onClick={() => setSigning(true)}>签订合同</Button>}
                {open && canPublish && <Button danger onClick={() => setStep('CANCEL')}>取消项目</Button>}
              </Space>
            }>
            <Card size="small" className="hj-panel-flow" style={{ marginBottom: 12 }}>
              <Descriptions size="small" column={{ xs: 1, md: 2, xl: 3 }}>
                <Descriptions.Item label="采购单位">{unitName(call.orgUnitId)}</Descriptions.Item>
                <Descriptions.Item label="预算">{formatYuan(call.budgetFen)}</Descriptions.Item>
                <Descriptions.Item label="对应服务需求">{call.need ? `${call.need.title}（${call.need.categoryLabel}，预算 ${formatYuan(call.need.budgetFen)}）` : '—'}</Descriptions.Item>
                <Descriptions.Item label="地区代码">{call.areaCode}</Descriptions.Item>
                <Descriptions.Item label="发布时间">{dateTime(call.publishedAt)}</Descriptions.Item>
                <Descriptions.Item label="答疑截止">{dateTime(call.enquiryEnd)}</Descriptions.Item>
                <Descriptions.Item label="投标截止">{dateTime(call.tenderEnd)}</Descriptions.Item>
                <Descriptions.Item label="公示截止">{dateTime(call.standstillEnd)}</Descriptions.Item>
                {call.awardReasons.length > 0 && <Descriptions.Item label="定标理由">{call.awardReasons.join('；')}</Descriptions.Item>}
              </Descriptions>
              {call.description && <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', marginBottom: 0 }}>{call.description}</Typography.Paragraph>}
            </Card>

            <Card size="small" title="答疑" className="hj-panel-flow" style={{ marginBottom: 12 }}>
              <Table size="small" rowKey="id" pagination={false} dataSource={call.questions} locale={{ emptyText: '暂无提问' }}
                columns={[
                  { title: '提问', dataIndex: 'question' },
                  { title: '提问时间', dataIndex: 'askedAt', render: dateTime, responsive: ['md'] },
                  { title: '答复', dataIndex: 'answer', render: (a: string, r) => a || (can('procurement.call.draft') && sealed
                    ? <Button size="small" onClick={() => setAnswering(r.id)}>答复</Button> : <Typography.Text type="secondary">待答复</Typography.Text>) },
                ]} />
            </Card>

            <Card size="small" title="评审专家" className="hj-panel-flow" style={{ marginBottom: 12 }}
              extra={canAward && open ? <Button size="small" onClick={() => setAppointing(true)}>指定评审专家</Button> : null}>
              <Space wrap>
                {panel.length ? panel.map((m) => (
                  <Tag key={m.userId} color={m.conflict ? 'red' : m.declared ? 'green' : 'default'}>
                    {m.username}：{m.conflict ? '回避（利益冲突）' : m.declared ? '已声明无利益冲突' : '未声明'}
                  </Tag>
                )) : <Typography.Text type="secondary">尚未指定评审专家</Typography.Text>}
              </Space>
              {mine && !mine.declared && open && (
                <Alert type="warning" showIcon style={{ marginTop: 8 }}
                  message="您是本项目的评审专家：查看投标、打分前须先声明与投标组织是否存在利益冲突"
                  action={
                    <Space direction="vertical">
                      <Button size="small" type="primary" onClick={() => void declare(call, true)}>声明无利益冲突</Button>
                      <Button size="small" danger onClick={() => void declare(call, false)}>存在利益冲突（回避）</Button>
                    </Space>
                  } />
              )}
            </Card>

            <Card size="small" title="投标与评审" className="hj-panel-flow" style={{ marginBottom: 12 }}
              extra={call.state === 'evaluation' && canAward ? <Button type="primary" size="small" onClick={() => setAwarding('')}>确定中标</Button> : null}>
              {call.state === 'draft' ? <Typography.Text type="secondary">项目尚未发布</Typography.Text>
                : sealed ? <Sealed call={call} />
                : mine && !mine.declared ? <Alert type="info" showIcon message="请先声明利益冲突，再查看投标与评审结果" />
                : mine?.conflict ? <Alert type="info" showIcon message="您已回避本项目评审" />
                : (
                  <Space direction="vertical" style={{ width: '100%' }}>
                    <BidOverview call={call} />
                    <ResultsPanel call={call} canScore={!!mine && mine.declared && !mine.conflict} />
                    {award && <Alert type="success" showIcon message="已确定中标投标" description={call.awardReasons.join('；')} />}
                  </Space>
                )}
            </Card>

            {call.complaints.length > 0 && (
              <Card size="small" title="投诉" className="hj-panel-flow" style={{ marginBottom: 12 }}>
                <Complaints call={call} canResolve={canAward} onChange={refetch} />
              </Card>
            )}

            {step && (
              <MutationDialog<{ reasons: string }, PcCallStepMutation['procurementCallStep']>
                title={STEP_TEXT[step].title} okText={STEP_TEXT[step].ok} danger name="pc-step" onClose={() => setStep(null)}
                mutate={async (v) => (await gql(PcCallStepDocument, { callId: call.id, step, reasons: splitLines(v.reasons), expectedVersion: call.version })).procurementCallStep}
                isDone={(r) => !!r.call}
                onDone={() => { setStep(null); refetch(); }}
              >
                <Form.Item label="理由（每行一条）" name="reasons" rules={[{ required: true, whitespace: true, message: '请填写理由' }]}>
                  <Input.TextArea rows={3} maxLength={1000} />
                </Form.Item>
              </MutationDialog>
            )}
            {answering && (
              <MutationDialog<{ answer: string }, PcQuestionAnswerMutation['procurementQuestionAnswer']>
                title="答复提问" okText="答复" name="pc-answer" onClose={() => setAnswering(null)}
                mutate={async (v) => (await gql(PcQuestionAnswerDocument, { questionId: answering, answer: v.answer.trim() })).procurementQuestionAnswer}
                isDone={(r) => !!r.question}
                onDone={() => { setAnswering(null); refetch(); }}
              >
                <Form.Item label="答复" name="answer" rules={[{ required: true, whitespace: true, message: '请填写答复' }]}>
                  <Input.TextArea rows={3} maxLength={2000} />
                </Form.Item>
              </MutationDialog>
            )}
            {appointing && (
              <MutationDialog<{ userId: string }, PcPanelAppointMutation['procurementPanelAppoint']>
                title="指定评审专家" okText="指定" name="pc-appoint" onClose={() => setAppointing(false)}
                mutate={async (v) => (await gql(PcPanelAppointDocument, { callId: call.id, userId: v.userId })).procurementPanelAppoint}
                isDone={(r) => !!r.member}
                onDone={() => { setAppointing(false); refetch(); }}
              >
                <Form.Item label="评审专家" name="userId" rules={[{ required: true, message: '请选择评审专家' }]}
                  extra="可选本项目工会及上级工会中具有评审资格的工作人员（不含财务人员）">
                  <EvaluatorPicker callId={call.id} />
                </Form.Item>
              </MutationDialog>
            )}
            {awarding !== null && (
              <AwardDialog call={call} onClose={() => setAwarding(null)} onDone={() => { setAwarding(null); refetch(); }} />
            )}
            {signing && <SignDialog call={call} onClose={() => setSigning(false)} onDone={() => { setSigning(false); refetch(); }} />}
          </PageContainer>
        );
      }}
    </AsyncView>
  );
}

function AwardDialog({ call, onClose, onDone }: { call: Call; onClose: () => void; onDone: () => void }) {
  const results = useGql(PcCallResultsDocument, { callId: call.id });
  const first = results.data?.procurementCallResults.bids.find((b) => b.rank === 1);
  return (
    <MutationDialog<{ reasons: string }, PcCallAwardMutation['procurementCallAward']>
      title="确定中标" okText="确定中标" name="pc-award" onClose={onClose}
      mutate={async (v) => (await gql(PcCallAwardDocument, { callId: call.id, bidId: first?.bidId ?? '', reasons: splitLines(v.reasons), expectedVersion: call.version })).procurementCallAward}
      isDone={(r) => !!r.call}
      onDone={onDone}
      intro={first
        ? <Alert type="info" showIcon message={`排名第一：${first.orgName}，综合得分 ${points(first.totalBp)}，报价 ${formatYuan(first.priceFen)}`} description="中标须授予排名第一的投标；公示期内投标人可以投诉。" />
        : <Alert type="warning" showIcon message={results.loading ? '正在读取评审排名…' : '暂无可定标的投标'} />}
    >
      <Form.Item label="定标理由（每行一条）" name="reasons" rules={[{ required: true, whitespace: true, message: '请填写定标理由' }]}>
        <Input.TextArea rows={3} maxLength={1000} />
      </Form.Item>
    </MutationDialog>
  );
}

interface SignValues { milestones: { title: string; deliverable: string; percent: number }[] }

function SignDialog({ call, onClose, onDone }: { call: Call; onClose: () => void; onDone: () => void }) {
  return (
    <MutationDialog<SignValues, PcContractSignMutation['procurementContractSign']>
      title="签订合同" okText="签订并预留资金" name="pc-sign" width={720} onClose={onClose}
      initialValues={{ milestones: [{ title: '首期', deliverable: '项目启动方案', percent: 30 }, { title: '尾期', deliverable: '项目总结报告', percent: 70 }] }}
      mutate={async (v) => (await gql(PcContractSignDocument, { callId: call.id, milestones: v.milestones, expectedVersion: call.version })).procurementContractSign}
      isDone={(r) => !!r.call}
      errorOptions={{ messages: { 'milestones.INVALID_INPUT': '各期付款比例合计须为100%' } }}
      onDone={onDone}
      intro={<Typography.Paragraph type="secondary">签订后，中标金额将从本级工会经费中全额预留；各期验收后由财务按比例支付。</Typography.Paragraph>}
    >
      <Form.List name="milestones">
        {(fields, { add, remove }) => (
          <>
            {fields.map((f) => (
              <Space key={f.key} align="baseline" wrap>
                <Form.Item name={[f.name, 'title']} rules={[{ required: true, message: '名称' }]}><Input placeholder="阶段名称" aria-label="阶段名称" /></Form.Item>
                <Form.Item name={[f.name, 'deliverable']} rules={[{ required: true, message: '交付物' }]}><Input placeholder="交付物" aria-label="交付物" /></Form.Item>
                <Form.Item name={[f.name, 'percent']} rules={[{ required: true, message: '比例' }]}><InputNumber min={1} max={100} addonAfter="%" aria-label="付款比例" /></Form.Item>
                {fields.length > 1 && <Button onClick={() => remove(f.name)}>删除</Button>}
              </Space>
            ))}
            <Button onClick={() => add({ title: '', deliverable: '', percent: 0 })}>增加一期</Button>
          </>
        )}
      </Form.List>
    </MutationDialog>
  );
}
