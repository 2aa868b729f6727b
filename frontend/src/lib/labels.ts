/** Chinese labels for schema enums and audit actions. */
import type {
  AccountType,
  DraftStatus,
  EntryKind,
  EntrySide,
  HouseholdRelation,
  JobStatus,
  MemberGender,
  MemberImportStatus,
  MemberRevealField,
  MemberTransferStatus,
  MemberWorkStatus,
  MembershipState,
  OrgLevel,
  Role,
} from '../graphql/generated';

export const ROLE_LABELS: Record<Role, string> = {
  PLATFORM_ADMIN: '平台管理员',
  TENANT_ADMIN: '系统管理员',
  APPROVER: '审核',
  CLERK: '经办',
  FINANCE: '财务',
  AUDITOR: '审计',
  SOCIAL_ORG: '社会组织',
  WORKER: '职工',
};

/** Roles a tenant admin can grant inside a province (platform_admin is platform-only). */
export const GRANTABLE_ROLES: Role[] = ['TENANT_ADMIN', 'APPROVER', 'CLERK', 'FINANCE', 'AUDITOR', 'SOCIAL_ORG', 'WORKER'];

export const STAFF_ROLES: ReadonlySet<Role> = new Set<Role>(['TENANT_ADMIN', 'APPROVER', 'CLERK', 'FINANCE', 'AUDITOR']);

export const LEVEL_LABELS: Record<OrgLevel, string> = {
  PROVINCE: '省级总工会',
  CITY: '市级总工会',
  COUNTY: '县（区）级总工会',
  GRASSROOTS: '基层工会',
  INDUSTRY: '产业工会',
};

export const LEVEL_ORDER: OrgLevel[] = ['PROVINCE', 'CITY', 'COUNTY', 'INDUSTRY', 'GRASSROOTS'];

export const JOB_STATUS_LABELS: Record<JobStatus, string> = {
  QUEUED: '排队中',
  RUNNING: '进行中',
  SUCCEEDED: '已完成',
  FAILED: '失败',
  INTERRUPTED: '已中断',
};

export const AUDIT_ACTION_LABELS: Record<string, string> = {
  'auth.login': '登录',
  'auth.logout': '退出登录',
  'auth.login_failed': '登录失败',
  'auth.login_throttled': '登录被限制',
  'tenant.create': '开通省份',
  'tenant.update': '更新省份',
  'plugin_settings.update': '修改插件设置',
  'org_unit.create': '新建组织',
  'org_unit.rename': '重命名组织',
  'org_unit.update': '更新组织',
  'org_unit.move': '移动组织',
  'org_unit.deactivate': '停用组织',
  'user.create': '新建用户',
  'user.grant': '授予角色',
  'user.revoke': '撤销角色',
  'user.activate': '启用用户',
  'user.deactivate': '停用用户',
  'member.reveal': '查看明文个人信息',
  'member.reveal.refused': '查看明文个人信息被拒绝',
  'member.export.refused': '明文导出被拒绝',
  'user.unlock': '解除登录锁定',
  'member.create': '新增会员',
  'member.update': '修改会员',
  'member.leave': '会员退会',
  'member.decease': '会员去世',
  'member.rejoin': '重新入会',
  'member.import.upload': '上传名册',
  'member.import.preview': '校验名册',
  'member.import.commit': '确认导入名册',
  'member.import.finish': '名册导入完成',
  'member.import.discard': '放弃导入名册',
  'import.create': '名册导入：新增',
  'import.update': '名册导入：更新',
  'import.rejoin': '名册导入：重新入会',
  'member.export': '导出会员',
  'member.export.download': '下载会员导出文件',
  'member.transfer.request': '申请会籍转移',
  'member.transfer.approve': '同意会籍转移',
  'member.transfer.reject': '驳回会籍转移',
  'member.transfer.cancel': '撤回会籍转移',
  'member.transfer.complete': '会籍转移完成',
  'member.transfer.in': '会籍转入',
  'member.transfer.out': '会籍转出',
  'member.transfer.incoming': '收到会籍转入申请',
  'household.create': '登记家庭',
  'household.add_person': '添加家庭成员',
  'household.remove_person': '移除家庭成员',
  'ledger.draft.create': '提交手工记账',
  'ledger.draft.approve': '批准手工记账',
  'ledger.draft.reject': '驳回手工记账',
  'ledger.entry.reverse': '冲销凭证',
  'ledger.period.close': '会计期间结账',
  'ledger.reservation.create': '预留资金',
  'ledger.reservation.post': '预留资金支付',
  'ledger.reservation.void': '作废预留',
  'ledger.reservation.expire': '预留过期',
  'ledger.special_allocation': '专项资金计提',
  'ledger.config': '修改记账设置',
  'budget.set': '设置预算',
  'budget.lift': '调增预算',
  'fund.create': '新建经费',
  'ledger.entry.post': '手工记账',
  'ledger.levy': '拨缴经费入账',
  'ledger.transfer.up': '上解上级经费',
  'ledger.transfer.down': '补助下级经费',
  'ledger.small_payer_refund': '小额缴费工会返还',
  'member.purge': '清理到期个人信息',
  'member.index_key.rotate': '轮换检索密钥',
  'member.transfer.in.merged': '会籍转入（并入原档案）',
  'household.join': '加入家庭',
  'household.leave': '离开家庭',
  'demo.seed': '加载演示数据',
};

/** Audit actors that are not people: the command line, the manifest sync, jobs. */
export const SYSTEM_ACTOR_LABELS: Record<string, string> = {
  system: '系统',
  cli: '命令行',
  'tenants-sync': '租户同步',
  demo: '演示数据',
  anonymous: '未登录访问',
  'keys rotate-index': '密钥轮换（命令行）',
  'members.purge': '到期清理任务',
};

/**
 * Who did it, in Chinese: a system actor's label (it has no user id), else the name as recorded
 * (a user's name, or the username typed at a failed login).
 */
export function actorLabel(name: string | null | undefined, actorId?: string | null): string {
  if (!name) return '系统';
  if (!actorId && SYSTEM_ACTOR_LABELS[name]) return SYSTEM_ACTOR_LABELS[name];
  return name;
}

/** Where a ledger entry came from (`sourceType`). Plugins may add codes: unknown ones show as 其他来源. */
export const SOURCE_TYPE_LABELS: Record<string, string> = {
  levy: '拨缴经费',
  small_payer_refund: '小额缴费工会返还',
  special_allocation: '专项资金计提',
  aid_grant: '困难帮扶补助',
  claim: '互助保障理赔',
  campaign_payment: '活动支出',
  milestone: '项目节点付款',
};

export function sourceTypeLabel(code: string | null | undefined): string {
  if (!code) return '—';
  return SOURCE_TYPE_LABELS[code] ?? `其他来源（${code}）`;
}

export const AUDIT_PREFIXES: { value: string; label: string }[] = [
  { value: 'auth.', label: '登录与退出' },
  { value: 'org_unit.', label: '组织架构' },
  { value: 'user.', label: '用户与授权' },
  { value: 'tenant.', label: '省份管理' },
  { value: 'plugin_settings.', label: '插件设置' },
  { value: 'member.', label: '会员' },
  { value: 'ledger.', label: '经费记账' },
  { value: 'budget.', label: '预算' },
];

export const TARGET_TYPE_LABELS: Record<string, string> = {
  User: '用户',
  OrgUnit: '组织',
  Tenant: '省份',
  PluginSettings: '插件设置',
  Member: '会员',
  HouseholdPerson: '家庭成员',
  Household: '家庭',
  MemberTransfer: '会籍转移',
  MemberImport: '名册导入',
  MemberExport: '会员导出',
  LedgerEntry: '记账凭证',
  LedgerYear: '年度经费',
  Reservation: '资金预留',
  Budget: '预算',
  Fund: '经费',
  LedgerDraft: '待审批凭证',
  LedgerConfig: '记账设置',
  LedgerPeriod: '会计期间',
  MemberIndexKey: '检索密钥',
  MemberFiles: '会员文件',
  Job: '后台任务',
};

/** A Chinese name for any audit action: its own label, else its area's (never the raw code). */
export function auditActionLabel(action: string): string {
  const known = AUDIT_ACTION_LABELS[action];
  if (known) return known;
  const area = AUDIT_PREFIXES.find((p) => action.startsWith(p.value)) ?? EXTRA_AREAS.find((p) => action.startsWith(p.value));
  return area ? `${area.label}：其他操作` : '其他操作';
}

const EXTRA_AREAS: { value: string; label: string }[] = [
  { value: 'household.', label: '家庭' },
  { value: 'fund.', label: '经费' },
  { value: 'import.', label: '名册导入' },
  { value: 'demo.', label: '演示数据' },
];

/** `用户 #11` made readable: the object's name when the page knows it, else its kind and number. */
export function targetLabel(type: string, id: string | null | undefined, name?: string | null): string {
  const kind = TARGET_TYPE_LABELS[type] ?? (type ? '其他对象' : '');
  if (name) return kind ? `${kind}「${name}」` : name;
  if (!id) return kind || '—';
  return `${kind}（编号 ${id}）`;
}

/** GB/T 2260 two-digit province codes. */
export const PROVINCES: { code: string; name: string }[] = [
  ['11', '北京市'], ['12', '天津市'], ['13', '河北省'], ['14', '山西省'], ['15', '内蒙古自治区'],
  ['21', '辽宁省'], ['22', '吉林省'], ['23', '黑龙江省'], ['31', '上海市'], ['32', '江苏省'],
  ['33', '浙江省'], ['34', '安徽省'], ['35', '福建省'], ['36', '江西省'], ['37', '山东省'],
  ['41', '河南省'], ['42', '湖北省'], ['43', '湖南省'], ['44', '广东省'], ['45', '广西壮族自治区'],
  ['46', '海南省'], ['50', '重庆市'], ['51', '四川省'], ['52', '贵州省'], ['53', '云南省'],
  ['54', '西藏自治区'], ['61', '陕西省'], ['62', '甘肃省'], ['63', '青海省'], ['64', '宁夏回族自治区'],
  ['65', '新疆维吾尔自治区'], ['71', '台湾省'], ['81', '香港特别行政区'], ['82', '澳门特别行政区'],
].map(([code, name]) => ({ code, name }));

export function provinceName(code: string): string {
  return PROVINCES.find((p) => p.code === code)?.name ?? code;
}

// ---------------------------------------------------------------------------------------------
// Funds (core/funds)


export const ACCOUNT_TYPE_LABELS: Record<AccountType, string> = {
  ASSET: '资产',
  LIABILITY: '负债',
  NET_ASSET: '净资产',
  INCOME: '收入',
  EXPENSE: '支出',
};

export const SIDE_LABELS: Record<EntrySide, string> = { DEBIT: '借', CREDIT: '贷' };

export const ENTRY_KIND_LABELS: Record<EntryKind, string> = {
  MANUAL: '手工记账',
  LEVY: '拨缴经费',
  TRANSFER_UP: '上解',
  TRANSFER_DOWN: '补助下级',
  SMALL_PAYER_REFUND: '小额缴费返还',
  SPECIAL_ALLOCATION: '专项资金计提',
  PAYOUT: '支付',
  REVERSAL: '冲销',
  SYSTEM: '系统',
};

export const DRAFT_STATUS_LABELS: Record<DraftStatus, string> = {
  PENDING_APPROVAL: '待审批',
  APPROVED: '已批准',
  REJECTED: '已驳回',
};

export const GRASSROOTS_LEVEL_LABELS: Record<string, string> = {
  province: '省级',
  city: '市级',
  county: '县（区）级',
  grassroots: '基层',
  industry: '产业',
};

// ---------------------------------------------------------------------------------------------
// Members (core/members)

export const MEMBERSHIP_STATE_LABELS: Record<MembershipState, string> = {
  JOINED: '在会',
  TRANSFERRING: '会籍转移中',
  LEFT: '已退会',
  DECEASED: '已去世',
};

export const WORK_STATUS_LABELS: Record<MemberWorkStatus, string> = {
  ON_DUTY: '在岗',
  LAID_OFF: '下岗',
  UNEMPLOYED: '失业',
  RETIRED: '退休',
  SICK_LEAVE: '病休',
  EARLY_RETIRED: '内退',
  MIGRANT_WORKER: '农民工',
};

export const GENDER_LABELS: Record<MemberGender, string> = { MALE: '男', FEMALE: '女' };

export const REVEAL_FIELD_LABELS: Record<MemberRevealField, string> = {
  ID_NUMBER: '身份证号',
  PHONE: '手机号',
  BIRTH_DATE: '出生日期',
};

export const IMPORT_STATUS_LABELS: Record<MemberImportStatus, string> = {
  UPLOADING: '上传中',
  UPLOADED: '已上传',
  PREVIEWING: '校验中',
  PREVIEWED: '待确认',
  INVALID: '文件无效',
  COMMITTING: '导入中',
  INTERRUPTED: '已中断',
  COMMITTED: '已完成',
  FAILED: '失败',
  DISCARDED: '已放弃',
  EXPIRED: '已过期',
};

export const TRANSFER_STATUS_LABELS: Record<MemberTransferStatus, string> = {
  PENDING: '待审批',
  COMPLETED: '已完成',
  REJECTED: '已驳回',
  CANCELLED: '已撤回',
};

/** MemberTransfer.direction is a plain string (WITHIN, OUTGOING, INCOMING). */
export const TRANSFER_DIRECTION_LABELS: Record<string, string> = {
  WITHIN: '省内转移',
  OUTGOING: '转出外省',
  INCOMING: '外省转入',
};

/** Relations a clerk can add (SELF is the household's own member, created with the household). */
export const HOUSEHOLD_RELATION_LABELS: Record<HouseholdRelation, string> = {
  SELF: '本人',
  SPOUSE: '配偶',
  CHILD: '子女',
  PARENT: '父母',
  GRANDPARENT: '祖父母/外祖父母',
  GRANDCHILD: '孙子女/外孙子女',
  SIBLING: '兄弟姐妹',
  OTHER: '其他',
};

/** Member history actions (core/members/services.py add_history), which are not audit actions. */
export const MEMBER_HISTORY_LABELS: Record<string, string> = {
  create: '新增会员',
  update: '修改信息',
  leave: '退会',
  decease: '登记去世',
  rejoin: '重新入会',
  'household.join': '加入家庭',
  'household.leave': '移出家庭',
  'transfer.request': '申请会籍转移',
  'transfer.complete': '会籍转移完成',
  'transfer.out': '会籍转出',
  'transfer.in': '会籍转入',
  'transfer.in.merged': '会籍转入（合并原有记录）',
  'transfer.rejected': '会籍转移被驳回',
  'transfer.cancelled': '会籍转移已撤回',
};

export function memberHistoryLabel(action: string): string {
  return MEMBER_HISTORY_LABELS[action] ?? AUDIT_ACTION_LABELS[action] ?? AUDIT_ACTION_LABELS[`member.${action}`] ?? '其他变更';
}

/** One search box for name, ID number or phone: decide which filter the text means. */
export function parseMemberQuery(text: string): { namePrefix?: string; idNumber?: string; phone?: string } {
  const t = text.replace(/\s+/g, '');
  if (!t) return {};
  if (/^\d{17}[\dXx]$/.test(t) || /^\d{15}$/.test(t)) return { idNumber: t.toUpperCase() };
  if (/^1\d{10}$/.test(t)) return { phone: t };
  return { namePrefix: text.trim() };
}
