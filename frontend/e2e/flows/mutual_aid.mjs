// The mutual-aid capability (职工互助保障) end to end: a unit's enrolment with the ratio check, the
// premiums into the plan's fund, a claim entered with a document, checked and approved by the union
// above, paid by finance; then the worker's cover and claim at phone width.
import assert from 'node:assert/strict';
import { PHONE, uvRunSync } from '../harness.mjs';
import { gqlAs, login, logout, pickOption, tokenFor } from '../helpers.mjs';
import { idNumber } from '../roster.mjs';

const UNIT = 'sh-jianshe-ditie'; // 上海申通地铁集团有限公司工会, a grassroots union no other flow uses
const UNIT_NAME = '上海申通地铁集团有限公司工会';
const PLAN = 'shanghai_class_b';
const PLAN_NAME = '会员专享基本保障（B类·重大病）';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

/** antd spaces out a two-character Chinese button label (审 批): match with or without. */
const spaced = (label) => new RegExp(`^${label.split('').join('\\s*')}$`);

async function unitId(base, token, code) {
  const units = await gqlAs(base, token, 'query($c:String!){ orgUnits(filter:{nameContains:$c}, first:50){ nodes{ id code } } }', { c: '地铁' });
  const unit = units.data.orgUnits.nodes.find((u) => u.code === code);
  assert.ok(unit, `unit ${code} exists`);
  return unit.id;
}

async function rootUnitId(base, token) {
  const units = await gqlAs(base, token, 'query($c:String!){ orgUnits(filter:{nameContains:$c}, first:50){ nodes{ id code } } }', { c: '上海市总工会' });
  return units.data.orgUnits.nodes.find((u) => u.code === 'sh').id;
}

/**
 * One member's premium (70 元) cannot pay a 10,000 元 benefit: the scheme's fund also holds the city
 * union's grant (上级补助 403), entered by finance like any income (at the manual-entry threshold, so
 * it posts at once).
 */
async function grantToFund(base) {
  const finance = await tokenFor(base, 'finance');
  const r = await gqlAs(base, finance, 'mutation($i:LedgerEntryInput!){ ledgerEntryCreate(input:$i){ entry{ id } draft{ id } errors{ field code message } } }', {
    i: {
      idempotencyKey: `e2e-mutual-aid-grant-${Date.now()}`,
      memo: '互助保障金上级补助',
      postings: [
        { side: 'DEBIT', amountFen: 1_000_000, orgUnitId: await rootUnitId(base, finance), fund: `mutual_aid.${PLAN}`, code: '102' },
        { side: 'CREDIT', amountFen: 1_000_000, orgUnitId: await rootUnitId(base, finance), fund: `mutual_aid.${PLAN}`, code: '403' },
      ],
    },
  });
  assert.deepEqual(r.data.ledgerEntryCreate.errors, [], 'the plan’s fund received the grant');
  assert.ok(r.data.ledgerEntryCreate.entry, 'posted at once');
}

/** Cover starts the day after enrolment: set the member's cover start two days back, as if enrolled then. */
function enrolledTwoDaysAgo(backend, idn) {
  const code = [
    'import asyncio, datetime as dt',
    'from core.dbutil import with_database',
    'from core.sdk import raw, find_members_by_id_number, tenant_scope',
    'from core.tenancy.queries import get_tenant',
    'async def main():',
    '    t = await get_tenant(code="shanghai")',
    '    with tenant_scope(t):',
    `        m = (await find_members_by_id_number(t, ["${idn}"]))["${idn}"]`,
    `        await raw("UPDATE mutual_aid_enrolment SET cover_from = {} WHERE tenant_id = {} AND member_id = {} AND plan_code = {}", dt.date.today() - dt.timedelta(days=2), t.id, m, "${PLAN}")`,
    '        print("backdated", m)',
    'asyncio.run(with_database(main))',
  ].join('\n');
  const r = uvRunSync(backend, ['python', '-c', code]);
  assert.equal(r.status, 0, `backdated:\n${r.stdout}\n${r.stderr}`);
}

async function chooseUnit(page) {
  await pickOption(page, '保障计划', PLAN_NAME);
  await pickOption(page, '参保单位', '申通地铁');
}

async function headerState(page, label) {
  await page.locator('.hj-page-header').getByText(label, { exact: true }).waitFor();
}

export const FLOWS = [
  {
    name: 'mutual aid: a unit enrols with the ratio shown, premiums reach the fund, a claim is checked, approved above the unit and paid',
    async run({ page, base, backend }) {
      const name = '互助甲';
      const idn = idNumber('310101', '19800505', 913);
      const admin = await tokenFor(base, 'admin');
      const made = await gqlAs(base, admin, 'mutation($i:MemberCreateInput!){ memberCreate(input:$i){ member{ id } errors{ field code } } }', {
        i: { name, idNumber: idn, orgUnitId: await unitId(base, admin, UNIT), employer: '申通地铁' },
      });
      assert.deepEqual(made.data.memberCreate.errors, [], `created ${name}`);

      // 单位参保 by the clerk: the plan's rules, the ratio as members are chosen
      await login(page, { username: 'clerk' });
      await page.goto('/mutual-aid/plans');
      await page.getByTestId('mutual-aid-plan').filter({ hasText: PLAN_NAME }).waitFor();
      await page.goto('/mutual-aid/enrol');
      await page.getByRole('heading', { level: 1, name: '单位参保' }).waitFor();
      await chooseUnit(page);
      const ratio = page.getByTestId('ratio-check');
      await ratio.getByText('请勾选参保会员').waitFor();
      await page.getByRole('row', { name: new RegExp(name) }).getByRole('checkbox').check();
      await ratio.getByText('已达到最低参保比例').waitFor();
      await page.getByRole('button', { name: /办理参保（1 人）/ }).click();
      await page.getByText('已为 1 名会员办理参保').waitFor();
      await logout(page);

      // 会费入账 by finance: the unit's premiums into the plan's fund
      await login(page, { username: 'finance' });
      await page.goto('/mutual-aid/enrol');
      await chooseUnit(page);
      await page.getByRole('button', { name: /会费入账/ }).click();
      await page.locator('.ant-popconfirm').getByRole('button', { name: spaced('入账') }).click();
      await page.getByText(/已入账 \d+ 笔会费/).waitFor();
      await logout(page);

      await grantToFund(base);
      enrolledTwoDaysAgo(backend, idn);

      // 录入申请 by the clerk, with a diagnosis
      await login(page, { username: 'clerk' });
      await page.goto('/mutual-aid/claims');
      await page.getByRole('button', { name: /录入申请/ }).click();
      const dialog = page.getByRole('dialog', { name: '录入互助申请' });
      await pickOption(page, '保障计划', PLAN_NAME);
      await dialog.getByLabel('会员身份证号码').fill(idn);
      await pickOption(page, '给付项目', '疾病身故');
      const today = new Date().toISOString().slice(0, 10);
      await dialog.getByLabel('事故（发病）日期').fill(today);
      await dialog.getByLabel('事故（发病）日期').press('Enter');
      await dialog.locator('input[type=file]').setInputFiles({ name: '死亡证明.pdf', mimeType: 'application/pdf', buffer: PDF });
      await dialog.getByRole('button', { name: spaced('提交') }).click();
      await page.getByRole('heading', { level: 1, name: /互助申请 · 疾病身故/ }).waitFor();
      await headerState(page, '已受理');
      const claimUrl = page.url();
      const amount = await page.getByTestId('claim-amount').innerText();
      assert.match(amount, /¥10,000\.00/, `the benefit: ${amount}`);
      // the clerk who entered it is offered no approval
      assert.equal(await page.locator('.hj-page-header').getByRole('button', { name: spaced('审批') }).count(), 0);
      await logout(page);

      // 核查 and 审批 by the approver at the city union (above the unit)
      await login(page, { username: 'approver' });
      await page.goto(claimUrl);
      await page.locator('.hj-page-header').getByRole('button', { name: spaced('核查') }).click();
      await headerState(page, '已核查');
      await page.locator('.hj-page-header').getByRole('button', { name: spaced('审批') }).click();
      await headerState(page, '已审批');
      await logout(page);

      // 给付 by finance
      await login(page, { username: 'finance' });
      await page.goto(claimUrl);
      await page.locator('.hj-page-header').getByRole('button', { name: spaced('给付') }).click();
      await headerState(page, '已给付');
      assert.equal(await page.locator('.hj-page-header').getByRole('button').count(), 0, 'a paid claim offers no step');
    },
  },
  {
    name: 'mutual aid: a worker at phone width sees their cover, claims with a document and follows the claim',
    viewport: PHONE,
    async run({ page, base, backend }) {
      const name = '互助乙';
      const idn = idNumber('310101', '19850606', 914);
      const phone = '13922220914';
      const admin = await tokenFor(base, 'admin');
      const unit = await unitId(base, admin, UNIT);
      const made = await gqlAs(base, admin, 'mutation($i:MemberCreateInput!){ memberCreate(input:$i){ member{ id } errors{ field code } } }', {
        i: { name, idNumber: idn, phone, orgUnitId: unit, employer: '申通地铁' },
      });
      assert.deepEqual(made.data.memberCreate.errors, [], `created ${name}`);
      const member = made.data.memberCreate.member.id;
      const clerk = await tokenFor(base, 'clerk');
      const enrolled = await gqlAs(base, clerk, 'mutation($i:MutualAidEnrolInput!){ mutualAidEnrol(input:$i){ enrolments{ id } errors{ code message } } }', {
        i: { plan: PLAN, orgUnitId: unit, unitKind: 'OTHER', memberIds: [member], shares: 1, batchKey: `e2e-worker-${Date.now()}` },
      });
      assert.deepEqual(enrolled.data.mutualAidEnrol.errors, [], 'enrolled');
      enrolledTwoDaysAgo(backend, idn);

      await page.goto('/m/register');
      await page.getByRole('heading', { name: '职工注册' }).waitFor();
      await pickOption(page, '所在省（市）', '上海市总工会');
      await page.getByLabel('姓名').fill(name);
      await page.getByLabel('身份证号码').fill(idn);
      await page.getByLabel('手机号码').fill(phone);
      await page.getByLabel('设置密码').fill('worker-pass-123');
      await page.getByLabel('确认密码').fill('worker-pass-123');
      await page.getByRole('button', { name: /注\s*册/ }).click();
      await page.getByText('您已绑定会员身份').waitFor();

      await page.getByText('我的互助保障', { exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/m/mutual-aid/cover');
      const cover = page.getByTestId('mutual-aid-cover').filter({ hasText: PLAN_NAME });
      await cover.getByText('保障中').waitFor();
      await page.getByText('暂无互助金申请').waitFor();
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(over <= 1, `no sideways scrolling (overflow ${over}px)`);

      await page.getByRole('button', { name: '申请互助金' }).click();
      const drawer = page.getByRole('dialog', { name: '申请互助金' });
      await pickOption(page, '保障计划', PLAN_NAME);
      await pickOption(page, '给付项目', '重大疾病');
      await drawer.getByLabel('事故（发病）日期').fill(new Date().toISOString().slice(0, 10));
      await drawer.getByLabel('事故（发病）日期').press('Enter');
      await drawer.locator('input[type=file]').setInputFiles({ name: '诊断证明.pdf', mimeType: 'application/pdf', buffer: PDF });
      await drawer.getByRole('button', { name: '提交申请' }).click();
      await page.getByText('申请已提交，工会核查后将在此显示进度').waitFor();
      const claim = page.getByTestId('my-mutual-aid-claim');
      await claim.getByText('已受理', { exact: true }).waitFor();

      // the union checks it; the worker sees the new state
      const approver = await tokenFor(base, 'approver');
      const list = await gqlAs(base, approver, 'query($f:MutualAidClaimFilter){ mutualAidClaims(filter:$f, first:5){ nodes{ id } } }', { f: { memberId: member } });
      const id = list.data.mutualAidClaims.nodes[0].id;
      const checked = await gqlAs(base, approver, 'mutation($id:ID!){ mutualAidClaimStep(id:$id, action:CHECK){ errors{ code message } } }', { id });
      assert.deepEqual(checked.data.mutualAidClaimStep.errors, [], 'checked');
      await page.reload();
      await page.getByTestId('my-mutual-aid-claim').getByText('已核查', { exact: true }).waitFor();
    },
  },
];
