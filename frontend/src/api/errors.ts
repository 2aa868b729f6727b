/**
 * Typed mutation errors → Chinese messages beside their form fields.
 *
 * Every mutation payload carries `errors: [{field, code, message, messageZh}]`. `field` is the
 * camelCase input field at fault (or null); `code` is an `ErrorCode`; `message` is English for
 * developers. `messageZh`, when the server sends it, is the Chinese sentence for this very case
 * (which rule failed: 「新就业形态劳动者」标签要求填写手机号码…) and is shown as is, unless the form
 * has its own text for that field and code (`field.code` override). Otherwise the UI shows Chinese
 * text keyed by code (ERROR_MESSAGES, one entry for every ErrorCode in the schema —
 * a test checks this against ../schema.graphql), optionally refined per form and field.
 */
import type { FormInstance } from 'antd';
import type { ErrorCode } from '../graphql/generated';
import { ApiError, NetworkError } from './client';

export interface UserError {
  field: string | null;
  code: ErrorCode;
  message: string;
  messageZh?: string | null;
}

/** Only Chinese text reaches the screen: a `messageZh` without any Chinese in it is ignored. */
function chineseText(text: string | null | undefined): string | null {
  return text && /[\u4e00-\u9fff]/.test(text) ? text : null;
}

/**
 * Deliberately not `Record<ErrorCode, string>`: a new code in the schema must not break `make run`'s
 * build; src/api/errors.test.ts fails instead until the code has its Chinese text here.
 */
export const ERROR_MESSAGES: Partial<Record<ErrorCode, string>> & Record<string, string> = {
  INVALID_INPUT: '输入内容不符合要求，请检查后重试',
  NOT_FOUND: '对象不存在，或您无权查看',
  FORBIDDEN: '您没有执行此操作的权限',
  UNAUTHENTICATED: '尚未登录或登录已失效，请重新登录',
  INVALID_CREDENTIALS: '用户名或密码错误',
  TOO_MANY_ATTEMPTS: '尝试次数过多，账号已暂时锁定，请稍后再试',
  TOKEN_EXPIRED: '登录已过期，请重新登录',
  DUPLICATE: '已存在相同的记录，请勿重复',
  CONFLICT: '数据已被他人修改，请刷新后重试',
  INVALID_HIERARCHY: '组织层级关系不合法（不能移到自身或下级之下，层级须低于上级）',
  INACTIVE: '对象已停用，不能执行此操作',
  PLUGIN_CONFIG: '省级插件配置有误，请检查插件名称和设置',
  INSUFFICIENT_FUNDS: '可用余额不足',
  UNBALANCED: '借贷金额不平衡',
  BUDGET_EXCEEDED: '超出预算额度',
  PERIOD_CLOSED: '该会计期间已结账，不能再记账',
  SELF_APPROVAL: '不能审批自己提交的事项，请由其他人审批',
  INVALID_STATE: '当前状态下不能执行此操作',
  INVALID_TRANSITION: '办理顺序不对：案件当前所处环节不能执行这一步',
  CAP_EXCEEDED: '超过年度救助上限',
  NOT_ELIGIBLE: '不符合办理条件',
  CAPABILITY_NOT_ENABLED: '本省尚未开通此业务模块',
  PROOF_MISMATCH: '身份核验未通过：姓名、手机号码或绑定码与工会登记的不一致',
  CARD_EXPIRED: '会员卡二维码已过期，请刷新后重新出示',
  CARD_INVALID: '无效的会员卡二维码',
  SERVICE_UNAVAILABLE: '服务暂时不可用（数据库节点无法连接），本次操作未生效，请稍后重试',
  INTERNAL: '服务器内部错误，请稍后重试或联系管理员',
};

export const UNKNOWN_ERROR = '操作失败，请稍后重试';
export const NETWORK_ERROR = '无法连接服务器，请检查网络后重试';

/** Overrides for one form: key `code` or `field.code` (the more specific wins). */
export type ErrorMessages = Partial<Record<string, string>>;

export function errorMessage(code: string | null | undefined, field?: string | null, overrides?: ErrorMessages): string {
  if (!code) return UNKNOWN_ERROR;
  if (overrides) {
    if (field && overrides[`${field}.${code}`]) return overrides[`${field}.${code}`] as string;
    if (overrides[code]) return overrides[code] as string;
  }
  return ERROR_MESSAGES[code] ?? UNKNOWN_ERROR;
}

/** A Chinese sentence for anything a request can throw (the server's own Chinese text first). */
export function describeError(error: unknown, overrides?: ErrorMessages): string {
  if (error instanceof NetworkError) return NETWORK_ERROR;
  if (error instanceof ApiError) {
    const zh = error.errors[0]?.extensions?.messageZh;
    return chineseText(typeof zh === 'string' ? zh : null) ?? errorMessage(error.code, null, overrides);
  }
  return UNKNOWN_ERROR;
}

/**
 * Seconds until a locked-out login may try again, when the server says (`retryAfterSeconds` in the
 * payload error's or a top-level error's extensions; `retryAfter` is read too), else null.
 */
export function retryAfterSeconds(source: unknown): number | null {
  const pick = (v: unknown) => {
    const n = typeof v === 'string' ? Number(v) : v;
    return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.ceil(n) : null;
  };
  if (source instanceof ApiError) {
    for (const e of source.errors) {
      const n = pick(e.extensions?.retryAfterSeconds) ?? pick(e.extensions?.retryAfter);
      if (n !== null) return n;
    }
    return null;
  }
  if (source && typeof source === 'object') {
    const o = source as Record<string, unknown>;
    const ext = o.extensions as Record<string, unknown> | undefined;
    return pick(o.retryAfter) ?? pick(ext?.retryAfterSeconds) ?? pick(ext?.retryAfter);
  }
  return null;
}

/** 「约 N 分钟」 / 「N 秒」 for a lock-out countdown. */
export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} 秒`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest ? `${minutes} 分 ${rest} 秒` : `${minutes} 分钟`;
}

export interface ApplyOptions {
  /** Server field → form field name, when they differ (e.g. `newParentId` → `parent`). */
  fieldMap?: Record<string, string | (string | number)[]>;
  messages?: ErrorMessages;
}

export interface FormLevelError {
  code: ErrorCode;
  text: string;
}

type NamePath = string | number | (string | number)[];

function hasMountedField(mounted: unknown, name: NamePath): boolean {
  const path = Array.isArray(name) ? name : [name];
  let cur: unknown = mounted;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !(key in (cur as object))) return false;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return true;
}

/**
 * Put each error beside its field (form.setFields) and return the rest — errors with no field, or
 * a field this form does not show — for a form-level alert. Fields not in error are cleared first.
 */
export function applyUserErrors(
  form: FormInstance,
  errors: readonly UserError[],
  options: ApplyOptions = {},
): FormLevelError[] {
  const mounted = form.getFieldsValue();
  const byField = new Map<string, { name: NamePath; messages: string[] }>();
  const rest: FormLevelError[] = [];
  for (const err of errors) {
    // A form's own text for this field and code was written for that form: it wins. Then the
    // server's sentence for the case, then the form's text for the code, then the dictionary.
    const own = err.field ? options.messages?.[`${err.field}.${err.code}`] : undefined;
    const text = own ?? chineseText(err.messageZh) ?? errorMessage(err.code, err.field, options.messages);
    const name: NamePath | null = err.field ? (options.fieldMap?.[err.field] ?? err.field) : null;
    if (name !== null && hasMountedField(mounted, name)) {
      const key = JSON.stringify(name);
      const entry = byField.get(key) ?? { name, messages: [] };
      if (!entry.messages.includes(text)) entry.messages.push(text);
      byField.set(key, entry);
    } else if (!rest.some((r) => r.text === text)) {
      rest.push({ code: err.code, text });
    }
  }
  form.setFields([...byField.values()].map(({ name, messages }) => ({ name, errors: messages })));
  return rest;
}
