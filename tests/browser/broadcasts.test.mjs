// The secretary warns one building (level one) with a roll-call of the
// elderly living alone and the disabled; the grid worker's phone shows the
// banner and her list; she marks one safe, one needing help (an emergency
// case opens) and one not reached, who then answers 我平安 himself; the
// board reaches 100 % and closes. Expects `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, chromiumForFile, token } from './lib.mjs';

const { phoneAs } = chromiumForFile();

// The banner comes once the dispatcher has told the page's user: seconds.
async function bannerOn(page) {
  for (let i = 0; i < 40; i++) {
    await page.goto(`${BASE}/`);
    try {
      await page.waitForSelector('#alerts .alert', { timeout: 1500 });
      return page.textContent('#alerts');
    } catch { /* not yet told */ }
  }
  assert.fail('no banner');
}

async function answer(page, id, who, value) {
  await Promise.all([page.waitForLoadState('load'), page.click(`#p-${who} button[value=${value}]`)]);
  await page.waitForSelector(`#p-${who}[data-state=${value}]`);
}

test('a level-one broadcast for one building, and its roll-call to 100 %', async () => {
  const s = await phoneAs('secretary');
  await s.page.goto(`${BASE}/broadcasts`);
  await s.page.selectOption('#broadcast-form select[name=level]', '1');
  await s.page.fill('#broadcast-form input[name=reason]', '寒潮停暖');
  await s.page.fill('#broadcast-form textarea[name=body]', '今晚零下25度，9号楼供暖中断，正在抢修。独居老人请注意保暖，有困难请打社区电话。');
  await s.page.selectOption('#broadcast-form select[name=to]', { label: '丁香花园三期 9号楼' });
  await s.page.locator('label.chip', { hasText: '独居老人' }).click();
  await s.page.locator('label.chip', { hasText: '残障人员' }).click();
  await s.page.screenshot({ path: `${OUT}broadcast-form.png`, fullPage: true });
  await Promise.all([s.page.waitForURL(/\/broadcasts\/\d+$/), s.page.click('#broadcast-form button[type=submit]')]);
  const id = s.page.url().split('/').pop();
  assert.equal((await s.page.textContent('#rollcall-percent')).trim(), '0%');

  // the resident is on the roll-call: his id, as his page knows it
  const rt = await token('resident');
  const seen = await (await fetch(`${BASE}/api/v1/broadcasts/${id}`, { headers: { authorization: `Bearer ${rt}` } })).json();
  const own = seen.answer_for?.find(m => m.own)?.resident_id;
  assert.ok(own, `the resident is on the roll-call: ${JSON.stringify(seen)}`);

  // the worker's phone: the banner, then her list in walking order
  const w = await phoneAs('worker1');
  assert.match(await bannerOn(w.page), /一级预警[\s\S]*寒潮停暖/);
  await w.page.click('#alerts .alert a');
  // the board's line of her grid: everyone of hers, answered or not
  await Promise.all([w.page.waitForURL(/rollcall\?grid=/), w.page.click(`#rollcall-grids a[href$="grid=chengnan-g01"]`)]);
  const ids = await w.page.$$eval('#rollcall-people li', els => els.map(e => Number(e.dataset.id)));
  const others = ids.filter(i => i !== own);
  assert.ok(ids.includes(own) && others.length >= 2, `her list: ${ids}`);
  await w.page.screenshot({ path: `${OUT}rollcall-worker.png`, fullPage: true });
  await answer(w.page, id, others[0], 'safe');
  await answer(w.page, id, others[1], 'needs_help');
  const caseLink = w.page.locator(`#p-${others[1]} a[href^="/cases/"]`);
  assert.equal(await caseLink.count(), 1, 'an emergency case opened');
  // in a stairwell without signal: the answer waits on the phone, then goes
  await w.context.setOffline(true);
  await w.page.click(`#p-${own} button[value=not_reached]`);
  await w.page.waitForSelector(`#p-${own}[data-state=not_reached]`);
  assert.match(await w.page.textContent('#rollcall-status'), /没有信号/);
  await w.context.setOffline(false);
  await w.page.waitForFunction(() => (localStorage.getItem('yijia.rollcall.queue') || '[]') === '[]');
  const wt = await token('worker1');
  const unreached = await (await fetch(`${BASE}/api/v1/broadcasts/${id}/rollcall/people?state=not_reached`,
    { headers: { authorization: `Bearer ${wt}` } })).json();
  assert.deepEqual(unreached.map(p => p.resident_id), [own], 'sent once the signal came back');
  for (const rest of others.slice(2)) await answer(w.page, id, rest, 'safe');

  // the resident sees the banner and answers himself
  const r = await phoneAs('resident');
  assert.match(await bannerOn(r.page), /寒潮停暖/);
  await Promise.all([r.page.waitForURL(`${BASE}/broadcasts/${id}`), r.page.click('#alerts .alert a')]);
  await r.page.screenshot({ path: `${OUT}broadcast-resident.png`, fullPage: true });
  await Promise.all([r.page.waitForLoadState('load'), r.page.getByRole('button', { name: '我平安' }).click()]);
  await r.page.waitForSelector('#answer-safe .notice');
  assert.match(await r.page.textContent('#answer-safe'), /您已报平安/);

  // whoever is left in other grids, the secretary reaches from the board's links
  await s.page.goto(`${BASE}/broadcasts/${id}/rollcall?state=pending`);
  for (const left of await s.page.$$eval('#rollcall-people li', els => els.map(e => Number(e.dataset.id)))) {
    await s.page.goto(`${BASE}/broadcasts/${id}/rollcall`);
    await answer(s.page, id, left, 'safe');
  }
  await s.page.goto(`${BASE}/broadcasts/${id}`);
  assert.equal((await s.page.textContent('#rollcall-percent')).trim(), '100%');
  assert.match(await s.page.textContent('#rollcall-closed'), /报平安已结束/);
  await s.page.screenshot({ path: `${OUT}rollcall-board.png`, fullPage: true });

  // ended: the banner goes
  await Promise.all([s.page.waitForLoadState('load'), s.page.getByRole('button', { name: '结束广播' }).click()]);
  await r.page.goto(`${BASE}/`);
  await r.page.waitForTimeout(1500);
  assert.equal(await r.page.locator(`#alerts a[href="/broadcasts/${id}"]`).count(), 0, "no banner once it ended");
  for (const p of [s, w, r]) assert.deepEqual(p.problems, []);
});
