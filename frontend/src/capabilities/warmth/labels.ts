/** zh-CN words for the warmth capability's codes (the API names states and kinds in Chinese itself). */
export const KIND_OPTIONS = [
  { value: 'spring_festival', label: '元旦春节' },
  { value: 'summer_cool', label: '夏送清凉' },
  { value: 'autumn_study', label: '金秋助学' },
];

export const FORM_LABELS: Record<string, string> = { cash: '现金', in_kind: '实物' };

export const RECEIPT_LABELS: Record<string, string> = { not_given: '未发放', unconfirmed: '待确认', confirmed: '已确认' };

export const RECEIPT_METHOD_LABELS: Record<string, string> = { portal: '职工本人确认', signature: '签名', fingerprint: '指纹', photo: '照片' };

export const STATE_COLORS: Record<string, string> = {
  draft: 'default',
  submitted: 'orange',
  approved: 'blue',
  distributing: 'processing',
  distributed: 'green',
  closed: 'default',
  cancelled: 'default',
};

export const LINE_OPTIONS = [
  { value: 'civil_affairs_low_income', label: '民政低收入人口' },
  { value: 'work_injury', label: '工伤职工' },
  { value: 'poor_students', label: '困难学生' },
  { value: 'disabled', label: '残疾人' },
  { value: 'other', label: '其他条线' },
];

/** Steps a person may take, in the order the buttons show, with the permission each needs at the campaign's unit. */
export const STEPS: { transition: string; label: string; from: string[]; permission: string; reasons?: boolean; danger?: boolean }[] = [
  { transition: 'submit', label: '提交审批', from: ['draft'], permission: 'warmth.write' },
  { transition: 'approve', label: '审批通过', from: ['submitted'], permission: 'warmth.approve' },
  { transition: 'return', label: '退回', from: ['submitted'], permission: 'warmth.approve', reasons: true, danger: true },
  { transition: 'distribute', label: '开始发放', from: ['approved'], permission: 'warmth.write' },
  { transition: 'close', label: '结项', from: ['distributed'], permission: 'warmth.approve' },
  { transition: 'cancel', label: '撤销活动', from: ['draft', 'submitted', 'approved'], permission: 'warmth.approve', reasons: true, danger: true },
];

export function stepsFor(state: string, can: (p: string) => boolean) {
  return STEPS.filter((s) => s.from.includes(state) && can(s.permission));
}

/** Refusals of a step, said the way staff understand them. */
export const STEP_ERRORS: Record<string, string> = {
  INSUFFICIENT_FUNDS: '支付经费可用余额不足，不能审批：请先确认经费已到账',
  BUDGET_EXCEEDED: '发放名单所需金额超出预算，不能审批：请调整预算或名单',
  SELF_APPROVAL: '不能审批本人提交的活动',
  INVALID_STATE: '活动当前状态不能进行该操作，请刷新后重试',
  CONFLICT: '活动已被他人修改，请刷新后重试',
};
