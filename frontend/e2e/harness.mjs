// E2E harness: starts the real backend on the embedded default (SQLite in a temp dir, in-process
// jobs, demo provinces), drives Debian's Chromium through playwright-core, and stops everything.
// Never downloads a browser: CHROMIUM (default /usr/bin/chromium) must exist.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const FRONTEND = resolve(here, '..');
export const ROOT = resolve(FRONTEND, '..');
// Screenshots go to docs/screenshots/ only when asked (`make screenshots`): every run renders them
// afresh, and writing them into docs/ each time left a developer's tree with modified images.
export const SHOTS = process.env.HUIJIA_E2E_SHOTS === 'docs'
  ? resolve(ROOT, 'docs', 'screenshots')
  : resolve(ROOT, 'frontend', 'e2e', '.out', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// The Makefile passes its uv command (`uv`, or `python3 -m uv`) as UV.
const UV = (process.env.UV || 'uv').trim().split(/\s+/);
const uv = (...args) => [UV[0], [...UV.slice(1), 'run', '--frozen', ...args]];

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function backendEnv(dataDir) {
  const env = { ...process.env, HUIJIA_DATA_DIR: dataDir, HUIJIA_ENV: 'development', HUIJIA_LOG_LEVEL: 'WARNING' };
  delete env.DATABASE_URL; // embedded default: SQLite under HUIJIA_DATA_DIR
  delete env.REDIS_URL; // in-process jobs
  return env;
}

export async function startBackend() {
  if (!existsSync(join(FRONTEND, 'dist', 'index.html'))) {
    throw new Error('frontend/dist is missing: run `npm run build` first');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'huijia-e2e-'));
  const env = backendEnv(dataDir);
  const [cmd, demoArgs] = uv('huijia', 'demo');
  const demo = spawnSync(cmd, demoArgs, { cwd: ROOT, env, encoding: 'utf8' });
  if (demo.status !== 0) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`huijia demo failed:\n${demo.stdout}\n${demo.stderr}`);
  }
  const port = await freePort();
  const log = [];
  const [, serveArgs] = uv('huijia', 'serve', '--host', '127.0.0.1', '--port', String(port));
  const child = spawn(cmd, serveArgs, {
    cwd: ROOT,
    env,
    detached: true, // own process group, so stop() ends uv and the server it started
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await new Promise((r) => {
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
          r();
        }, 8000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`server exited early (code ${child.exitCode}):\n${log.join('')}`);
    }
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not become healthy:\n${log.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const html = await (await fetch(`${base}/`)).text();
  if (!html.includes('id="root"')) {
    await stop();
    throw new Error('the server is not serving frontend/dist/index.html at /');
  }
  return { base, stop, log, env };
}

/** Run `uv run --frozen <args>` against the running backend's data (e.g. a Python snippet that acts as
 * the host's cron would at a later time). Returns spawnSync's result. */
export function uvRunSync(backend, args) {
  const [cmd, argv] = uv(...args);
  return spawnSync(cmd, argv, { cwd: ROOT, env: backend.env, encoding: 'utf8' });
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (never download a browser)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function shot(page, name, { fullPage = false } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  // let charts and antd motion settle
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}
