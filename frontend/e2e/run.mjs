// `npm run e2e [-- name-filter]`: runs every flow in e2e/flows.mjs and e2e/flows/*.mjs (one file per
// capability, each exporting FLOWS) against a fresh backend.
import { readdirSync } from 'node:fs';
import { startBackend, launchBrowser } from './harness.mjs';
import { FLOWS as CORE_FLOWS } from './flows.mjs';

const capabilityFiles = readdirSync(new URL('./flows/', import.meta.url)).filter((f) => f.endsWith('.mjs')).sort();
const FLOWS = [...CORE_FLOWS];
for (const file of capabilityFiles) FLOWS.push(...(await import(`./flows/${file}`)).FLOWS);

const filter = process.argv[2];
const flows = filter ? FLOWS.filter((f) => f.name.includes(filter)) : FLOWS;
const started = Date.now();
let backend;
let browser;
let failed = 0;
try {
  backend = await startBackend();
  browser = await launchBrowser();
  console.log(`e2e: backend at ${backend.base}, ${flows.length} flow(s)`);
  for (const flow of flows) {
    const t0 = Date.now();
    const context = await browser.newContext({ viewport: flow.viewport ?? { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', reducedMotion: 'reduce', baseURL: backend.base });
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    // The server's Content-Security-Policy (core/web.py) must never have to block anything the UI does.
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(`CSP: ${m.text()}`);
    });
    page.setDefaultTimeout(15_000);
    try {
      await flow.run({ page, context, base: backend.base, browser, backend });
      if (pageErrors.length) throw new Error(`uncaught page errors:\n${pageErrors.join('\n')}`);
      console.log(`  ✓ ${flow.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      console.log(`  ✗ ${flow.name}\n    ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n    ')}`);
      try {
        await page.screenshot({ path: `/tmp/huijia-e2e-failure-${flow.name.replace(/\W+/g, '_')}.png`, fullPage: true });
      } catch {
        /* page gone */
      }
    } finally {
      await context.close();
    }
  }
} catch (e) {
  failed++;
  console.error(`e2e: ${e?.stack ?? e}`);
} finally {
  await browser?.close();
  await backend?.stop();
}
console.log(`e2e finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`e2e: ${flows.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
