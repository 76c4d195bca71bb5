// A resident files a request with a photo from a phone-sized browser, the
// grid worker accepts and resolves it, the resident rates it; the timeline
// and the audit log show every step. Expects `yijia serve --demo` at YIJIA_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { BASE, launch, phoneAs as login, token } from './lib.mjs';

const OUT = new URL('./out/', import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });
// a 1×1 PNG, as a phone's camera would hand over a file
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const phoneAs = (user) => login(browser, user);

async function timeline(page) {
  return page.$$eval('ol.timeline li strong', els => els.map(e => e.textContent.trim()));
}

test('a request goes from the resident to the grid worker and back, rated', async () => {
  const text = `楼道灯坏了 ${Date.now()}`;
  // the resident, one-handed: the tile, a chip, a sentence, a photo, send
  const r = await phoneAs('resident');
  await r.page.click('a.tile[href="/cases"]');
  await r.page.click('a.button[href="/cases/new"]');
  await r.page.locator('label.chip', { hasText: '房屋维修' }).click();
  await r.page.fill('textarea[name=description]', text);
  await r.page.setInputFiles('input[name=photo]', { name: 'IMG_0001.png', mimeType: 'image/png', buffer: PNG });
  const overflow = await r.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the form overflows the phone by ${overflow}px`);
  await r.page.screenshot({ path: `${OUT}case-new-resident.png`, fullPage: true });
  await Promise.all([r.page.waitForURL(/\/cases\/\d+$/), r.page.click('button[type=submit].primary')]);
  const id = r.page.url().split('/').pop();
  assert.ok((await r.page.textContent('main')).includes('待受理'));
  assert.equal(await r.page.locator('#photos img').count(), 1, 'the photo is on the case');
  const loaded = await r.page.$eval('#photos img', img => img.complete && img.naturalWidth > 0);
  assert.ok(loaded, 'the photo is served to the one who filed it');

  // the grid worker: the inbox, the case, accept, resolve with what was done
  const w = await phoneAs('worker1');
  await w.page.goto(`${BASE}/cases`);
  await Promise.all([w.page.waitForURL(`${BASE}/cases/${id}`), w.page.click(`a[href="/cases/${id}"]`)]);
  await Promise.all([w.page.waitForLoadState('load'), w.page.getByRole('button', { name: '受理' }).click()]);
  assert.ok((await w.page.textContent('main')).includes('已受理'));
  await w.page.locator('details.act summary', { hasText: '办结' }).click();
  const resolve = w.page.locator('details.act', { hasText: '办结' });
  await resolve.locator('textarea[name=note]').fill('已更换楼道声控灯');
  await Promise.all([w.page.waitForLoadState('load'), resolve.getByRole('button', { name: '办结' }).click()]);
  assert.ok((await w.page.textContent('main')).includes('已办结'));
  await w.page.screenshot({ path: `${OUT}case-worker.png`, fullPage: true });

  // the resident rates it
  await r.page.goto(`${BASE}/cases/${id}`);
  await r.page.locator('label.star', { hasText: '4' }).click();
  await r.page.fill('textarea[name=comment]', '修得很快');
  await Promise.all([r.page.waitForLoadState('load'), r.page.getByRole('button', { name: '提交评价' }).click()]);
  assert.ok((await r.page.textContent('main')).includes('4 ★'));
  assert.deepEqual(await timeline(r.page), ['提交', '受理', '办结', '评价']);
  await r.page.screenshot({ path: `${OUT}case-rated.png`, fullPage: true });

  // and the audit log has every step
  const tok = await token('secretary');
  const res = await fetch(`${BASE}/api/v1/audit?per_page=500`, { headers: { authorization: `Bearer ${tok}` } });
  const log = (await res.json()).items.filter(e => e.object === `case:${id}` && e.outcome === 'ok').map(e => e.action);
  for (const a of ['case_create', 'case_accept', 'case_resolve', 'case_rate']) assert.ok(log.includes(a), `${a} in ${log}`);

  assert.deepEqual(r.problems, [], 'no console errors for the resident');
  assert.deepEqual(w.problems, [], 'no console errors for the worker');
  await r.context.close();
  await w.context.close();
});
