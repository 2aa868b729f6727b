import { describe, expect, it } from 'vitest';
import { exportReason, lockoutText } from './access';

describe('login lock-out text', () => {
  it('says for how long, in seconds or minutes', () => {
    expect(lockoutText({ retryAfterSeconds: 45 })).toContain('45 秒后重试');
    expect(lockoutText({ retryAfterSeconds: 120 })).toContain('2 分钟后重试');
    expect(lockoutText({ retryAfterSeconds: 61 })).toContain('2 分钟后重试');
  });

  it('falls back when the server sent no duration', () => {
    expect(lockoutText(null)).toBeNull();
    expect(lockoutText({})).toBeNull();
    expect(lockoutText({ retryAfterSeconds: 'soon' })).toBeNull();
  });
});

describe('export reason', () => {
  it('sends a listed reason as is and other reasons as 其他：text', () => {
    expect(exportReason({ reason: '审计核查' })).toBe('审计核查');
    expect(exportReason({ reason: '其他', otherReason: '  配合劳动监察核查欠薪 ' })).toBe('其他：配合劳动监察核查欠薪');
  });
});
