/**
 * Money is integer fen (分) in the API (GraphQL BigInt). Send it as a JSON integer: the API refuses
 * strings and decimals. Fen amounts stay below 2^53 (the ledger caps a posting at 10^15), so Number is exact.
 * These helpers never go through floating point, so 0.1 + 0.2 problems cannot appear.
 */

export type Fen = number | string | bigint;

export function toBigInt(v: Fen | null | undefined): bigint {
  if (v === null || v === undefined || v === '') return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return BigInt(v.trim());
}

/** 123456 → "1,234.56" (元, two decimals, grouped). */
export function formatFen(v: Fen | null | undefined, { sign = false }: { sign?: boolean } = {}): string {
  const b = toBigInt(v);
  const neg = b < 0n;
  const abs = neg ? -b : b;
  const yuan = (abs / 100n).toLocaleString('zh-CN');
  const fen = (abs % 100n).toString().padStart(2, '0');
  const prefix = neg ? '-' : sign && b > 0n ? '+' : '';
  return `${prefix}${yuan}.${fen}`;
}

/** "¥1,234.56" */
export function formatYuan(v: Fen | null | undefined): string {
  const s = formatFen(v);
  return s.startsWith('-') ? `-¥${s.slice(1)}` : `¥${s}`;
}

/**
 * Parse an amount typed in 元 ("1234.5", "1,234.56", "１２３") into fen as a decimal string.
 * Returns null for anything that is not a non-negative amount with at most two decimals.
 */
export function yuanToFen(input: string | number | null | undefined): string | null {
  if (input === null || input === undefined) return null;
  const s = String(input)
    .replace(/[０-９．]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[,，\s]/g, '');
  const m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) return null;
  const fen = BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0') || '0');
  return fen.toString();
}

/** Basis points → "12.34%". */
export function formatBp(bp: number | null | undefined): string {
  if (bp === null || bp === undefined) return '—';
  return `${(bp / 100).toFixed(2)}%`;
}
