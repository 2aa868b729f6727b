/** Aid grants of an archive: the aid form (amount, itemised breakdown, cap used / allowed before
 * submitting), approval (reserving the money), payment and cancellation. */
import { useEffect, useRef, useState } from 'react';
import { Alert, Button, Checkbox, Descriptions, Form, Input, Select, Space, Table, Tag, Typography } from 'antd';
import { gql } from '../../api/client';
import { describeError, type UserError } from '../../api/errors';
import {
  HardshipAidQuoteDocument,
  HardshipGrantProposeDocument,
  HardshipGrantStepDocument,
  type HardshipAidQuoteQuery,
  type HardshipAidType,
  type HardshipGrantAction,
  type HardshipGrantFieldsFragment,
  type HardshipGrantInput,
  type HardshipGrantProposeMutation,
} from '../../graphql/generated';
import { MutationDialog } from '../../components/MutationDialog';
import { formatFen, formatYuan, yuanToFen } from '../../lib/money';
import { formatDate } from '../../lib/format';
import { AID_TYPE_LABELS, ESCALATION_LABELS, GRANT_STATE_LABELS, SCHOOL_LEVEL_LABELS, options } from './labels';

type Grant = HardshipGrantFieldsFragment;
type Quote = HardshipAidQuoteQuery['hardshipAidQuote'];

const GRANT_COLORS: Record<string, string> = { proposed: 'orange', approved: 'blue', paid: 'green', rejected: 'default', cancelled: 'default' };

/** What the caller may do with a grant now: by its state and the caller's permissions. */
export function grantActions(state: string, can: (p: string) => boolean): HardshipGrantAction[] {
  const out: HardshipGrantAction[] = [];
  if (state === 'proposed' && can('hardship.approve')) out.push('APPROVE', 'REJECT');
  if (state === 'approved' && can('hardship.pay')) out.push('PAY');
  if (state === 'approved' && can('hardship.approve')) out.push('CANCEL');
  return out;
}

const GRANT_ACTION_LABELS: Record<HardshipGrantAction, string> = { APPROVE: '审批', REJECT: '不予批准', PAY: '发放', CANCEL: '撤销' };

const GRANT_ERRORS = {
  INSUFFICIENT_FUNDS: '帮扶专项资金可用余额不足，不能审批',
  SELF_APPROVAL: '救助经办人不能审批本人经办的救助',
  CAP_EXCEEDED: '超过年度救助上限',
};

function Breakdown({ items }: { items: readonly { labelZh: string; amountFen: number | string }[] }) {
  return (
    <Table
      size="small"
      pagination={false}
      rowKey={(r) => r.labelZh}
      dataSource={[...items]}
      locale={{ emptyText: '无明细' }}
      columns={[
        { title: '项目', dataIndex: 'labelZh' },
        { title: '金额（元）', dataIndex: 'amountFen', align: 'right', render: (v) => formatFen(v) },
      ]}
    />
  );
}

function CapLine({ cap, used, allowed }: { cap: number | string | null | undefined; used: number | string; allowed?: number | string }) {
  return (
    <Typography.Text data-testid="aid-cap">
      年度上限 {cap === null || cap === undefined ? '不限' : formatYuan(cap)} · 今年已用 {formatYuan(used)}
      {allowed !== undefined ? ` · 本次最多 ${formatYuan(allowed)}` : ''}
    </Typography.Text>
  );
}

export function GrantsTable({ grants, can, onAct }: { grants: readonly Grant[]; can: (p: string) => boolean; onAct: (g: Grant, a: HardshipGrantAction) => void }) {
  return (
    <Table<Grant>
      size="small"
      rowKey="id"
      pagination={false}
      dataSource={[...grants]}
      locale={{ emptyText: '尚无救助记录' }}
      scroll={{ x: 560 }}
      expandable={{ expandedRowRender: (g) => <Breakdown items={g.breakdown} />, rowExpandable: (g) => g.breakdown.length > 0 }}
      columns={[
        { title: '救助类型', dataIndex: 'aidType', render: (t: HardshipAidType) => AID_TYPE_LABELS[t] },
        { title: '金额（元）', dataIndex: 'amountFen', align: 'right', render: (v) => formatFen(v) },
        { title: '上限 / 已用', key: 'cap', responsive: ['md'], render: (_, g) => `${g.capFen === null ? '不限' : formatFen(g.capFen)} / ${formatFen(g.usedBeforeFen)}` },
        {
          title: '状态',
          dataIndex: 'state',
          render: (s: string, g) => (
            <Space size={4} wrap>
              <Tag color={GRANT_COLORS[s]}>{GRANT_STATE_LABELS[s] ?? s}</Tag>
              {g.escalation && s === 'proposed' ? <Tag color="purple">{ESCALATION_LABELS[g.escalation]}</Tag> : null}
            </Space>
          ),
        },
        { title: '日期', dataIndex: 'createdAt', responsive: ['lg'], render: formatDate },
        {
          title: '操作',
          key: 'op',
          render: (_, g) => (
            <Space size={4} wrap>
              {grantActions(g.state, can).map((a) => (
                <Button key={a} size="small" danger={a === 'REJECT' || a === 'CANCEL'} type={a === 'PAY' || a === 'APPROVE' ? 'primary' : 'default'} onClick={() => onAct(g, a)}>
                  {GRANT_ACTION_LABELS[a]}
                </Button>
              ))}
            </Space>
          ),
        },
      ]}
    />
  );
}

export function GrantStepDialog({ grant, action, onClose, onDone }: { grant: Grant; action: HardshipGrantAction; onClose: () => void; onDone: () => void }) {
  const label = GRANT_ACTION_LABELS[action];
  const needsReasons = action === 'REJECT' || action === 'CANCEL';
  return (
    <MutationDialog<{ reasons?: string; nationalApprovalRef?: string }, { errors: UserError[] }>
      title={`${label}：${AID_TYPE_LABELS[grant.aidType]} ${formatYuan(grant.amountFen)}`}
      okText={label}
      danger={needsReasons}
      name={`hardship-grant-${action.toLowerCase()}`}
      onClose={onClose}
      intro={
        action === 'APPROVE' ? (
          <p style={{ color: '#666' }}>审批后从支付单位的帮扶专项资金中预留该笔金额。</p>
        ) : action === 'PAY' ? (
          <p style={{ color: '#666' }}>发放后记账，预留金额转为支出。</p>
        ) : undefined
      }
      mutate={async (v) =>
        (
          await gql(HardshipGrantStepDocument, {
            id: grant.id,
            action,
            expectedVersion: grant.version,
            reasons: (v.reasons ?? '').split(/\n+/).map((s) => s.trim()).filter(Boolean),
            nationalApprovalRef: v.nationalApprovalRef?.trim() || null,
          })
        ).hardshipGrantStep
      }
      onDone={onDone}
      errorOptions={{ messages: GRANT_ERRORS }}
    >
      {action === 'APPROVE' && grant.escalation === 'national' && (
        <Form.Item label="全国总工会批复文号" name="nationalApprovalRef" rules={[{ required: true, whitespace: true, message: '请填写批复文号' }]}>
          <Input maxLength={64} />
        </Form.Item>
      )}
      <Form.Item label={needsReasons ? '理由' : '办理意见（选填）'} name="reasons" rules={needsReasons ? [{ required: true, whitespace: true, message: '请填写理由' }] : []}>
        <Input.TextArea rows={3} maxLength={500} />
      </Form.Item>
    </MutationDialog>
  );
}

interface AidValues {
  aidType: HardshipAidType;
  requested?: string;
  medicalCost?: string;
  schoolLevel?: string;
  disabledChild?: boolean;
}

const yuanRule = { pattern: /^\d+(\.\d{1,2})?$/, message: '请输入金额（元），最多两位小数' };

function toInput(archiveId: string, v: Partial<AidValues>): HardshipGrantInput | null {
  if (!v.aidType) return null;
  const requested = v.requested?.trim() ? yuanToFen(v.requested) : null;
  const medical = v.medicalCost?.trim() ? yuanToFen(v.medicalCost) : '0';
  if ((v.requested?.trim() && requested === null) || medical === null) return null;
  return {
    aidType: v.aidType,
    archiveId,
    requestedFen: requested === null ? null : Number(requested),
    medicalCostFen: Number(medical),
    schoolLevel: v.aidType === 'EDUCATION' ? v.schoolLevel ?? null : null,
    disabledChild: !!v.disabledChild,
  };
}

/** 申请救助: the rule's amount with its itemised breakdown and the cap (used / allowed), before submitting. */
export function AidForm({ archiveId, onClose, onDone }: { archiveId: string; onClose: () => void; onDone: () => void }) {
  const [form] = Form.useForm<AidValues>();
  const values = Form.useWatch([], form) as Partial<AidValues> | undefined;
  const [quote, setQuote] = useState<Quote | null>(null);
  const [quoteError, setQuoteError] = useState<string | null>(null);
  const seq = useRef(0);
  const key = JSON.stringify(values ? toInput(archiveId, values) : null);

  useEffect(() => {
    const input = values ? toInput(archiveId, values) : null;
    if (!input) {
      setQuote(null);
      return;
    }
    const mine = ++seq.current;
    const t = setTimeout(() => {
      gql(HardshipAidQuoteDocument, { input })
        .then((d) => {
          if (mine !== seq.current) return;
          setQuote(d.hardshipAidQuote);
          setQuoteError(null);
        })
        .catch((e) => {
          if (mine !== seq.current) return;
          setQuote(null);
          setQuoteError(describeError(e));
        });
    }, 250);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const aidType = values?.aidType;
  return (
    <MutationDialog<AidValues, HardshipGrantProposeMutation['hardshipGrantPropose']>
      title="申请救助"
      okText="提交救助申请"
      name="hardship-aid"
      width={620}
      form={form}
      onClose={onClose}
      initialValues={{ aidType: 'LIVING' }}
      mutate={async (v) => (await gql(HardshipGrantProposeDocument, { input: toInput(archiveId, v)! })).hardshipGrantPropose}
      isDone={(r) => !!r.grant}
      onDone={onDone}
      errorOptions={{ fieldMap: { requestedFen: 'requested', medicalCostFen: 'medicalCost' }, messages: GRANT_ERRORS }}
    >
      <Form.Item label="救助类型" name="aidType" rules={[{ required: true, message: '请选择救助类型' }]}>
        <Select options={options(AID_TYPE_LABELS)} />
      </Form.Item>
      {aidType === 'MEDICAL' && (
        <Form.Item label="当年自付医疗费用（元）" name="medicalCost" rules={[{ required: true, message: '请填写自付医疗费用' }, yuanRule]}>
          <Input inputMode="decimal" />
        </Form.Item>
      )}
      {aidType === 'EDUCATION' && (
        <>
          <Form.Item label="子女就读阶段" name="schoolLevel" rules={[{ required: true, message: '请选择就读阶段' }]}>
            <Select options={options(SCHOOL_LEVEL_LABELS)} />
          </Form.Item>
          <Form.Item name="disabledChild" valuePropName="checked">
            <Checkbox>残疾子女</Checkbox>
          </Form.Item>
        </>
      )}
      <Form.Item label="申请金额（元）" name="requested" rules={[yuanRule]} extra="不填则按规则测算金额">
        <Input inputMode="decimal" />
      </Form.Item>
      <div data-testid="aid-quote" aria-live="polite">
        {quoteError ? (
          <Alert type="error" showIcon message={quoteError} />
        ) : quote ? (
          <Space direction="vertical" style={{ width: '100%' }}>
            {quote.refusals.length > 0 && <Alert type="warning" showIcon message="不能申请此类救助" description={quote.refusals.join('；')} />}
            <Descriptions size="small" column={1} bordered>
              <Descriptions.Item label="按规则测算">{formatYuan(quote.amountFen)}</Descriptions.Item>
              <Descriptions.Item label="上限与已用">
                <CapLine cap={quote.capFen} used={quote.usedFen} allowed={quote.allowedFen} />
              </Descriptions.Item>
            </Descriptions>
            <Breakdown items={quote.breakdown} />
          </Space>
        ) : (
          <Typography.Text type="secondary">选择救助类型后显示测算金额、明细和年度上限</Typography.Text>
        )}
      </div>
    </MutationDialog>
  );
}
