import { describe, expect, it } from 'vitest';
import { actorLabel, auditActionLabel, parseMemberQuery, sourceTypeLabel, targetLabel } from './labels';
import { childLevelsOf } from '../api/reference';

describe('parseMemberQuery', () => {
  it('reads an 18- or 15-digit ID number as an exact ID search', () => {
    expect(parseMemberQuery('11010519491231002x')).toEqual({ idNumber: '11010519491231002X' });
    expect(parseMemberQuery(' 110105491231002 ')).toEqual({ idNumber: '110105491231002' });
  });
  it('reads an 11-digit mobile number as an exact phone search', () => {
    expect(parseMemberQuery('138 0013 8000')).toEqual({ phone: '13800138000' });
  });
  it('reads anything else as a name prefix', () => {
    expect(parseMemberQuery('张')).toEqual({ namePrefix: '张' });
    expect(parseMemberQuery('12345')).toEqual({ namePrefix: '12345' });
    expect(parseMemberQuery('   ')).toEqual({});
  });
});

describe('childLevelsOf', () => {
  // The rule itself is the server's (orgLevels; tests/integration/test_reference_rules.py checks it
  // against what orgUnitCreate accepts); the UI only reads it.
  const RULES = [
    { level: 'PROVINCE' as const, childLevels: ['CITY' as const, 'COUNTY' as const, 'GRASSROOTS' as const, 'INDUSTRY' as const] },
    { level: 'INDUSTRY' as const, childLevels: ['GRASSROOTS' as const] },
    { level: 'GRASSROOTS' as const, childLevels: [] },
  ];
  it('reads the levels allowed below a unit from the API rules, none before they load', () => {
    expect(childLevelsOf(RULES, 'GRASSROOTS')).toEqual([]);
    expect(childLevelsOf(RULES, 'INDUSTRY')).toEqual(['GRASSROOTS']);
    expect(childLevelsOf(RULES, 'PROVINCE')).toContain('CITY');
    expect(childLevelsOf(undefined, 'PROVINCE')).toEqual([]);
  });
});

describe('audit labels', () => {
  it('names system actors in Chinese and leaves people as they are', () => {
    expect(actorLabel('cli', null)).toBe('命令行');
    expect(actorLabel('tenants-sync', null)).toBe('租户同步');
    expect(actorLabel('demo', null)).toBe('演示数据');
    expect(actorLabel('', null)).toBe('系统');
    expect(actorLabel('王经办', 'VXNlcjoz')).toBe('王经办');
    // A real user who happens to be called "cli" is still that user.
    expect(actorLabel('cli', 'VXNlcjo5')).toBe('cli');
  });

  it('never shows a raw action code, even for an action it has no label for', () => {
    for (const a of ['ledger.levy', 'ledger.transfer.up', 'demo.seed', 'member.purge']) expect(auditActionLabel(a)).toMatch(/^[^a-z_.]+$/);
    expect(auditActionLabel('member.something_new')).toBe('会员：其他操作');
    expect(auditActionLabel('widget.frob')).toBe('其他操作');
  });

  it('names objects instead of 用户 #11', () => {
    expect(targetLabel('User', '11', '王经办（clerk）')).toBe('用户「王经办（clerk）」');
    expect(targetLabel('LedgerEntry', '42')).toBe('记账凭证（编号 42）');
    expect(targetLabel('SomethingNew', '7')).toBe('其他对象（编号 7）');
    expect(targetLabel('', '')).toBe('—');
  });

  it('shows ledger sources in Chinese, not their codes', () => {
    expect(sourceTypeLabel('aid_grant')).toBe('困难帮扶补助');
    expect(sourceTypeLabel('levy')).toBe('拨缴经费');
    expect(sourceTypeLabel(null)).toBe('—');
  });
});
