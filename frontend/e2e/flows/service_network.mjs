// End-to-end flows of the service_network capability (服务阵地): a worker's request from the portal
// through handling by staff to the worker's rating, and a station created by staff that shows on the
// map and in the public finder.
import assert from 'node:assert/strict';
import { DESKTOP, PHONE, shot } from '../harness.mjs';
import { idNumber } from '../roster.mjs';
import { gqlAs, login, pickOption, tokenFor } from '../helpers.mjs';

/** A member with a phone on file, so a worker registering with both is bound at once. */
async function memberWithPhone(base, { name, id, phone, unitCode = 'sh-huangpu-bailian' }) {
  const token = await tokenFor(base, 'admin');
  const units = await gqlAs(base, token, '{ orgUnits(first: 100){ nodes{ id code } } }');
  const unit = units.data.orgUnits.nodes.find((u) => u.code === unitCode);
  assert.ok(unit, `unit ${unitCode} exists`);
  const r = await gqlAs(base, token, 'mutation($i:MemberCreateInput!){ memberCreate(input:$i){ member{ id } errors{ field code } } }',
    { i: { name, idNumber: id, phone, orgUnitId: unit.id, employer: '申通快递' } });
  assert.deepEqual(r.data.memberCreate.errors, [], `created ${name}`);
}

/** A station opened through the API (as the tenant admin), open round the clock. */
async function stationApi(base, { number, name, lat, lon, unitCode = 'sh-huangpu' }) {
  const token = await tokenFor(base, 'admin');
  const units = await gqlAs(base, token, '{ orgUnits(first: 100){ nodes{ id code } } }');
  const unit = units.data.orgUnits.nodes.find((u) => u.code === unitCode);
  assert.ok(unit, `unit ${unitCode} exists`);
  const r = await gqlAs(base, token, 'mutation($i:StationInput!){ stationCreate(input:$i){ station{ id } errors{ field code } } }',
    { i: { orgUnitId: unit.id, number, name, lat, lon, address: '南京东路100号', facilities: ['room', 'water'], hours: [{ start: '00:00', end: '24:00', kind: 'staffed' }] } });
  assert.deepEqual(r.data.stationCreate.errors, [], `opened ${name}`);
}

async function noSideways(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${what}: no sideways scrolling at 390 px (${width})`);
}

export const FLOWS = [
  {
    name: 'service network: a worker’s request from the portal, handled by staff, rated by the worker',
    viewport: PHONE,
    async run({ page, base, browser }) {
      const id = idNumber('310101', '19900315', 731);
      const phone = '13922220731';
      await memberWithPhone(base, { name: '孙建国', id, phone });

      // The worker registers with the ID number and the phone on file: bound, the services show.
      await page.goto('/m/register');
      await page.getByRole('heading', { name: '职工注册' }).waitFor();
      await pickOption(page, '所在省（市）', '上海市总工会');
      await page.getByLabel('姓名').fill('孙建国');
      await page.getByLabel('身份证号码').fill(id);
      await page.getByLabel('手机号码').fill(phone);
      await page.getByLabel('设置密码').fill('worker-pass-123');
      await page.getByLabel('确认密码').fill('worker-pass-123');
      await page.getByRole('button', { name: /注\s*册/ }).click();
      await page.getByText('您已绑定会员身份').waitFor();

      // The finder (the public route), nearest first with the plot; check in from the result.
      await stationApi(base, { number: 'SH-E2E-W1', name: '南京东路户外驿站', lat: 31.2355, lon: 121.4810 });
      await page.getByText('附近驿站', { exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/m/stations');
      await page.getByLabel('纬度').fill('31.2350');
      await page.getByLabel('经度').fill('121.4800');
      await page.getByLabel('只看正在开放').check();
      await page.getByRole('button', { name: '查找附近驿站' }).click();
      const hit = page.getByTestId('finder-station').filter({ hasText: '南京东路户外驿站' });
      await hit.getByText(/\d+ 米/).waitFor();
      await page.getByTestId('station-map').locator('[data-station="SH-E2E-W1"]').waitFor();
      await noSideways(page, 'finder');
      await shot(page, 'portal-finder');
      await hit.getByRole('link', { name: '签到' }).click();
      await page.waitForURL((u) => u.pathname === '/m/stations/check-in');
      assert.equal(await page.getByLabel('驿站编号').inputValue(), 'SH-E2E-W1');
      await page.getByLabel('我的职业').fill('快递员');
      await page.getByRole('button', { name: /签\s*到/ }).click();
      await page.getByTestId('my-visit').filter({ hasText: '南京东路户外驿站' }).waitFor();

      await page.goto('/m/');
      await page.getByText('我要求助').click();
      await page.waitForURL((u) => u.pathname === '/m/service-requests/new');

      // Nothing chosen: the form says so before any request.
      await page.getByRole('button', { name: /提\s*交/ }).click();
      await page.getByText('请选择求助类别').waitFor();
      await pickOption(page, '求助类别', '欠薪');
      await page.getByLabel('具体情况').fill('快递站拖欠两个月工资，约一万二千元');
      await page.getByRole('button', { name: /提\s*交/ }).click();
      await page.waitForURL((u) => u.pathname === '/m/service-requests');
      const card = page.getByTestId('my-request').filter({ hasText: '快递站拖欠两个月工资' });
      await card.getByText('已提交').waitFor();
      await card.getByText(/首次响应：按时/).waitFor();
      await noSideways(page, 'my requests');
      await shot(page, 'portal-service-request');

      // Staff (the hotline clerk's colleagues at the aid centre) accept and resolve it.
      const staff = await browser.newContext({ viewport: DESKTOP, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', reducedMotion: 'reduce', baseURL: base });
      const desk = await staff.newPage();
      desk.setDefaultTimeout(15_000);
      try {
        await login(desk, { username: 'clerk' });
        await desk.getByRole('menuitem', { name: '服务诉求' }).click();
        await desk.getByRole('heading', { level: 1, name: '服务诉求' }).waitFor();
        const row = desk.getByRole('row').filter({ hasText: '孙建国' });
        await row.locator('[data-sla="ok"]').waitFor();
        await shot(desk, 'service-requests');
        await row.getByRole('link', { name: '孙建国' }).click();
        await desk.getByRole('heading', { level: 1, name: '诉求详情' }).waitFor();
        await desk.getByText('快递站拖欠两个月工资，约一万二千元').waitFor();
        // rejecting needs a reason: the dialog says so and sends nothing
        await desk.getByRole('button', { name: '不予受理' }).click();
        const reject = desk.getByRole('dialog');
        await reject.getByRole('button', { name: '不予受理' }).click();
        await reject.getByText('请填写理由').waitFor();
        await reject.getByRole('button', { name: /取\s*消/ }).click();
        await reject.waitFor({ state: 'hidden' });

        await desk.getByRole('button', { name: /^受\s*理$/ }).click();
        const accept = desk.getByRole('dialog');
        await accept.getByLabel('处理说明（可不填）').fill('已联系本人，核实欠薪情况');
        await accept.getByRole('button', { name: /^受\s*理$/ }).click();
        await accept.waitFor({ state: 'hidden' });
        await desk.getByText('已受理', { exact: true }).first().waitFor();
        await desk.getByRole('button', { name: /^办\s*结$/ }).click();
        const resolve = desk.getByRole('dialog');
        await resolve.getByLabel('处理说明（可不填）').fill('经协调，快递站已补发工资');
        await resolve.getByRole('button', { name: /^办\s*结$/ }).click();
        await resolve.waitFor({ state: 'hidden' });
        await desk.getByText('已办结', { exact: true }).first().waitFor();
        const timeline = desk.locator('.ant-timeline');
        await timeline.getByText('理由：经协调，快递站已补发工资').waitFor();
        assert.equal(await timeline.locator('.ant-timeline-item').count(), 3, 'submitted, accepted, resolved');
        await shot(desk, 'service-request-detail');

        // The worker sees it resolved and rates it: two stars, flagged for a follow-up.
        await page.reload();
        await card.getByText('已办结').waitFor();
        await card.getByRole('button', { name: '评价本次服务' }).click();
        await page.waitForURL((u) => u.pathname === '/m/ratings/new');
        await page.getByText(/诉求：欠薪/).waitFor();
        await page.locator('ul.ant-rate').first().locator('li').nth(1).click();
        await page.getByLabel('意见建议').fill('处理得有点慢');
        await page.getByRole('button', { name: '提交评价' }).click();
        await page.waitForURL((u) => u.pathname === '/m/' || u.pathname === '/m');
        await noSideways(page, 'home after rating');

        // Staff find the low rating and record the follow-up.
        await desk.getByRole('menuitem', { name: '满意度评价' }).click();
        await desk.getByRole('heading', { level: 1, name: '满意度评价' }).waitFor();
        const low = desk.getByRole('row').filter({ hasText: '处理得有点慢' });
        await low.getByText('待回访').waitFor();
        await low.getByRole('button', { name: '登记回访' }).click();
        const follow = desk.getByRole('dialog', { name: '登记回访' });
        await follow.getByLabel('回访记录').fill('已电话回访，说明办理时限');
        await follow.getByRole('button', { name: /保\s*存/ }).click();
        await follow.waitFor({ state: 'hidden' });
        // done: it leaves the queue; the whole list shows it with its follow-up
        await low.waitFor({ state: 'detached' });
        await desk.getByText('全部评价', { exact: true }).click();
        await low.getByText('已回访').waitFor();
        await low.getByText(/已电话回访，说明办理时限（已解决）/).waitFor();
        await shot(desk, 'service-ratings');
      } finally {
        await staff.close();
      }
    },
  },
  {
    name: 'service network: staff create a station, see it on the map and in the public finder',
    async run({ page, base }) {
      await login(page, { username: 'admin' });
      await page.getByRole('menuitem', { name: '驿站管理' }).click();
      await page.getByRole('heading', { level: 1, name: '驿站管理' }).waitFor();
      await page.getByRole('button', { name: '新建驿站' }).click();
      const dialog = page.getByRole('dialog', { name: '新建驿站' });
      await dialog.getByLabel('驿站编号').fill('SH-E2E-01');
      await dialog.getByLabel('驿站名称').fill('外滩户外劳动者驿站');
      await pickOption(page, '所属组织', '黄浦区总工会');
      await dialog.getByLabel('纬度').fill('31.2400');
      await dialog.getByLabel('经度').fill('121.4900');
      await dialog.getByLabel('地址').fill('黄浦区中山东一路1号');
      // antd checkboxes change on a click of their label (Playwright's check() races the re-render)
      await dialog.getByText('一间休息室', { exact: true }).click();
      await dialog.getByText('一台饮水机', { exact: true }).click();
      // a QR window that runs past midnight without saying so is refused beside its field
      await dialog.getByRole('button', { name: '添加时段' }).click();
      await dialog.getByLabel('时段2开始').fill('22:00');
      await dialog.getByLabel('结束').nth(1).fill('08:00');
      await dialog.getByRole('button', { name: /保\s*存/ }).click();
      await dialog.getByText(/时段结束时间（08:00）早于开始时间（22:00）/).waitFor();
      await dialog.getByRole('switch').nth(1).click();
      await dialog.getByRole('button', { name: /保\s*存/ }).click();
      await dialog.waitFor({ state: 'hidden' });

      const point = page.getByTestId('station-map').locator('[data-station]', { hasText: '外滩户外劳动者驿站' });
      await point.waitFor();
      assert.match(await point.getAttribute('aria-label'), /^外滩户外劳动者驿站，\d星$/);
      const row = page.getByRole('row').filter({ hasText: 'SH-E2E-01' });
      await row.getByText(/08:00–22:00，22:00–次日08:00（扫码）/).waitFor();
      await point.click();
      const preview = page.locator('.ant-card', { hasText: '公众查询预览' });
      await preview.getByRole('button', { name: '查询附近驿站' }).click();
      await preview.getByText('外滩户外劳动者驿站（SH-E2E-01）').waitFor();
      await shot(page, 'stations-map');

      // The same public route, without any login, as the finder on a phone calls it (GCJ-02 in).
      const r = await fetch(`${base}/public/service-network/shanghai/stations/nearby?lat=31.238&lon=121.4945&datum=gcj02&n=5`);
      assert.equal(r.status, 200);
      const body = await r.json();
      const found = body.stations.find((s) => s.number === 'SH-E2E-01');
      assert.ok(found, `the finder returns the new station: ${JSON.stringify(body)}`);
      assert.ok(found.distanceM < 1000, `it is close by (${found.distanceM} m)`);
    },
  },
];
