/** Chinese labels for schema enums and audit actions. */
import type { JobStatus, OrgLevel, Role } from '../graphql/generated';

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

/** Levels that may sit directly below a unit of the given level (the server has the last word). */
export function childLevels(parent: OrgLevel): OrgLevel[] {
  switch (parent) {
    case 'PROVINCE':
      return ['CITY', 'COUNTY', 'INDUSTRY', 'GRASSROOTS'];
    case 'CITY':
      return ['COUNTY', 'INDUSTRY', 'GRASSROOTS'];
    case 'COUNTY':
      return ['GRASSROOTS', 'INDUSTRY'];
    case 'INDUSTRY':
      return ['GRASSROOTS'];
    case 'GRASSROOTS':
      return []; // a grassroots union has no sub-units
  }
}

export const JOB_STATUS_LABELS: Record<JobStatus, string> = {
  QUEUED: '排队中',
  RUNNING: '进行中',
  SUCCEEDED: '已完成',
  FAILED: '失败',
};

export const AUDIT_ACTION_LABELS: Record<string, string> = {
  'auth.login': '登录',
  'auth.logout': '退出登录',
  'auth.login_failed': '登录失败',
  'auth.login_throttled': '登录被限制',
  'tenant.create': '开通省份',
  'tenant.update': '更新省份',
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
};

export const AUDIT_PREFIXES: { value: string; label: string }[] = [
  { value: 'auth.', label: '登录与退出' },
  { value: 'org_unit.', label: '组织架构' },
  { value: 'user.', label: '用户与授权' },
  { value: 'tenant.', label: '省份管理' },
  { value: 'member.', label: '会员' },
  { value: 'fund', label: '经费' },
];

export const TARGET_TYPE_LABELS: Record<string, string> = {
  User: '用户',
  OrgUnit: '组织',
  Tenant: '省份',
  Member: '会员',
};

export function auditActionLabel(action: string): string {
  return AUDIT_ACTION_LABELS[action] ?? action;
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
