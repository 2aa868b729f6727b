import { describe, expect, it } from 'vitest';
import { formatBp, formatFen, formatYuan, yuanToFen } from './money';

describe('money', () => {
  it('formats fen as 元 without floating point', () => {
    expect(formatFen(0)).toBe('0.00');
    expect(formatFen(5)).toBe('0.05');
    expect(formatFen(123456)).toBe('1,234.56');
    expect(formatFen('-6000000')).toBe('-60,000.00');
    expect(formatFen('9007199254740993')).toBe('90,071,992,547,409.93'); // beyond 2^53
    expect(formatFen(100, { sign: true })).toBe('+1.00');
    expect(formatYuan(-150)).toBe('-¥1.50');
  });

  it('parses 元 typed by people into exact fen', () => {
    expect(yuanToFen('60000')).toBe('6000000');
    expect(yuanToFen('0.1')).toBe('10');
    expect(yuanToFen('1,234.56')).toBe('123456');
    expect(yuanToFen('１２３．４')).toBe('12340');
    expect(yuanToFen(12.5)).toBe('1250');
    expect(yuanToFen('1.234')).toBeNull();
    expect(yuanToFen('-1')).toBeNull();
    expect(yuanToFen('abc')).toBeNull();
    expect(yuanToFen('')).toBeNull();
  });

  it('formats basis points as percentages', () => {
    expect(formatBp(6000)).toBe('60.00%');
    expect(formatBp(1)).toBe('0.01%');
  });
});
