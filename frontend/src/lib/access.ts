/** Texts and values around access control: the login lock-out and reasons for unmasked data. */

/** "请在 45 秒后重试" / "请在 3 分钟后重试": the lock-out says for how long (`retryAfterSeconds`). */
export function lockoutText(extensions: unknown): string | null {
  const seconds = Number((extensions as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds);
  if (!Number.isFinite(seconds) || seconds <= 0) return null;
  const wait = seconds < 60 ? `${Math.ceil(seconds)} 秒` : `${Math.ceil(seconds / 60)} 分钟`;
  return `该账号在本机登录失败次数过多，请在 ${wait}后重试，或请管理员解除锁定`;
}

export const OTHER_REASON = '其他';

/** What the API takes: a listed reason as is, or "其他：" and the text written. */
export function exportReason(v: { reason?: string; otherReason?: string }): string {
  if (v.reason === OTHER_REASON) return `其他：${(v.otherReason ?? '').trim()}`;
  return v.reason ?? '';
}
