// 长辈模式 and the browser's own text size, on a resident's phone: every
// resident page, switched to large text, stays usable at 390 px (text and
// headings 1.3 times, lines spaced 1.3, every button, field and menu link
// at least 48 × 48 px, nothing to scroll sideways); the choice is
// remembered; with the browser's default font at 26 px the pages follow it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as pw } from 'playwright-core';
import { BASE, OUT, PASSWORD, chromiumForFile } from './lib.mjs';

const chromium = chromiumForFile();

async function logIn(page, user) {
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${BASE}/`), page.click('button[type=submit]')]);
}

// What a page measures: text, headings, line spacing, the smallest target, sideways scroll.
function measure(page) {
  return page.evaluate(() => {
    const px = (el, prop) => parseFloat(getComputedStyle(el)[prop]);
    const p = document.querySelector('main p, main li, main td') ?? document.querySelector('main');
    const h1 = document.querySelector('main h1, main h2');
    const targets = [...document.querySelectorAll(
      'main button, main a.button, main input:not([type=hidden]), main select, main textarea, main summary, main .chip span, .top nav a, .top button, .top .switch, .menu-button')]
      // a ticked chip's box is its label, the input itself is see-through
      .filter(el => el.offsetParent !== null && getComputedStyle(el).opacity !== '0')
      .map(el => { const r = el.getBoundingClientRect(); return { what: el.outerHTML.slice(0, 80), w: r.width, h: r.height }; })
      .filter(t => t.w > 0 && t.h > 0);
    return {
      root: px(document.documentElement, 'fontSize'),
      text: px(p, 'fontSize'),
      line: px(document.body, 'lineHeight') / px(document.body, 'fontSize'),
      heading: h1 ? px(h1, 'fontSize') : null,
      small: targets.filter(t => t.w < 47.5 || t.h < 47.5),
      sideways: document.documentElement.scrollWidth - window.innerWidth,
    };
  });
}

test('a resident switches to 长辈模式 and every resident page stays usable at 390 px', async () => {
  const { context, page, problems } = await chromium.phone();
  await page.setViewportSize({ width: 390, height: 844 });
  await logIn(page, 'resident');

  // the menu folds behind one button on a phone; opened, it lists his pages
  assert.equal(await page.isVisible('.top nav'), false, 'folded at first');
  await page.click('label[for=menu-open]');
  assert.equal(await page.isVisible('.top nav'), true);
  const pages = await page.$$eval('.top nav a', as => as.map(a => new URL(a.href).pathname));
  assert.ok(pages.length >= 6, `${pages}`);
  assert.equal(await page.isVisible('button.logout'), true, '退出登录 is a button in the menu');
  const normal = {};
  for (const path of pages) {
    await page.goto(`${BASE}${path}`);
    normal[path] = await measure(page);
  }

  // one tap from any page, and the page stays where it was
  await page.goto(`${BASE}${pages[1]}`);
  await Promise.all([page.waitForURL(`${BASE}${pages[1]}`), page.click('#large-switch')]);
  assert.equal(await page.getAttribute('html', 'class'), 'large');
  for (const path of pages) {
    await page.goto(`${BASE}${path}`);
    const m = await measure(page);
    const n = normal[path];
    assert.ok(m.root >= 1.3 * n.root - 0.01, `${path}: root ${m.root} against ${n.root}`);
    assert.ok(m.text >= 1.3 * n.text - 0.01, `${path}: text ${m.text} against ${n.text}`);
    if (n.heading) assert.ok(m.heading >= 1.3 * n.heading - 0.01, `${path}: heading ${m.heading} against ${n.heading}`);
    assert.ok(m.line >= 1.3, `${path}: line spacing ${m.line}`);
    assert.deepEqual(m.small, [], `${path}: targets under 48 px`);
    assert.ok(m.sideways <= 0, `${path}: scrolls sideways by ${m.sideways} px`);
  }
  await page.goto(`${BASE}/`);
  // fewer words: the tiles keep their names and lose the lines explaining them
  assert.ok(await page.isVisible('.tile strong'));
  assert.equal(await page.isVisible('.tile span'), false, 'no explaining line under a tile');
  await page.screenshot({ path: `${OUT}elders-home-large-390.png`, fullPage: true });

  // remembered: a new page, and after logging in again
  await page.click('label[for=menu-open]');
  await Promise.all([page.waitForURL(`${BASE}/login`), page.click('button.logout')]);
  assert.equal(await page.getAttribute('html', 'class'), 'large', 'the login page too');
  await logIn(page, 'resident');
  assert.equal(await page.getAttribute('html', 'class'), 'large');
  await page.click('#large-switch');
  await page.waitForLoadState();
  assert.equal(await page.getAttribute('html', 'class'), null, 'and back to standard');
  assert.deepEqual(problems, []);
  await context.close();
});

test('with the browser set to 26 px the pages follow it', async () => {
  // Chromium's own default font size, as a reader sets it in its settings
  const dir = mkdtempSync(join(tmpdir(), 'yijia-font-'));
  mkdirSync(join(dir, 'Default'));
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify({ webkit: { webprefs: { default_font_size: 26 } } }));
  const context = await pw.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
    viewport: { width: 390, height: 844 }, locale: 'zh-CN',
  });
  const page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${BASE}/login`);
  const m = await measure(page);
  assert.ok(Math.abs(m.root - 26 * 17 / 16) < 0.1, `root ${m.root}`);
  assert.ok(m.sideways <= 0, `scrolls sideways by ${m.sideways} px`);
  await logIn(page, 'resident');
  const home = await measure(page);
  assert.ok(home.text >= 26, `text ${home.text}`);
  assert.ok(home.sideways <= 0, `home scrolls sideways by ${home.sideways} px`);
  await page.screenshot({ path: `${OUT}elders-home-26px-390.png`, fullPage: true });
  await context.close();
});

test('a notice is read aloud with the browser\'s own speech', async () => {
  const { context, page, problems } = await chromium.phone();
  // what the page asks the browser to say, heard where the speaker would be
  await context.addInitScript(() => {
    window.said = [];
    window.speechSynthesis.speak = u => window.said.push({ text: u.text, lang: u.lang });
  });
  await logIn(page, 'resident');
  await page.goto(`${BASE}/me/notices`);
  const first = page.locator('main a[href^="/me/notices/"]').first();
  await Promise.all([page.waitForURL(/\/me\/notices\/\d+$/), first.click()]);
  const title = (await page.textContent('main h1')).trim();
  await page.click('button.speak');
  const said = await page.evaluate(() => window.said);
  assert.equal(said.length, 1);
  assert.equal(said[0].lang, 'zh-CN');
  assert.ok(said[0].text.startsWith(title) && !said[0].text.includes('朗读'), said[0].text);
  assert.deepEqual(problems, []);
  await context.close();
});

test('his pickup codes and appointments stay readable without signal, and the phone can install yijia', async () => {
  const { context, page, problems } = await chromium.phone();
  await logIn(page, 'resident');

  // installable: a manifest with a name, a start, and icons that load
  const href = await page.getAttribute('link[rel=manifest]', 'href');
  const m = await (await page.request.get(`${BASE}${href}`)).json();
  assert.deepEqual([m.short_name, m.start_url, m.display], ['驿家', '/', 'standalone']);
  assert.ok(m.icons.some(i => i.sizes === '192x192') && m.icons.some(i => i.sizes === '512x512'));
  for (const icon of m.icons) {
    const r = await page.request.get(`${BASE}${icon.src}`);
    assert.equal(r.status(), 200, icon.src);
    assert.equal(r.headers()['content-type'], icon.type, icon.src);
  }

  // a towel redeemed: its code
  await page.goto(`${BASE}/me/shop`);
  const towel = page.locator('li.item', { hasText: '毛巾' });
  await Promise.all([page.waitForURL(/redeemed=\d+/), towel.getByRole('button', { name: '兑换' }).click()]);
  const code = (await page.textContent('#pickup-code')).trim();
  // once the worker controls his pages, each is kept as he last saw it
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.goto(`${BASE}/me/shop`);
  await page.goto(`${BASE}/me/stations`);
  const stations = await page.textContent('main');

  await context.setOffline(true);
  await page.goto(`${BASE}/me/shop`);
  assert.ok((await page.textContent('main')).includes(code), 'the pickup code, without signal');
  await page.goto(`${BASE}/me/stations`);
  assert.equal(await page.textContent('main'), stations, 'his appointments page as he last saw it, without signal');
  await page.screenshot({ path: `${OUT}elders-shop-offline-390.png`, fullPage: true });
  await context.setOffline(false);

  // logged out, the phone forgets them
  await page.click('label[for=menu-open]');
  await Promise.all([page.waitForURL(/\/login/), page.click('button.logout')]);
  await page.waitForFunction(async () => !(await caches.has('yijia-mine')));
  assert.deepEqual(problems.filter(p => !/ERR_INTERNET_DISCONNECTED/.test(p)), []);
  await context.close();
});
