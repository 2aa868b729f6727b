// The procurement capability (购买社会组织服务) end to end: a social organisation applies through its
// own login and is approved; an approver publishes a call (bids sealed before the deadline), the
// organisation bids, the panel scores, the approver awards and signs, the organisation reports the
// first milestone, a clerk accepts it and finance pays it.
import assert from 'node:assert/strict';
import { shot, uvRunSync } from '../harness.mjs';
import { gqlAs, login, logout, menuItems, tokenFor, PASSWORD } from '../helpers.mjs';

// A day of a call's calendar lasts 30 seconds here (the tenant's sandbox acceleration), so the tender
// deadline really passes during the flow: bids open only once the clock is past it.
const ACCELERATION = 2880;
const ORG_USER = 'shegong-e2e';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const spaced = (label) => new RegExp(`^${label.split('').join('\\s*')}$`);

/** A well-formed 民政 credit code (5 = civil affairs), its check character by GB 32100. */
function creditCode(body) {
  const chars = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const sum = body.split('').reduce((s, c, i) => s + chars.indexOf(c) * weights[i], 0);
  return body + chars[(31 - (sum % 31)) % 31];
}

async function ok(r, field, what) {
  assert.ok(r.data, `${what}: ${JSON.stringify(r.errors)}`);
  assert.deepEqual(r.data[field].errors ?? [], [], what);
  return r.data[field];
}

async function rootUnit(base, token) {
  const r = await gqlAs(base, token, 'query{ orgUnits(filter:{nameContains:"上海市总工会"}, first:5){ nodes{ id code } } }');
  const unit = r.data.orgUnits.nodes.find((u) => u.code === 'sh');
  assert.ok(unit, 'the province union exists');
  return unit.id;
}

async function setUp(base) {
  const admin = await tokenFor(base, 'admin');
  const list = await gqlAs(base, admin, 'query{ pluginSettings{ plugin version settings } }');
  const current = list.data.pluginSettings.find((p) => p.plugin === 'procurement');
  assert.ok(current, 'procurement is enabled in Shanghai');
  await ok(await gqlAs(base, admin, 'mutation($s:JSON!,$v:Int!){ pluginSettingsUpdate(plugin:"procurement", settings:$s, expectedVersion:$v){ pluginSettings{ version } errors{ field code message } } }', {
    s: { ...(current.settings ?? {}), sandbox_acceleration: ACCELERATION }, v: current.version,
  }), 'pluginSettingsUpdate', 'sandbox acceleration on');
  const root = await rootUnit(base, admin);
  await ok(await gqlAs(base, admin, 'mutation($i:UserCreateInput!){ userCreate(input:$i){ user{ id } errors{ field code message } } }', {
    i: { username: ORG_USER, password: PASSWORD, displayName: '江门社工服务中心', grants: [{ role: 'SOCIAL_ORG', orgUnitId: root }] },
  }), 'userCreate', 'the organisation login');
  // cash in the province union's general fund, from which signing reserves the contract value
  const finance = await tokenFor(base, 'finance');
  for (let i = 0; i < 4; i++) {
    const r = await gqlAs(base, finance, 'mutation($i:LedgerEntryInput!){ ledgerEntryCreate(input:$i){ entry{ id } errors{ field code message } } }', {
      i: {
        idempotencyKey: `e2e-procurement-fund-${Date.now()}-${i}`, memo: '购买服务资金拨入',
        postings: [
          { side: 'DEBIT', amountFen: 1_000_000, orgUnitId: root, fund: 'general', code: '102' },
          { side: 'CREDIT', amountFen: 1_000_000, orgUnitId: root, fund: 'general', code: '404' },
        ],
      },
    });
    assert.ok((await ok(r, 'ledgerEntryCreate', 'funding')).entry, 'posted at once');
  }
  return root;
}

/** Back to the province's own calendar, so later flows on this backend see real periods. */
async function restoreSettings(base) {
  const admin = await tokenFor(base, 'admin');
  const list = await gqlAs(base, admin, 'query{ pluginSettings{ plugin version settings } }');
  const current = list.data.pluginSettings.find((p) => p.plugin === 'procurement');
  await ok(await gqlAs(base, admin, 'mutation($s:JSON!,$v:Int!){ pluginSettingsUpdate(plugin:"procurement", settings:$s, expectedVersion:$v){ pluginSettings{ version } errors{ field code message } } }', {
    s: { ...current.settings, sandbox_acceleration: 1 }, v: current.version,
  }), 'pluginSettingsUpdate', 'sandbox acceleration off');
}

async function draftCall(base, root) {
  const clerk = await tokenFor(base, 'clerk');
  const r = await gqlAs(base, clerk, 'mutation($i:CallCreateInput!){ procurementCallCreate(input:$i){ call{ id } errors{ field code message } } }', {
    i: { orgUnitId: root, title: '法律知识进企业（12场）', category: 'legal_aid', budgetFen: 5_000_000, enquiryDays: 1, tenderDays: 1, standstillDays: 1 },
  });
  return (await ok(r, 'procurementCallCreate', 'call drafted')).call.id;
}

async function callTimes(base, id) {
  const approver = await tokenFor(base, 'approver');
  const r = await gqlAs(base, approver, 'query($id:ID!){ procurementCall(id:$id){ state enquiryEnd tenderEnd standstillEnd } }', { id });
  return r.data.procurementCall;
}

/** What the host's cron does, as of `at` (an ISO time; now when null). */
function runTimers(backend, at) {
  const code = [
    'import asyncio, sys, datetime as dt',
    'from core.dbutil import with_database',
    'from core.workflow.jobs import run_timers_everywhere',
    'at = dt.datetime.fromisoformat(sys.argv[1]) if len(sys.argv) > 1 else None',
    'async def main():',
    '    print(await run_timers_everywhere(now=at))',
    'asyncio.run(with_database(main))',
  ].join('\n');
  const r = uvRunSync(backend, ['python', '-c', code, ...(at ? [at] : [])]);
  assert.equal(r.status, 0, `timers ran:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /'fired': [1-9]/, `a period ended: ${r.stdout}`);
}

const plusSecond = (iso) => new Date(new Date(iso).getTime() + 1000).toISOString();

async function openCall(page, title) {
  await page.goto('/procurement/calls');
  await page.getByRole('heading', { level: 1, name: '采购项目' }).waitFor();
  await page.getByRole('link', { name: title }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
}

async function dialogSubmit(page, name, ok) {
  const dialog = page.getByRole('dialog', { name });
  await dialog.getByRole('button', { name: spaced(ok) }).click();
  await dialog.waitFor({ state: 'detached' });
}

export const FLOWS = [
  {
    name: 'procurement: an organisation registers, a call is published, bid, scored, awarded, signed, and the first milestone is paid',
    async run({ page, base, backend }) {
      const root = await setUp(base);
      const title = '法律知识进企业（12场）';

      // the organisation's own login: its menu is the four screens of its side, none of the staff's
      await login(page, { username: ORG_USER });
      const items = await menuItems(page);
      for (const m of ['入库申请', '采购公告', '我的投标', '我的合同']) assert.ok(items.includes(m), `${m} in ${items}`);
      assert.ok(!items.includes('社会组织库') && !items.includes('采购项目'), `no staff screens: ${items}`);
      await page.getByRole('menuitem', { name: '入库申请' }).click();
      await page.getByRole('heading', { level: 1, name: '入库申请' }).waitFor();
      await page.getByLabel('组织名称').fill('江门社工服务中心');
      const good = creditCode('52440700MJ0000012');
      await page.getByLabel('统一社会信用代码').fill(good.slice(0, 17) + (good.endsWith('0') ? '1' : '0'));
      await page.getByLabel('登记证号').fill('粤江民证字第00012号');
      await page.getByLabel('登记管理机关').fill('江门市民政局');
      await page.getByLabel(/服务区域/).fill('310000');
      await page.getByRole('button', { name: '提交申请' }).click();
      await page.getByText('统一社会信用代码校验不通过').waitFor(); // a wrong check character
      await page.getByLabel('统一社会信用代码').fill(good);
      await page.getByRole('button', { name: '提交申请' }).click();
      await page.getByText('待审核').waitFor();
      await logout(page);

      await login(page, { username: 'approver' });
      await page.getByRole('menuitem', { name: '社会组织库' }).click();
      await page.getByRole('row', { name: /江门社工服务中心/ }).getByRole('button', { name: spaced('通过') }).click();
      await page.getByRole('row', { name: /江门社工服务中心/ }).getByText('已入库').waitFor();

      const callId = await draftCall(base, root);
      await openCall(page, title);
      await page.getByRole('button', { name: spaced('发布') }).click();
      await page.getByTestId('call-state').getByText('答疑中').waitFor();
      await page.getByTestId('bids-sealed').waitFor();
      await page.getByRole('button', { name: '指定评审专家' }).click();
      // the picker lists the evaluator role at the call's union or above, searched on the server
      await page.getByRole('dialog', { name: '指定评审专家' }).getByRole('combobox', { name: '评审专家' }).fill('approver');
      await page.locator('.ant-select-item-option').filter({ hasText: /（approver）$|^approver$/ }).click();
      await dialogSubmit(page, '指定评审专家', '指定');
      await page.getByText(/approver：未声明/).waitFor();
      await logout(page);

      const times = await callTimes(base, callId);
      runTimers(backend, plusSecond(times.enquiryEnd)); // the enquiry period is over: bidding opens

      await login(page, { username: ORG_USER });
      await page.getByRole('menuitem', { name: '采购公告' }).click();
      await page.getByRole('row', { name: new RegExp(title.replace(/[()（）]/g, '.')) }).getByRole('button', { name: spaced('投标') }).click();
      const bid = page.getByRole('dialog', { name: `投标：${title}` });
      await bid.getByLabel('报价（元）').fill('30000');
      const chooser = page.waitForEvent('filechooser');
      await bid.getByRole('button', { name: '选择文件' }).click();
      await (await chooser).setFiles({ name: '投标书.pdf', mimeType: 'application/pdf', buffer: PDF });
      await dialogSubmit(page, `投标：${title}`, '密封提交');
      await page.getByRole('menuitem', { name: '我的投标' }).click();
      await page.getByText('已密封').waitFor();
      await shot(page, 'procurement-my-bids-sealed');
      await logout(page);

      // the tender deadline passes for real: only then do the bids open
      const wait = new Date(times.tenderEnd).getTime() - Date.now() + 1500;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      runTimers(backend, null);

      await login(page, { username: 'approver' });
      await openCall(page, title);
      await page.getByTestId('call-state').getByText('评审中').waitFor();
      await page.getByRole('button', { name: '声明无利益冲突' }).click();
      await page.getByText('¥30,000.00').first().waitFor();
      // the tender box is open: the bid's document downloads (sealed before, no link was shown)
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: '下载 投标书.pdf' }).click();
      assert.ok((await download).suggestedFilename(), 'the bid document downloaded');
      await page.getByRole('table', { name: '评审排名' }).getByRole('button', { name: spaced('评分') }).click();
      const score = page.getByRole('dialog', { name: /评分：/ });
      const boxes = score.getByRole('spinbutton');
      for (let i = 0; i < (await boxes.count()); i++) await boxes.nth(i).fill(String(80 + i));
      await dialogSubmit(page, '评分：江门社工服务中心', '提交评分');
      await page.getByRole('button', { name: '确定中标' }).first().click();
      const award = page.getByRole('dialog', { name: '确定中标' });
      await award.getByText(/排名第一：江门社工服务中心/).waitFor();
      await award.getByLabel(/定标理由/).fill('综合得分第一');
      await dialogSubmit(page, '确定中标', '确定中标');
      await page.getByTestId('call-state').getByText('公示期').waitFor();
      await logout(page);

      runTimers(backend, plusSecond((await callTimes(base, callId)).standstillEnd));

      await login(page, { username: 'approver' });
      await openCall(page, title);
      await page.getByRole('button', { name: '签订合同' }).click();
      await dialogSubmit(page, '签订合同', '签订并预留资金');
      await page.getByTestId('call-state').getByText('已签约').waitFor();
      await shot(page, 'procurement-call-contracted');
      // the public listing of awarded contracts, as the open-data screen shows it
      await page.getByRole('menuitem', { name: '开放数据' }).click();
      await page.getByRole('table', { name: '中标合同公示' }).getByText('江门社工服务中心').first().waitFor();
      await logout(page);

      await login(page, { username: ORG_USER });
      await page.getByRole('menuitem', { name: '我的合同' }).click();
      await page.getByRole('table', { name: '付款节点' }).getByRole('button', { name: '报告交付' }).first().click();
      await page.getByRole('dialog', { name: /报告交付/ }).getByLabel('交付说明').fill('启动方案已提交');
      await dialogSubmit(page, '报告交付：首期', '提交');
      await page.getByText('已交付待验收').waitFor();
      await logout(page);

      await login(page, { username: 'clerk' });
      await page.getByRole('menuitem', { name: '合同与履约' }).click();
      await page.getByRole('table', { name: '付款节点' }).getByRole('button', { name: spaced('验收') }).click();
      await page.getByText('已验收待支付').waitFor();
      await logout(page);

      await login(page, { username: 'finance' });
      await page.getByRole('menuitem', { name: '合同与履约' }).click();
      await page.getByRole('table', { name: '付款节点' }).getByRole('button', { name: spaced('支付') }).click();
      await page.getByRole('table', { name: '付款节点' }).getByText('已支付', { exact: true }).first().waitFor();
      await page.getByText('1/2 期已支付').waitFor();
      await shot(page, 'procurement-first-milestone-paid');
      await restoreSettings(base);
    },
  },
];
