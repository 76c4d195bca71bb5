// The love-points shop on phones: a resident signs up for today's volunteer
// day, the clerk checks him in (from the paper list: at the start) and out,
// the secretary confirms and the points arrive; he redeems a bag of rice and
// shows the pickup code, and the clerk hands it over at the counter.
// Expects a fresh `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, chromiumForFile, token } from './lib.mjs';

const { phone: blank, phoneAs } = chromiumForFile();
const number = async (page, sel) => Number((await page.textContent(sel)).match(/-?\d+/)[0]);

// A time in Beijing as a datetime-local value: 2026-11-30T11:00
function localValue(rfc3339) {
  return rfc3339.slice(0, 16);
}

test('a resident volunteers, earns points, redeems rice and the clerk hands it over', async () => {
  // whose record the demo resident's account is
  const tok = await token('resident');
  const me = await (await fetch(`${BASE}/api/v1/me/points`, { headers: { authorization: `Bearer ${tok}` } })).json();
  const rid = me.account.resident_id;
  assert.ok(rid > 0, 'the demo resident is linked to a record');

  // the resident signs up for today's volunteer day
  const r = await phoneAs('resident');
  await r.page.goto(`${BASE}/me/points`);
  const before = await number(r.page, '#balance');
  assert.ok(before > 0, 'a year of volunteering');
  await r.page.goto(`${BASE}/me/activities`);
  const card = r.page.locator('section.activity', { hasText: '社区志愿服务日' });
  await Promise.all([r.page.waitForURL(/\/me\/activities\?ok=1/), card.getByRole('button', { name: '报名' }).click()]);
  assert.ok((await card.textContent()).includes('已报名'));
  const id = await card.getAttribute('data-id');
  await r.page.screenshot({ path: `${OUT}points-signed-up.png`, fullPage: true });

  // today's is not over: its points cannot be confirmed yet, and the page says when
  const s = await phoneAs('secretary');
  await s.page.goto(`${BASE}/activities/${id}`);
  assert.ok(await s.page.locator('#confirm').isDisabled(), 'not before the end');
  assert.match(await s.page.textContent('#confirm-why'), /活动结束后才能确认/);
  const act = await fetch(`${BASE}/api/v1/activities/${id}`, { headers: { authorization: `Bearer ${tok}` } });
  assert.equal(act.status, 404, 'a resident does not read the organiser\'s list');

  // yesterday's haircut: the clerk records him from the paper list, in and out
  const c = await phoneAs('clerk');
  await c.page.goto(`${BASE}/activities`);
  const past = c.page.locator('a', { hasText: '助老理发' }).first();
  const href = await past.getAttribute('href');
  const pastId = href.split('/').pop();
  await Promise.all([c.page.waitForURL(`${BASE}${href}`), past.click()]);
  const times = await c.page.evaluate(async (id) => {
    const t = await (await fetch(`/api/v1/activities/${id}`)).json();
    return [t.starts_at, t.ends_at];
  }, pastId);
  const row = c.page.locator(`li.signup[data-resident="${rid}"]`);
  await row.locator('summary').click();
  await row.locator('input[name=at]').fill(localValue(times[0]));
  await Promise.all([c.page.waitForURL(/\?ok=1/), row.getByRole('button', { name: '签到' }).click()]);
  await row.locator('summary').click();
  await row.locator('input[name=at]').fill(localValue(times[1]));
  await Promise.all([c.page.waitForURL(/\?ok=1/), row.getByRole('button', { name: '签退' }).click()]);
  assert.ok((await row.textContent()).includes('签退'), 'checked out');

  // the secretary confirms the day after: the minutes turn into points
  await s.page.goto(`${BASE}/activities/${pastId}`);
  await Promise.all([s.page.waitForURL(/\?ok=1/), s.page.click('#confirm')]);
  const earned = Number((await s.page.locator(`li.signup[data-resident="${rid}"] .tag`, { hasText: '分' }).last().textContent()).match(/\+(\d+)/)[1]);
  assert.equal(earned, 20, `two hours at 10 an hour: ${earned}`);

  await r.page.goto(`${BASE}/me/points`);
  assert.equal(await number(r.page, '#balance'), before + earned);
  assert.ok((await r.page.textContent('#statement')).includes('助老理发'));
  await r.page.screenshot({ path: `${OUT}points-statement.png`, fullPage: true });

  // a bag of rice; the pickup code is shown big
  await r.page.goto(`${BASE}/me/shop`);
  const rice = r.page.locator('li.item', { hasText: '大米' });
  await Promise.all([r.page.waitForURL(/redeemed=\d+/), rice.getByRole('button', { name: '兑换' }).click()]);
  const code = (await r.page.textContent('#pickup-code')).trim();
  assert.match(code, /^\d{6}$/);
  assert.equal(await number(r.page, '#balance'), before + earned - 30);
  await r.page.screenshot({ path: `${OUT}points-pickup-code.png`, fullPage: true });

  // at the counter: the code, the bag, handed over once
  await c.page.goto(`${BASE}/shop`);
  await c.page.fill('input[name=code]', code);
  await Promise.all([c.page.waitForURL(/code=/), c.page.getByRole('button', { name: '查找' }).click()]);
  assert.ok((await c.page.textContent('#found')).includes('大米'));
  await c.page.screenshot({ path: `${OUT}points-counter.png`, fullPage: true });
  await Promise.all([c.page.waitForURL(/ok=handed_over/), c.page.click('#hand-over')]);
  assert.ok((await c.page.textContent('main')).includes('已交付'));
  await c.page.goto(`${BASE}/shop?code=${code}`);
  assert.ok((await c.page.textContent('main')).includes('没有等待领取的这个取货码'), 'a code works once');

  await r.page.goto(`${BASE}/me/shop`);
  const mine = r.page.locator('#mine li', { hasText: '大米' }).first();
  assert.ok((await mine.textContent()).includes('已领取'));

  for (const p of [r, c, s]) {
    assert.deepEqual(p.problems, [], 'no console errors');
    await p.context.close();
  }
});

test('a grid worker gives an invitation code and the resident opens an account with it', async () => {
  const tok = await token('worker1');
  const list = await (await fetch(`${BASE}/api/v1/residents?per_page=50`, { headers: { authorization: `Bearer ${tok}` } })).json();
  // not the demo resident's own record: his has an account, and a code for it sets a new password
  const mine = (await (await fetch(`${BASE}/api/v1/me/points`, { headers: { authorization: `Bearer ${await token('resident')}` } })).json()).account.resident_id;
  const someone = list.items.find(p => p.age >= 18 && p.id !== mine && !p.name.startsWith('张'));
  assert.ok(someone, 'a resident of the grid');

  const w = await phoneAs('worker1');
  await w.page.goto(`${BASE}/residents/${someone.id}`);
  await Promise.all([w.page.waitForLoadState('load'), w.page.click('#invite')]);
  const code = (await w.page.textContent('#invitation-code')).trim();
  assert.match(code, /^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  await w.page.screenshot({ path: `${OUT}invitation.png`, fullPage: true });

  const { context, page, problems } = await blank();
  await page.goto(`${BASE}/login`);
  await Promise.all([page.waitForURL(`${BASE}/join`), page.click('a[href="/join"]')]);
  await page.fill('input[name=code]', code.toLowerCase().replace('-', ' '));
  await page.fill('input[name=phone]', '139 0431 2277');
  await page.fill('input[name=password]', 'Liu-2277-jiayou');
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '确定' }).click()]);
  assert.ok((await page.textContent('#joined')).includes('13904312277'));
  await Promise.all([page.waitForURL(`${BASE}/login`), page.click('a[href="/login"]')]);
  await page.fill('input[name=username]', '13904312277');
  await page.fill('input[name=password]', 'Liu-2277-jiayou');
  await Promise.all([page.waitForURL(`${BASE}/`), page.click('button[type=submit]')]);
  await page.goto(`${BASE}/me/points`);
  assert.equal((await page.textContent('#balance')).match(/\d+/)[0], '0');
  assert.deepEqual(problems, [], 'no console errors');
  assert.deepEqual(w.problems, [], 'no console errors');
  await context.close();
  await w.context.close();
});

test('at the gate a resident scans the shift\'s code to check in, and chooses to be named on the honours board', async () => {
  const r = await phoneAs('resident');
  await r.page.goto(`${BASE}/me/activities`);
  // tomorrow's shift at the gate, still open for sign-up
  const open = r.page.locator('section.activity', { hasText: '门岗值守' })
    .filter({ has: r.page.getByRole('button', { name: '报名' }) }).first();
  const id = await open.getAttribute('data-id');
  const card = r.page.locator(`section.activity[data-id="${id}"]`);
  await Promise.all([r.page.waitForURL(/\?ok=1/), card.getByRole('button', { name: '报名' }).click()]);

  // the clerk shows the code; the resident's phone opens what it says
  const c = await phoneAs('clerk');
  await c.page.goto(`${BASE}/activities/${id}`);
  await Promise.all([c.page.waitForURL(`${BASE}/activities/${id}/code`), c.page.click('#show-code')]);
  assert.equal(await c.page.locator('#qr svg').count(), 1, 'the code is drawn');
  const url = (await c.page.textContent('.small-url')).trim();
  assert.ok(url.startsWith(`${BASE}/me/check?a=${id}&t=`), url);
  await c.page.screenshot({ path: `${OUT}check-code.png`, fullPage: true });
  await r.page.goto(url);
  await Promise.all([r.page.waitForURL(/\/me\/activities\?ok=1/), r.page.click('#check')]);
  const shift = r.page.locator(`section.activity[data-id="${id}"]`);
  assert.ok((await shift.textContent()).includes('已签到'));

  // the honours board: named only once he agrees
  await r.page.goto(`${BASE}/me/honours`);
  const before = await r.page.textContent('#consent');
  await Promise.all([r.page.waitForLoadState('load'), r.page.locator('form[action="/me/honours"] button').click()]);
  assert.notEqual(await r.page.textContent('#consent'), before, 'the choice changed');
  await r.page.screenshot({ path: `${OUT}honours.png`, fullPage: true });

  // and anyone may read the board without logging in
  const { context, page, problems } = await blank();
  await page.goto(`${BASE}/honours?community=chengnan`);
  assert.ok((await page.textContent('#honour-champion')).includes('志愿标兵'));
  for (const p of [r, c, { context, problems }]) {
    assert.deepEqual(p.problems, [], 'no console errors');
    await p.context.close();
  }
});
