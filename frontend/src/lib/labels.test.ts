import { describe, expect, it } from 'vitest';
import { childLevels, parseMemberQuery } from './labels';

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

describe('childLevels', () => {
  it('follows the union hierarchy (the server has the last word)', () => {
    expect(childLevels('GRASSROOTS')).toEqual([]);
    expect(childLevels('INDUSTRY')).toEqual(['GRASSROOTS']);
    expect(childLevels('PROVINCE')).toContain('CITY');
  });
});
