/** zh-CN words of the hardship capability (state and action labels the API does not send itself). */
import type { HardshipAidType, HardshipAttachmentKind, HardshipCancelReason, HardshipTier } from '../../graphql/generated';

export const STATE_LABELS: Record<string, string> = {
  applied: '已申请',
  reviewed: '已初审',
  visited: '已入户',
  checked: '已核对',
  notice: '公示中',
  ready: '待审批',
  archived: '已建档',
  rejected: '未通过',
  exited: '已脱困',
  cancelled: '已销档',
};

export const STATE_COLORS: Record<string, string> = {
  applied: 'blue',
  reviewed: 'blue',
  visited: 'blue',
  checked: 'blue',
  notice: 'gold',
  ready: 'orange',
  archived: 'green',
  rejected: 'default',
  exited: 'cyan',
  cancelled: 'default',
};

export const CATEGORY_LABELS: Record<string, string> = {
  deep: '深度困难',
  relative: '相对困难',
  accident: '意外致困',
  none: '不符合建档条件',
};

export const TIER_LABELS: Record<HardshipTier, string> = {
  NATIONAL: '全国级',
  PROVINCE: '省级',
  CITY: '地市级',
  COUNTY: '区县级',
  GRASSROOTS: '基层',
};

/** The stats group tiers by their stored value (lower case). */
export const TIER_KEY_LABELS: Record<string, string> = {
  national: '全国级',
  province: '省级',
  city: '地市级',
  county: '区县级',
  grassroots: '基层',
};

export const ACTION_LABELS: Record<string, string> = {
  review: '初审',
  visit: '入户走访',
  civil_check: '民政核对',
  publish: '公示',
  object: '登记异议',
  resolve: '处理异议',
  approve: '审批建档',
  reject: '不予建档',
  recheck: '复核',
  exit: '脱困',
  cancel: '销档',
  return: '返困',
};

/** The order the case page shows the actions in: the workflow's order, refusals last. */
export const ACTION_ORDER = ['review', 'visit', 'civil_check', 'publish', 'object', 'resolve', 'approve', 'recheck', 'return', 'reject', 'exit', 'cancel'];

export const DANGER_ACTIONS = new Set(['reject', 'exit', 'cancel']);

/** Steps that must state their reasons (the server refuses them without). */
export const REASONS_REQUIRED = new Set(['object', 'resolve', 'reject', 'exit', 'cancel', 'return']);

export const CANCEL_REASON_LABELS: Record<HardshipCancelReason, string> = {
  RETIRED: '退休',
  MOVED: '调离',
  DECEASED: '死亡',
  MISIDENTIFIED: '识别不准',
};

export const ATTACHMENT_KIND_LABELS: Record<HardshipAttachmentKind, string> = {
  APPLICATION_LETTER: '帮扶申请书（签字）',
  CONSENT_AUTHORISATION: '家庭经济状况核对授权委托书（签字）',
  OTHER: '其他材料',
};

export const AID_TYPE_LABELS: Record<HardshipAidType, string> = {
  LIVING: '生活救助',
  EDUCATION: '子女助学',
  MEDICAL: '医疗救助',
  TRAINING: '职业培训',
  TEMPORARY: '临时救助',
};

export const AID_KEY_LABELS: Record<string, string> = {
  living: '生活救助',
  education: '子女助学',
  medical: '医疗救助',
  training: '职业培训',
  temporary: '临时救助',
};

export const GRANT_STATE_LABELS: Record<string, string> = {
  proposed: '待审批',
  approved: '已审批',
  paid: '已发放',
  rejected: '未批准',
  cancelled: '已撤销',
};

export const ESCALATION_LABELS: Record<string, string> = {
  '': '',
  province: '须省总工会审批',
  national: '须报全国总工会审批',
};

export const SCHOOL_LEVEL_LABELS: Record<string, string> = {
  university: '大学',
  high_school: '高中',
  compulsory: '义务教育',
  kindergarten: '幼儿园',
};

export const HEALTH_LABELS: Record<string, string> = {
  healthy: '健康',
  chronic: '慢性病',
  serious_illness: '重大疾病',
  malignant_tumour: '恶性肿瘤',
  end_stage_renal: '终末期肾病',
  disabled_1: '残疾一级',
  disabled_2: '残疾二级',
  disabled_3: '残疾三级',
  disabled_4: '残疾四级',
};

export const WORK_STATUS_LABELS: Record<string, string> = {
  on_duty: '在岗',
  laid_off: '下岗',
  unemployed: '失业',
  retired: '退休',
  sick_leave: '病休',
  internal_retired: '内退',
  migrant: '农民工',
};

export const options = (labels: Record<string, string>) => Object.entries(labels).map(([value, label]) => ({ value, label }));
