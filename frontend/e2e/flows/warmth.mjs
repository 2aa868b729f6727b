// The warmth capability (送温暖) end to end: a clerk creates a campaign with the wizard, previews it
// and builds its list, the approver approves it (the general fund reserved), the clerk distributes
// it watching the progress, the worker confirms receipt at phone width, and staff see it confirmed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DESKTOP, PHONE, shot } from '../harness.mjs';
import { gqlAs, login, logout, noSidewaysScroll, pickOption, tokenFor } from '../helpers.mjs';
import { idNumber } from '../roster.mjs';

const UNIT = 'sh-huangpu-bailian'; // 百联集团有限公司工会

async function unitId(base, token) {
  const units = await gqlAs(base, token, 'query($c:String!){ orgUnits(filter:{nameContains:$c}, first:50){ nodes{ id code } } }', { c: '百联' });
  const unit = units.data.orgUnits.nodes.find((u) => u.code === UNIT);
  assert.ok(unit, `unit ${UNIT} exists`);
  return unit.id;
}

/** A model worker (劳动模范) of 百联 with a phone, so the worker can register and the list finds them. */
async function modelWorker(base, { name, id, phone }) {
  const admin = await tokenFor(base, 'admin');
  const r = await gqlAs(base, admin, 'mutation($i:MemberCreateInput!){ memberCreate(input:$i){ member{ id } errors{ field code } } }', {
    i: { name, idNumber: id, phone, orgUnitId: await unitId(base, admin), employer: '百联集团', tags: ['model_worker'] },
  });
  assert.deepEqual(r.data.memberCreate.errors, [], `created ${name}`);
}

/** 20,000 元 into 百联's general fund (Dr 102 / Cr 404, under the manual-entry approval threshold). */
async function fundGeneral(base) {
  const finance = await tokenFor(base, 'finance');
  const unit = await unitId(base, finance);
  const r = await gqlAs(base, finance, 'mutation($i:LedgerEntryInput!){ ledgerEntryCreate(input:$i){ entry{ id } draft{ id } errors{ field code message } } }', {
    i: {
      idempotencyKey: `e2e-warmth-fund-${Date.now()}`,
      memo: '送温暖慰问经费拨入',
      postings: [
        { side: 'DEBIT', amountFen: 2_000_000, orgUnitId: unit, fund: 'general', code: '102' },
        { side: 'CREDIT', amountFen: 2_000_000, orgUnitId: unit, fund: 'general', code: '404' },
      ],
    },
  });
  assert.deepEqual(r.data.ledgerEntryCreate.errors, [], 'the general fund received its money');
  assert.ok(r.data.ledgerEntryCreate.entry, 'posted at once (under the approval threshold)');
}

const spaced = (label) => new RegExp(`^${label.split('').join('\\s*')}$`);
const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

async function step(page, label) {
  await page.locator('.hj-page-header').getByRole('button', { name: spaced(label) }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: spaced(label) }).click();
  await page.getByText(`已${label}`).first().waitFor();
  await dialog.waitFor({ state: 'detached' });
}

async function openCampaign(page, path, name) {
  await page.goto(path);
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

async function stateIs(page, text) {
  await page.getByTestId('warmth-state').getByText(text, { exact: true }).waitFor({ timeout: 60_000 });
}

export const FLOWS = [
  {
    name: 'warmth: draft, preview, list, approval, distribution with progress, the worker confirms at phone width, staff see it confirmed',
    async run({ page, base }) {
      const name = '郎劳模';
      const id = idNumber('310101', '19750505', 741);
      const phone = '13922220041';
      const campaignName = `e2e 元旦春节送温暖 ${Date.now() % 100000}`;
      await modelWorker(base, { name, id, phone });
      await fundGeneral(base);

      // 新建活动: the three-step wizard
      await login(page, { username: 'clerk' });
      await page.getByRole('menuitem', { name: '送温暖活动' }).click();
      await page.getByRole('heading', { level: 1, name: '送温暖活动' }).waitFor();
      await page.getByRole('button', { name: /新建活动/ }).first().click();
      const wizard = page.getByRole('dialog', { name: '新建送温暖活动' });
      await wizard.getByRole('button', { name: '下一步' }).click();
      await wizard.getByText('请输入活动名称').waitFor(); // nothing sent before the step is complete
      await wizard.getByLabel('活动名称').fill(campaignName);
      await page.getByPlaceholder('开始日期').click();
      await page.getByPlaceholder('开始日期').fill(day(-1));
      await page.keyboard.press('Enter');
      await page.getByPlaceholder('结束日期').fill(day(60));
      await page.keyboard.press('Enter');
      await pickOption(page, '主办工会', '百联集团');
      await pickOption(page, '支付经费', '工会经费');
      await wizard.getByRole('button', { name: '下一步' }).click();
      await pickOption(page, '慰问对象', '劳动模范');
      await wizard.getByLabel(/标准（元\/人）/).fill('100');
      await wizard.getByRole('button', { name: '下一步' }).click();
      await wizard.getByRole('button', { name: /添加预算/ }).click();
      await pickOption(page, '工会', '百联集团');
      await wizard.getByLabel('预算（元）').fill('10000');
      await shot(page, 'warmth-wizard-budget');
      await wizard.getByRole('button', { name: '创建草稿' }).click();
      await page.getByRole('heading', { level: 1, name: campaignName }).waitFor();
      const path = new URL(page.url()).pathname;
      await stateIs(page, '草稿');

      // 测算预览, then the list
      await page.getByRole('tab', { name: '测算预览' }).click();
      const total = await page.getByTestId('warmth-preview-total').innerText();
      assert.match(total, /测算金额 ¥[\d,]+\.\d\d，预算 ¥10,000\.00/, total);
      assert.doesNotMatch(total, /超出预算/, total);
      await shot(page, 'warmth-preview');
      await page.getByRole('tab', { name: '发放名单' }).click();
      await page.getByRole('button', { name: '按条件生成名单' }).click();
      const added = await page.getByText(/已加入 \d+ 人/).innerText();
      assert.ok(Number(/\d+/.exec(added)[0]) >= 1, added);
      await step(page, '提交审批');
      await stateIs(page, '待审批');
      await logout(page);

      // 审批: the budget reserved from the general fund
      await login(page, { username: 'approver' });
      await openCampaign(page, path, campaignName);
      await step(page, '审批通过');
      await stateIs(page, '已审批');
      await logout(page);

      // 发放 with its progress bar
      await login(page, { username: 'clerk' });
      await openCampaign(page, path, campaignName);
      await step(page, '开始发放');
      await page.getByRole('tab', { name: /^发放$/ }).click();
      await page.getByTestId('warmth-progress').waitFor();
      await stateIs(page, '已发放');
      await page.locator('[data-testid="warmth-progress"].ant-progress-status-success').waitFor();
      await shot(page, 'warmth-distributed');
      // the 台账: a job, then the file route for the user who started it
      const [ledger] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: /导出台账/ }).click()]);
      const bytes = readFileSync(await ledger.path());
      assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', `the 台账 is an XLSX (${ledger.suggestedFilename()})`);
      await logout(page);

      // the worker, at phone width, confirms their own benefit
      await page.setViewportSize(PHONE);
      await page.goto('/m/register');
      await page.getByRole('heading', { name: '职工注册' }).waitFor();
      await pickOption(page, '所在省（市）', '上海市总工会');
      await page.getByLabel('姓名').fill(name);
      await page.getByLabel('身份证号码').fill(id);
      await page.getByLabel('手机号码').fill(phone);
      await page.getByLabel('设置密码').fill('worker-pass-123');
      await page.getByLabel('确认密码').fill('worker-pass-123');
      await page.getByRole('button', { name: /注\s*册/ }).click();
      await page.waitForURL((u) => !u.pathname.startsWith('/m/register'));
      await page.goto('/m/');
      await page.getByText('我的慰问').click();
      await page.getByRole('heading', { name: '我的慰问' }).waitFor();
      const card = page.getByTestId('my-warmth-benefit').filter({ hasText: campaignName });
      await card.getByText('待确认').waitFor();
      await card.getByText('¥100.00').waitFor();
      await noSidewaysScroll(page, '我的慰问');
      await shot(page, 'portal-warmth-benefit');
      await card.getByRole('button', { name: '确认收到' }).click();
      await card.getByText('已确认', { exact: true }).waitFor();
      await card.getByText(/已确认（职工本人确认）/).waitFor();

      // staff see it confirmed
      await page.setViewportSize(DESKTOP);
      await login(page, { username: 'clerk' });
      await openCampaign(page, path, campaignName);
      await page.getByRole('tab', { name: '签收回执' }).click();
      const summary = await page.getByTestId('warmth-receipt-summary').innerText();
      assert.match(summary, /已确认 1 人/, summary);
      await shot(page, 'warmth-receipts');
      await page.setViewportSize(PHONE);
      await page.getByTestId('warmth-receipt-summary').waitFor();
      await noSidewaysScroll(page, '活动详情（签收回执）');
    },
  },
];
