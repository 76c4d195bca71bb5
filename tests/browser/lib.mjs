// What the browser tests share: Debian's Chromium, a phone-sized page in
// zh-CN that collects console errors, and logging in as a demo user.
import { before, after } from 'node:test';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const BASE = process.env.YIJIA_URL ?? 'http://127.0.0.1:8080';
export const PASSWORD = 'chengnan-demo-2024';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export async function phone(browser) {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  const problems = [];
  page.on('console', m => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', e => problems.push(String(e)));
  return { context, page, problems };
}

// A phone logged in as a demo user, on their home page.
export async function phoneAs(browser, user) {
  const { context, page, problems } = await phone(browser);
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${BASE}/`), page.click('button[type=submit]')]);
  return { context, page, problems };
}

// A bearer token of a demo user, for reading through the API what a page should show.
export async function token(user) {
  const r = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user, password: PASSWORD }),
  });
  return (await r.json()).token;
}

// The API as a bearer token's holder: GET, or POST with a JSON body; the answer's JSON.
export async function api(tok, path, body) {
  const r = await fetch(`${BASE}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return r.json();
}

// Where the tests leave their screenshots.
export const OUT = new URL('./out/', import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });

// One Chromium for a test file, launched before its tests and closed after:
// phones from it, blank or logged in as a demo user.
export function chromiumForFile() {
  const held = {};
  before(async () => { held.browser = await launch(); });
  after(async () => { await held.browser?.close(); });
  return { phone: () => phone(held.browser), phoneAs: (user) => phoneAs(held.browser, user) };
}
