// axe-core in Chromium on every resident page and the main staff pages, in
// normal and large text, in Chinese and English, at phone width: no serious
// or critical violations (labels, contrast, names, keyboard reach).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BASE, token, chromiumForFile } from './lib.mjs';

const chromium = chromiumForFile();
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const PAGES = {
  resident: ['/', '/cases', '/cases/new', '/me/points', '/me/activities', '/me/shop', '/me/stations', '/me/projects',
    '/me/pledges', '/me/notices', '/me/honours', '/me/record', '/me/data', '/honours', '/account', '/messages', '/notifications'],
  secretary: ['/', '/approvals', '/dashboard', '/reports/monthly', '/org', '/residents', '/residents/new', '/cases',
    '/broadcasts', '/notices', '/projects', '/pledges', '/activities', '/duty', '/users', '/deliveries', '/audit'],
  worker1: ['/walk', '/coverage', '/cases/new'],
  clerk: ['/shop', '/stations'],
};

async function violations(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`));
}

for (const [user, paths] of Object.entries(PAGES)) {
  test(`axe finds nothing serious on ${user}'s pages, normal and large, zh and en`, async () => {
    const tok = await token(user);
    const { context, page } = await chromium.phone();
    await page.setViewportSize({ width: 390, height: 844 });
    const found = [];
    for (const large of ['0', '1']) for (const lang of ['zh', 'en']) {
      await context.addCookies([{ name: 'yijia_session', value: tok, url: BASE }, { name: 'lang', value: lang, url: BASE },
        { name: 'large', value: large, url: BASE }]);
      for (const path of paths) {
        const r = await page.goto(`${BASE}${path}`, { waitUntil: 'networkidle' });
        assert.equal(r.status(), 200, `${path}`);
        for (const v of await violations(page)) found.push(`${path} (${lang}${large === '1' ? ', large' : ''}) ${v}`);
      }
    }
    assert.deepEqual(found, []);
    await context.close();
  });
}
