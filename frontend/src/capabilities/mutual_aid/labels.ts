/** Chinese texts of the mutual-aid codes the API returns (states, unit kinds, levels, reasons). */
import type { MutualAidClaimAction, MutualAidDocumentKind, MutualAidUnitKind } from '../../graphql/generated';

export const STATE_LABELS: Record<string, string> = { entered: '已受理', checked: '已核查', approved: '已审批', paid: '已给付', rejected: '未通过' };
export const STATE_COLORS: Record<string, string> = { entered: 'blue', checked: 'cyan', approved: 'gold', paid: 'green', rejected: 'red' };

export const UNIT_KIND_LABELS: Record<MutualAidUnitKind, string> = {
  GOVERNMENT: '机关',
  INSTITUTION: '事业单位',
  STATE_OWNED: '国有企业',
  OTHER: '其他单位',
};

export const LEVEL_LABELS: Record<string, string> = {
  province: '省级',
  city: '市级',
  district: '区县级',
  street: '街道乡镇',
  grassroots: '基层工会',
  member: '职工个人',
  unit: '单位',
};

export const SOURCE_LABELS: Record<string, string> = { unit: '工会录入', worker: '职工自助', automatic: '免申即享' };

export const DOCUMENT_LABELS: Record<MutualAidDocumentKind, string> = {
  APPLICATION: '申请表',
  DIAGNOSIS: '诊断证明',
  INVOICE: '医疗费用票据',
  DISCHARGE: '出院小结',
  CERTIFICATE: '证明材料',
  DISABILITY: '伤残鉴定',
  OTHER: '其他材料',
};

export const ACTION_LABELS: Record<MutualAidClaimAction, string> = { CHECK: '核查', APPROVE: '审批', REJECT: '不予给付', PAY: '给付', CANCEL: '撤销审批' };

/** Which step each state allows, and the permission it needs (the workflow's own table). */
export const ACTIONS_BY_STATE: Record<string, { action: MutualAidClaimAction; permission: string }[]> = {
  entered: [
    { action: 'CHECK', permission: 'mutual_aid.check' },
    { action: 'REJECT', permission: 'mutual_aid.check' },
  ],
  checked: [
    { action: 'APPROVE', permission: 'mutual_aid.approve' },
    { action: 'REJECT', permission: 'mutual_aid.check' },
  ],
  approved: [
    { action: 'PAY', permission: 'mutual_aid.pay' },
    { action: 'CANCEL', permission: 'mutual_aid.approve' },
  ],
};

export const UNMATCHED_LABELS: Record<string, string> = {
  INVALID_ROW: '行格式错误',
  NOT_A_MEMBER: '查无此会员',
  NOT_ENROLLED: '未参加该计划',
  NOTHING_PAYABLE: '无可给付金额',
  TERM_CAP: '已达保障期限额',
  WAITING_PERIOD: '尚在等待期',
  BEFORE_COVER: '保障开始前',
  AFTER_COVER: '保障结束后',
  DEADLINE: '超过申请期限',
  FUTURE_EVENT: '日期在未来',
};

export const MUTUAL_AID_ERRORS: Record<string, string> = {
  CAP_EXCEEDED: '已达计划的给付限额，无可给付金额',
  INSUFFICIENT_FUNDS: '该计划互助金余额不足，无法给付',
  SELF_APPROVAL: '录入人不能审批自己录入的申请',
  'id.FORBIDDEN': '须由申请单位的上级工会审批',
  'orgUnitId.NOT_ELIGIBLE': '该单位本期没有参保记录',
  'idNumber.NOT_FOUND': '未找到该身份证号码的会员',
  'termStart.INVALID_STATE': '该期已结算关闭',
  'eventDate.INVALID_STATE': '该期已结算关闭，不再受理申请',
  'memberIds.DUPLICATE': '本批次中有会员已在此期间参保',
  'documents.INVALID_INPUT': '请上传至少一份材料（PDF、JPEG或PNG，单个不超过10MB）',
};

export const options = (labels: Record<string, string>) => Object.entries(labels).map(([value, label]) => ({ value, label }));

/** Basis points as a percentage ("85.00%"); the plans state ratios in bp. */
export const pct = (bp: number | null | undefined) => (bp === null || bp === undefined ? '—' : `${(bp / 100).toFixed(bp % 100 ? 2 : 0)}%`);
