// The hardship capability (困难职工帮扶) end to end: a staff flow from application to paid aid, and
// the worker's self-test, application and case status at phone width.
import assert from 'node:assert/strict';
import { PHONE, shot, uvRunSync } from '../harness.mjs';
import { gqlAs, login, logout, pickOption, tokenFor } from '../helpers.mjs';
import { idNumber } from '../roster.mjs';

const UNIT = 'sh-huangpu-bailian'; // 百联集团有限公司工会, a grassroots union of 黄浦区
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

async function unitId(base, token, code) {
  const units = await gqlAs(base, token, 'query($c:String!){ orgUnits(filter:{nameContains:$c}, first:50){ nodes{ id code } } }', { c: '百联' });
  const unit = units.data.orgUnits.nodes.find((u) => u.code === code);
  assert.ok(unit, `unit ${code} exists`);
  return unit.id;
}

/** A member of 百联 with a household of their own (and the phone on file when given), through the API. */
async function memberWithHousehold(base, { name, id, phone }) {
  const admin = await tokenFor(base, 'admin');
  const r = await gqlAs(base, admin, 'mutation($i:MemberCreateInput!){ memberCreate(input:$i){ member{ id } errors{ field code } } }', {
    i: { name, idNumber: id, orgUnitId: await unitId(base, admin, UNIT), employer: '百联集团', ...(phone ? { phone } : {}) },
  });
  assert.deepEqual(r.data.memberCreate.errors, [], `created ${name}`);
  const member = r.data.memberCreate.member.id;
  const hh = await gqlAs(base, admin, 'mutation($m:ID!){ householdCreate(memberId:$m){ household{ id } errors{ code } } }', { m: member });
  assert.deepEqual(hh.data.householdCreate.errors, [], `household of ${name}`);
  return member;
}

/** Income into 百联's hardship fund (10,000 元, under the manual-entry approval threshold), so a grant can be reserved. */
async function fundHardship(base) {
  const finance = await tokenFor(base, 'finance');
  const unit = await unitId(base, finance, UNIT);
  const r = await gqlAs(base, finance, 'mutation($i:LedgerEntryInput!){ ledgerEntryCreate(input:$i){ entry{ id } draft{ id } errors{ field code message } } }', {
    i: {
      idempotencyKey: `e2e-hardship-fund-${Date.now()}`,
      memo: '困难职工帮扶专项资金拨入',
      postings: [
        { side: 'DEBIT', amountFen: 1_000_000, orgUnitId: unit, fund: 'hardship', code: '102' },
        { side: 'CREDIT', amountFen: 1_000_000, orgUnitId: unit, fund: 'hardship', code: '403' },
      ],
    },
  });
  assert.deepEqual(r.data.ledgerEntryCreate.errors, [], 'the hardship fund received its money');
  assert.ok(r.data.ledgerEntryCreate.entry, 'posted at once (under the approval threshold)');
}

/** What the host's cron does once the notice period is over: run the workflow timers as of 8 days from now. */
function noticePeriodPasses(backend) {
  const code = [
    'import asyncio, datetime as dt',
    'from core.dbutil import with_database, utcnow',
    'from core.workflow.jobs import run_timers_everywhere',
    'async def main():',
    '    print(await run_timers_everywhere(now=utcnow() + dt.timedelta(days=8)))',
    'asyncio.run(with_database(main))',
  ].join('\n');
  const r = uvRunSync(backend, ['python', '-c', code]);
  assert.equal(r.status, 0, `timers ran:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /'fired': [1-9]/, `a notice period ended: ${r.stdout}`);
}

/** antd spaces out a two-character Chinese button label (初 审): match with or without. */
const spaced = (label) => new RegExp(`^${label.split('').join('\\s*')}$`);

async function step(page, label, { reasons } = {}) {
  await page.locator('.hj-page-header').getByRole('button', { name: spaced(label) }).click();
  const dialog = page.getByRole('dialog');
  if (reasons) await dialog.getByLabel(/理由|办理意见/).fill(reasons);
  await dialog.getByRole('button', { name: spaced(label) }).click();
  await page.getByText(`已办理：${label}`).waitFor();
  await dialog.waitFor({ state: 'detached' });
}

async function openCase(page, name) {
  await page.goto('/hardship/cases');
  await page.getByRole('heading', { level: 1, name: '困难职工档案' }).waitFor();
  await page.getByLabel('姓名').fill(name);
  await page.getByRole('button', { name: /查\s*询/ }).click();
  await page.getByRole('link', { name }).click();
  await page.getByRole('heading', { level: 1, name: `${name}家庭档案` }).waitFor();
}

async function upload(page, kind, filename) {
  await page.locator('.ant-select', { has: page.getByRole('combobox', { name: '材料类型' }) }).click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: kind }).first().click();
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: /上传材料/ }).click();
  await (await chooser).setFiles({ name: filename, mimeType: 'application/pdf', buffer: PDF });
  await page.getByText(`已上传：${filename}`).waitFor();
}

export const FLOWS = [
  {
    name: 'hardship: a clerk applies, the case goes through review, visit, civil check, notice and approval, aid is approved and paid',
    async run({ page, base, backend }) {
      const name = '严困难';
      await memberWithHousehold(base, { name, id: idNumber('310101', '19790303', 731) });
      await fundHardship(base);

      // 建档申请 by the clerk
      await login(page, { username: 'clerk' });
      await page.getByRole('menuitem', { name: '困难职工档案' }).click();
      await page.getByRole('heading', { level: 1, name: '困难职工档案' }).waitFor();
      await page.getByRole('button', { name: /建档申请/ }).click();
      const create = page.getByRole('dialog', { name: '建档申请' });
      await create.getByLabel('申请人（会员）').fill(name);
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: name }).first().click();
      await create.getByLabel('地区代码').fill('310101');
      await create.getByLabel('家庭月收入（元）').fill('1000');
      await create.getByLabel('月刚性支出（元）').fill('400');
      await create.getByLabel('银行卡号').fill('6222020200112233445');
      await create.getByRole('button', { name: '提交申请' }).click();
      await page.getByRole('heading', { level: 1, name: `${name}家庭档案` }).waitFor();
      await page.getByText('**** 3445').waitFor();
      const category = await page.getByTestId('hardship-classification').innerText();
      assert.match(category, /深度困难|相对困难/, `classified: ${category}`);
      // a clerk cannot review: the only step offered is none until 初审 (approver)
      assert.equal(await page.locator('.hj-page-header').getByRole('button', { name: spaced('初审') }).count(), 0);
      await upload(page, '帮扶申请书', '帮扶申请书.pdf');
      await upload(page, '授权委托书', '授权委托书.pdf');
      await shot(page, 'hardship-case-applied');
      await logout(page);

      await login(page, { username: 'approver' });
      await openCase(page, name);
      await step(page, '初审');
      await logout(page);

      await login(page, { username: 'clerk' });
      await openCase(page, name);
      await step(page, '入户走访');
      await step(page, '民政核对');
      await step(page, '公示');
      await page.getByTestId('hardship-timeline').getByText(/公示 → 公示中/).waitFor();
      await logout(page);

      noticePeriodPasses(backend);

      await login(page, { username: 'approver' });
      await openCase(page, name);
      await page.getByText('待审批').first().waitFor();
      await step(page, '审批建档');
      await page.getByTestId('hardship-timeline').getByText(/审批建档 → 已建档/).waitFor();
      await logout(page);

      // 申请救助: the breakdown and the cap before submitting
      await login(page, { username: 'clerk' });
      await openCase(page, name);
      await page.getByTestId('hardship-grants').getByRole('button', { name: /申请救助/ }).click();
      const aid = page.getByRole('dialog', { name: '申请救助' });
      await aid.getByTestId('aid-cap').waitFor();
      await aid.getByText('按规则测算', { exact: true }).waitFor();
      const quote = await aid.getByTestId('aid-quote').innerText();
      assert.match(quote, /年度上限/, quote);
      await shot(page, 'hardship-aid-form');
      await aid.getByRole('button', { name: '提交救助申请' }).click();
      await page.getByText('已提交救助申请').waitFor();
      await page.getByTestId('hardship-grants').getByText('待审批').waitFor();
      await logout(page);

      await login(page, { username: 'approver' });
      await openCase(page, name);
      await page.getByTestId('hardship-grants').getByRole('button', { name: /审\s*批/ }).click();
      await page.getByRole('dialog').getByRole('button', { name: /审\s*批/ }).click();
      await page.getByTestId('hardship-grants').getByText('已审批').waitFor();
      await logout(page);

      await login(page, { username: 'finance' });
      await openCase(page, name);
      await page.getByTestId('hardship-grants').getByRole('button', { name: /发\s*放/ }).click();
      await page.getByRole('dialog').getByRole('button', { name: /发\s*放/ }).click();
      await page.getByTestId('hardship-grants').getByText('已发放').waitFor();
      await shot(page, 'hardship-case-paid');

      // the dashboard counts the paid aid
      await page.getByRole('menuitem', { name: '帮扶统计' }).click();
      await page.getByText('已发放救助（元）').waitFor();
      const paid = await page.locator('.ant-statistic', { hasText: '已发放救助（元）' }).locator('.ant-statistic-content').innerText();
      assert.notEqual(paid.trim(), '0.00', `paid aid counted: ${paid}`);
    },
  },
  {
    name: 'hardship: a worker at phone width takes the self-test, applies, and sees the case status',
    viewport: PHONE,
    async run({ page, base }) {
      const id = idNumber('310101', '19860606', 732);
      const phone = '13922220003';
      await memberWithHousehold(base, { name: '柏自测', id, phone });
      await page.goto('/m/register');
      await page.getByRole('heading', { name: '职工注册' }).waitFor();
      await pickOption(page, '所在省（市）', '上海市总工会');
      await page.getByLabel('姓名').fill('柏自测');
      await page.getByLabel('身份证号码').fill(id);
      await page.getByLabel('手机号码').fill(phone);
      await page.getByLabel('设置密码').fill('worker-pass-123');
      await page.getByLabel('确认密码').fill('worker-pass-123');
      await page.getByRole('button', { name: /注\s*册/ }).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/m/register'));
      await page.goto('/m/');
      await page.getByText('困难自测').click();
      await page.getByRole('heading', { name: '困难自测' }).waitFor();
      await page.getByLabel('家庭月收入（元）').fill('900');
      await page.getByLabel('月刚性支出（元）').fill('300');
      await page.getByRole('button', { name: /开始自测/ }).click();
      const result = page.getByTestId('self-test-result');
      await result.waitFor();
      assert.match(await result.innerText(), /深度困难|相对困难/);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `no sideways scrolling at 390 px (${width})`);
      await shot(page, 'portal-hardship-self-test');
      // nothing stored yet
      const token = await page.evaluate(() => JSON.parse(localStorage.getItem('huijia.portal.session')).token);
      assert.deepEqual((await gqlAs(base, token, '{ myHardshipCases { id } }')).data.myHardshipCases, []);
      await result.getByRole('button', { name: /申请帮扶/ }).click();
      await page.waitForURL((u) => u.pathname === '/m/hardship/cases');
      const card = page.getByTestId('my-hardship-case');
      await card.getByText('已申请').first().waitFor();
      await card.getByText('提交申请（已申请）').waitFor();
      await shot(page, 'portal-hardship-case');
    },
  },
];
