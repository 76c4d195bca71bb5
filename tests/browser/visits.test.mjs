// A grid worker walks her grid on a phone-sized browser: today's list, an
// "all well" visit in three taps and no typing, a visit that opens a hazard
// case, and the coverage page moving; then without signal, two visits wait
// on the phone and are recorded exactly once when the signal returns.
// Expects `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, chromiumForFile, token } from './lib.mjs';

const { phoneAs } = chromiumForFile();

async function api(tok, path) {
  const r = await fetch(`${BASE}${path}`, { headers: { authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 200, path);
  return r.json();
}

async function visitsOf(tok, resident) {
  return (await api(tok, `/api/v1/residents/${resident}/plan`)).visits;
}

async function workerVisits(page) {
  const rows = await page.$$eval('#workers tr', trs => trs.map(tr => [...tr.cells].map(td => td.textContent.trim())));
  const mine = rows.find(r => r[0] === '李网格');
  return mine ? Number(mine[1]) : 0;
}

test('an "all well" visit in three taps, a visit that opens a hazard, and coverage moves', async () => {
  const sec = await phoneAs('secretary');
  await sec.page.goto(`${BASE}/coverage`);
  const before = { visits: await workerVisits(sec.page), overdue: Number(await sec.page.textContent('#overdue-total')) };

  const w = await phoneAs('worker1');
  let taps = 0;
  const tap = async (locator) => { taps += 1; await locator.click(); };
  await tap(w.page.locator('a.tile[href="/walk"]'));
  await w.page.waitForURL(`${BASE}/walk`);
  await w.page.screenshot({ path: `${OUT}walk-list.png`, fullPage: true });
  const first = w.page.locator('li.person').first();
  const resident = await first.getAttribute('data-resident');
  const wasLate = (await first.locator('.tag.late').count()) > 0;
  await tap(first.locator('details.quick summary'));
  await tap(first.locator('form.visit button[type=submit]'));
  await first.locator('.result').waitFor({ state: 'visible' });
  assert.match(await first.locator('.result').textContent(), /已记录/);
  assert.equal(taps, 3, 'three taps from the home page, no typing');
  const tok = await token('worker1');
  const recorded = await visitsOf(tok, resident);
  assert.equal(recorded[0].visitor_name, '李网格');
  assert.equal(recorded[0].health, 'well');
  assert.equal(recorded[0].mode, 'at_home');

  // the next person: a detaching ceiling, found on the visit
  const second = w.page.locator('li.person:not(.visited)').first();
  const other = await second.getAttribute('data-resident');
  const name = (await second.locator('.who strong').textContent()).trim();
  await second.locator('a.button', { hasText: '详细记录' }).click();
  await w.page.waitForURL(/\/walk\/visit\?resident=/);
  await w.page.locator('fieldset', { hasText: '安全' }).locator('label.chip', { hasText: '需处理' }).click();
  await w.page.locator('details.act summary').click();
  await w.page.selectOption('select[name=case_category]', 'structure');
  await w.page.fill('textarea[name=case_description]', '卫生间吊顶开裂下垂,随时可能脱落');
  await w.page.screenshot({ path: `${OUT}visit-form.png`, fullPage: true });
  await Promise.all([w.page.waitForURL(/\/cases\/\d+\?visit=recorded$/), w.page.click('form.visit button[type=submit]')]);
  assert.match(await w.page.textContent('#visit-recorded'), /走访已记录/);
  const body = await w.page.textContent('main');
  assert.match(body, /安全隐患/);
  assert.match(body, /走访发现/);
  assert.ok(body.includes(name), `the resident ${name} is on the case`);
  const after = await visitsOf(tok, other);
  assert.equal(after[0].safety, 'act');
  assert.ok(after[0].case_id, 'the visit links the case');

  // the coverage page moved
  await sec.page.reload();
  assert.equal(await workerVisits(sec.page), before.visits + 2, 'two more visits by 李网格 this month');
  if (wasLate) {
    assert.ok(Number(await sec.page.textContent('#overdue-total')) < before.overdue, 'one fewer overdue');
  }
  await sec.page.screenshot({ path: `${OUT}coverage.png`, fullPage: true });
  assert.deepEqual([...w.problems, ...sec.problems], []);
  await w.context.close();
  await sec.context.close();
});

test('without signal two visits wait on the phone and are recorded exactly once', async () => {
  const w = await phoneAs('worker1');
  await w.page.goto(`${BASE}/walk`);
  await w.page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  // once the worker controls the page, the list it fetches is kept
  await w.page.reload();
  await w.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await w.page.reload();

  const people = w.page.locator('li.person:not(.visited)');
  const ids = [await people.nth(0).getAttribute('data-resident'), await people.nth(1).getAttribute('data-resident')];
  const tok = await token('worker1');
  const newest = [(await visitsOf(tok, ids[0]))[0]?.id, (await visitsOf(tok, ids[1]))[0]?.id];

  await w.context.setOffline(true);
  await w.page.reload();
  await w.page.locator('h1', { hasText: '今日走访' }).waitFor();
  for (const id of ids) {
    const li = w.page.locator(`li.person[data-resident="${id}"]`);
    await li.locator('details.quick summary').click();
    await li.locator('form.visit button[type=submit]').click();
    await li.locator('.result').waitFor({ state: 'visible' });
    assert.match(await li.locator('.result').textContent(), /无网络/);
  }
  const queued = await w.page.evaluate(() => JSON.parse(localStorage.getItem('yijia.visits.queue')));
  assert.equal(queued.length, 2);
  assert.notEqual(queued[0].client_id, queued[1].client_id);
  assert.equal((await visitsOf(tok, ids[0]))[0]?.id, newest[0], 'nothing reached the server yet');
  assert.equal((await visitsOf(tok, ids[1]))[0]?.id, newest[1]);
  await w.page.screenshot({ path: `${OUT}walk-offline.png`, fullPage: true });

  await w.context.setOffline(false);
  await w.page.evaluate(() => window.dispatchEvent(new Event('online')));
  await w.page.waitForFunction(() => JSON.parse(localStorage.getItem('yijia.visits.queue') || '[]').length === 0);
  // the answer was lost, say, and the phone sends the same two again
  const again = await w.page.evaluate(async (visits) => {
    const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
    const r = await fetch('/api/v1/visits/batch', {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ visits }),
    });
    return (await r.json()).results.map(x => x.status);
  }, queued);
  assert.deepEqual(again, ['known', 'known']);
  for (const [i, id] of ids.entries()) {
    const list = await visitsOf(tok, id);
    assert.equal(list.filter(v => queued.some(q => q.client_id === v.client_id)).length, 1, `one visit for ${id}`);
    assert.equal(list[0].client_id, queued[i].client_id, 'the newest is the one from the phone');
    assert.equal(list[1]?.client_id === queued[i].client_id, false);
  }
  const problems = w.problems.filter(p => !/ERR_INTERNET_DISCONNECTED|Failed to fetch|net::/.test(p));
  assert.deepEqual(problems, []);
  await w.context.close();
});
