// Test rosters: valid GB 11643 ID numbers, plus rows with the mistakes unions really make.
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export function idNumber(region, yyyymmdd, seq) {
  const body = `${region}${yyyymmdd}${String(seq).padStart(3, '0')}`;
  const sum = [...body].reduce((s, d, i) => s + Number(d) * WEIGHTS[i], 0);
  return body + CHECK[sum % 11];
}

function birth(i) {
  const d = new Date(Date.UTC(1970, 0, 1) + i * 86_400_000 * 7);
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英';

export const HEADER = ['姓名', '身份证号码', '所属工会', '手机号码', '工作单位', '工作状态', '会员标签', '入会日期'];

/** `good` valid rows (the first is 测试甲), then five bad ones. Returns { csv, firstId, bad }. */
export function roster(good, unit = 'sh-huangpu-bailian') {
  const rows = [HEADER];
  const firstId = idNumber('310101', '19850315', 21);
  rows.push(['测试甲', firstId, unit, '13800138000', '百联集团', '在岗', '', '2020-05-01']);
  for (let i = 1; i < good; i++) {
    const name = SURNAMES[i % SURNAMES.length] + GIVEN[(i * 7) % GIVEN.length] + GIVEN[(i * 3) % GIVEN.length];
    rows.push([name, idNumber('310101', birth(i), i % 1000), unit, `139${String(10_000_000 + i).slice(-8)}`, '百联集团', '在岗', '', '2021-01-01']);
  }
  const bad = [
    ['错校验', '310101198503150000', unit, '', '', '在岗', '', ''], // wrong checksum
    ['无工会', idNumber('310101', '19900101', 7), '不存在的工会', '', '', '在岗', '', ''], // unknown org unit
    ['错手机', idNumber('310101', '19900102', 8), unit, '1380013abcd', '', '在岗', '', ''], // phone with letters
    ['重复人', firstId, unit, '', '', '在岗', '', ''], // duplicate within the file
    ['十七位', '31010119900103001', unit, '', '', '在岗', '', ''], // 17 digits
  ];
  rows.push(...bad);
  const csv = '\ufeff' + rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\r\n') + '\r\n';
  return { csv, firstId, bad: bad.length };
}
