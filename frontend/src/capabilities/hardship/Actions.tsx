/** The workflow steps of an archive as dialogs: each sends one mutation with the version the page loaded. */
import { Alert, Col, Form, Input, Radio, Row, Select } from 'antd';
import { gql } from '../../api/client';
import {
  HardshipArchiveRecheckDocument,
  HardshipArchiveStepDocument,
  HardshipCivilCheckDocument,
  type HardshipAction,
  type HardshipArchiveFieldsFragment,
  type HardshipArchiveRecheckMutation,
  type HardshipCancelReason,
  type HardshipClassificationFieldsFragment,
} from '../../graphql/generated';
import { MutationDialog } from '../../components/MutationDialog';
import { yuanToFen } from '../../lib/money';
import { ACTION_LABELS, ACTION_ORDER, ATTACHMENT_KIND_LABELS, CANCEL_REASON_LABELS, DANGER_ACTIONS, REASONS_REQUIRED, options } from './labels';

type Archive = HardshipArchiveFieldsFragment;

/** The actions to offer, in workflow order: exactly what the server says the caller may do now. */
export function orderedActions(allowed: readonly string[]): string[] {
  return ACTION_ORDER.filter((a) => allowed.includes(a));
}

const ERROR_TEXTS = {
  'attachments.NOT_ELIGIBLE': '请先上传签字的帮扶申请书和家庭经济状况核对授权委托书',
  INVALID_TRANSITION: '办理顺序不对：档案当前所处环节不能执行这一步，请刷新后查看',
  CONFLICT: '档案已被他人办理，请刷新后重试',
};

const reasonsOf = (text: string | undefined) =>
  (text ?? '')
    .split(/\n+/)
    .map((s) => s.trim())
    .filter(Boolean);

interface StepValues {
  reasons?: string;
  passed?: boolean;
  cancelReason?: HardshipCancelReason;
}

function missingConsent(a: Archive): string[] {
  const have = new Set(a.attachments.map((x) => x.kind));
  return (['APPLICATION_LETTER', 'CONSENT_AUTHORISATION'] as const).filter((k) => !have.has(k)).map((k) => ATTACHMENT_KIND_LABELS[k]);
}

export function StepDialog({ archive, action, onClose, onDone }: { archive: Archive; action: string; onClose: () => void; onDone: () => void }) {
  const label = ACTION_LABELS[action] ?? action;
  const needsReasons = REASONS_REQUIRED.has(action);
  const missing = action === 'visit' || action === 'civil_check' ? missingConsent(archive) : [];
  return (
    <MutationDialog<StepValues, { errors: import('../../api/errors').UserError[] }>
      title={`${label}：${archive.householdName || '档案'}`}
      okText={label}
      danger={DANGER_ACTIONS.has(action)}
      name={`hardship-step-${action}`}
      onClose={onClose}
      initialValues={action === 'civil_check' ? { passed: true } : {}}
      intro={
        missing.length ? (
          <Alert type="warning" showIcon style={{ marginBottom: 12 }} message={`尚未上传：${missing.join('、')}`} description="入户走访和民政核对须先上传签字的材料。" />
        ) : undefined
      }
      mutate={async (v) => {
        const reasons = reasonsOf(v.reasons);
        if (action === 'civil_check') {
          return (await gql(HardshipCivilCheckDocument, { id: archive.id, passed: !!v.passed, reasons, expectedVersion: archive.version })).hardshipCivilCheck;
        }
        return (
          await gql(HardshipArchiveStepDocument, {
            id: archive.id,
            action: action.toUpperCase() as HardshipAction,
            reasons,
            expectedVersion: archive.version,
            cancelReason: v.cancelReason ?? null,
          })
        ).hardshipArchiveStep;
      }}
      onDone={onDone}
      errorOptions={{ messages: ERROR_TEXTS }}
    >
      {action === 'civil_check' && (
        <Form.Item label="核对结果" name="passed" rules={[{ required: true, message: '请选择核对结果' }]}>
          <Radio.Group options={[{ value: true, label: '核对通过' }, { value: false, label: '发现财产或收入，不通过' }]} />
        </Form.Item>
      )}
      {action === 'cancel' && (
        <Form.Item label="销档原因" name="cancelReason" rules={[{ required: true, message: '请选择销档原因' }]}>
          <Select options={options(CANCEL_REASON_LABELS)} />
        </Form.Item>
      )}
      <Form.Item
        label={needsReasons ? '理由' : '办理意见（选填）'}
        name="reasons"
        rules={needsReasons ? [{ required: true, whitespace: true, message: '请填写理由' }] : []}
        extra="每行一条"
      >
        <Input.TextArea rows={3} maxLength={500} />
      </Form.Item>
    </MutationDialog>
  );
}

interface RecheckValues {
  monthlyIncome: string;
  monthlyRigidExpense: string;
  yearlyHardshipCost?: string;
}

const yuanRule = { pattern: /^\d+(\.\d{1,2})?$/, message: '请输入金额（元），最多两位小数' };
const fen = (v: string | undefined) => Number(yuanToFen(v ?? '0') ?? '0');

export interface RecheckResult {
  previous: HardshipClassificationFieldsFragment | null;
  current: HardshipClassificationFieldsFragment | null;
}

/** 复核: this year's figures, classified again by this year's rules; the page shows old and new side by side. */
export function RecheckDialog({ archive, onClose, onDone }: { archive: Archive; onClose: () => void; onDone: (r: RecheckResult) => void }) {
  return (
    <MutationDialog<RecheckValues, HardshipArchiveRecheckMutation['hardshipArchiveRecheck']>
      title={`复核：${archive.householdName || '档案'}`}
      okText="复核"
      name="hardship-recheck"
      onClose={onClose}
      intro={<p style={{ color: '#666' }}>按本年度家庭收支和现行规则重新认定；原认定结果保留在认定记录中。</p>}
      mutate={async (v) =>
        (
          await gql(HardshipArchiveRecheckDocument, {
            id: archive.id,
            expectedVersion: archive.version,
            finances: { monthlyIncomeFen: fen(v.monthlyIncome), monthlyRigidExpenseFen: fen(v.monthlyRigidExpense), yearlyHardshipCostFen: fen(v.yearlyHardshipCost) },
          })
        ).hardshipArchiveRecheck
      }
      onDone={(r) => onDone({ previous: r.previous ?? null, current: r.current ?? null })}
      errorOptions={{ fieldMap: { monthlyIncomeFen: 'monthlyIncome', monthlyRigidExpenseFen: 'monthlyRigidExpense' }, messages: ERROR_TEXTS }}
    >
      <Row gutter={12}>
        <Col xs={24} sm={12}>
          <Form.Item label="家庭月收入（元）" name="monthlyIncome" rules={[{ required: true, message: '请填写家庭月收入' }, yuanRule]}>
            <Input inputMode="decimal" />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item label="月刚性支出（元）" name="monthlyRigidExpense" rules={[{ required: true, message: '请填写月刚性支出' }, yuanRule]}>
            <Input inputMode="decimal" />
          </Form.Item>
        </Col>
        <Col xs={24} sm={12}>
          <Form.Item label="年度致困支出（元）" name="yearlyHardshipCost" rules={[yuanRule]}>
            <Input inputMode="decimal" />
          </Form.Item>
        </Col>
      </Row>
    </MutationDialog>
  );
}
