// Helpers shared by the end-to-end flows (flows.mjs and every file under flows/).
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DESKTOP, PHONE, shot } from './harness.mjs';
import { idNumber, roster } from './roster.mjs';
export const PASSWORD = 'huijia-demo';

export async function pickOption(page, label, text) {
  // Open the Select by clicking it; type to filter when it is searchable.
  const box = page.getByLabel(label, { exact: true });
  await page.locator('.ant-select', { has: box }).click();
  if ((await box.getAttribute('readonly')) === null) await page.keyboard.type(text);
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: text }).first().click();
}

export async function login(page, { province = '上海市总工会', username, password = PASSWORD }) {
  await page.goto('/login');
  await page.getByRole('heading', { name: '账号登录' }).waitFor();
  await pickOption(page, '所属省份', province);
  // The login page can re-render once right after an expired session is cleared, emptying the
  // username typed a moment before (seen in about 1 of 5 full runs): if the form then says the
  // username is missing, type it again rather than fail.
  for (let attempt = 0; ; attempt++) {
    await page.getByLabel('用户名').fill(username);
    await page.getByLabel('密码').fill(password);
    await page.getByRole('button', { name: /登\s*录/ }).click();
    const outcome = await Promise.race([
      // each settles either way: the loser must not surface later as an unhandled rejection
      page.waitForURL((u) => u.pathname !== '/login').then(() => 'in', () => 'timeout'),
      page.getByText('请输入用户名').waitFor().then(() => 'retry', () => 'timeout'),
    ]);
    if (outcome === 'in' || attempt === 2) break;
  }
  // back to where the user was sent from (the dashboard by default)
  await page.waitForURL((u) => u.pathname !== '/login');
  await page.locator('h1#hj-page-title').waitFor();
}

export async function menuItems(page) {
  const items = await page.locator('nav[aria-label="主菜单"] .ant-menu-item').allInnerTexts();
  return items.map((s) => s.trim());
}

export async function gqlAs(base, token, query, variables = {}) {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return r.json();
}

export async function tokenFor(base, username, tenant = 'shanghai') {
  const r = await gqlAs(base, null, 'mutation($t:String!,$u:String!,$p:String!){login(tenantCode:$t,username:$u,password:$p){token}}', { t: tenant, u: username, p: PASSWORD });
  return r.data.login.token;
}

/** Register a member through the API (as the tenant admin) in the union with this code; returns its id. */
export async function createMemberApi(base, { name, id, unitCode = 'sh-huangpu-bailian' }) {
  const token = await tokenFor(base, 'admin');
  const units = await gqlAs(base, token, 'query($c:String!){ orgUnits(filter:{nameContains:$c}, first:50){ nodes{ id code } } }', { c: '' });
  const unit = units.data.orgUnits.nodes.find((u) => u.code === unitCode);
  assert.ok(unit, `unit ${unitCode} exists`);
  const r = await gqlAs(base, token, 'mutation($i:MemberCreateInput!){ memberCreate(input:$i){ member{ id } errors{ field code } } }', { i: { name, idNumber: id, orgUnitId: unit.id, employer: '百联集团' } });
  assert.deepEqual(r.data.memberCreate.errors, [], `created ${name}`);
  return r.data.memberCreate.member.id;
}

/** Fen from an amount as the UI shows it ("¥1,234.56", "1,234.56"). */
export function fenOf(text) {
  const m = /(-?)¥?\s*([\d,]+)\.(\d{2})/.exec(text);
  assert.ok(m, `an amount in ${JSON.stringify(text)}`);
  return (m[1] ? -1 : 1) * (Number(m[2].replace(/,/g, '')) * 100 + Number(m[3]));
}

/** The dashboard's 货币资金合计 (waits for the panel), in fen; 0 when the province has no entries yet. */
export async function dashboardCashFen(page) {
  await page.getByRole('menuitem', { name: '工作台' }).click();
  const panel = page.locator('.ant-statistic', { hasText: '货币资金合计（元）' });
  const empty = page.getByText('尚无经费收支记录');
  await Promise.race([panel.locator('.ant-statistic-content').waitFor(), empty.waitFor()]);
  if (await empty.count()) return 0;
  return fenOf(await panel.locator('.ant-statistic-content').innerText());
}

// The province union's own 银行存款 in 工会经费 on the 账户余额 page (lower units' names never
// contain 上海市总工会).
export const PROVINCE_BANK_ROW = /上海市总工会\s+工会经费.*102 银行存款/;

export async function provinceBankFen(page) {
  const row = page.getByRole('row', { name: PROVINCE_BANK_ROW });
  if ((await row.count()) === 0) return 0;
  const cells = await row.locator('td').allInnerTexts();
  const amounts = cells.filter((t) => /\d\.\d{2}/.test(t));
  return fenOf(amounts[0]); // 余额 comes before 预留 and 可用
}

export async function logout(page) {
  await page.getByRole('button', { name: /用户菜单/ }).click();
  await page.getByText('退出登录').click();
  await page.waitForURL('**/login');
}

/** The form-item help (error) text under a field of the named antd form. */
export function fieldHelp(page, form, field) {
  return page.locator(`#${form}_${field}_help`);
}

export async function noSidewaysScroll(page, what) {
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(over <= 1, `no horizontal scrolling on ${what} (overflow ${over}px)`);
}

/** Make sure 测试甲 exists (when the reveal flow runs alone): import a one-person roster through the API. */
export async function ensureMember(base) {
  const login = await gqlAs(base, null, 'mutation($p:String!){login(tenantCode:"shanghai",username:"admin",password:$p){token}}', { p: PASSWORD });
  const token = login.data.login.token;
  const found = await gqlAs(base, token, '{ members(filter:{namePrefix:"测试甲"}, first:1) { totalCount } }');
  if (found.data.members.totalCount > 0) return;
  const up = await fetch(`${base}/imports?filename=one.csv`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: roster(1).csv });
  const { import: imp } = await up.json();
  for (let i = 0; i < 100; i++) {
    const r = await gqlAs(base, token, 'query($id:ID!){ memberImport(id:$id){ status } }', { id: imp.id });
    if (r.data.memberImport.status === 'PREVIEWED') break;
    await new Promise((res) => setTimeout(res, 200));
  }
  await gqlAs(base, token, 'mutation($id:ID!){ memberImportCommit(id:$id, allowErrors:true){ errors{code} } }', { id: imp.id });
  for (let i = 0; i < 100; i++) {
    const r = await gqlAs(base, token, 'query($id:ID!){ memberImport(id:$id){ status } }', { id: imp.id });
    if (r.data.memberImport.status === 'COMMITTED') return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error('could not import 测试甲');
}

