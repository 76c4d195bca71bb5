// The service station on phones: a resident books a blood-pressure check in
// a free slot, and at the station the clerk records the check against the
// appointment; the resident then sees it served.
// Expects a fresh `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, chromiumForFile } from './lib.mjs';

const { phoneAs } = chromiumForFile();

test('a resident books a blood-pressure check and the clerk records it', async () => {
  const r = await phoneAs('resident');
  await r.page.goto(`${BASE}/me/stations`);
  await Promise.all([r.page.waitForURL(/\/me\/stations\/services\/\d+$/), r.page.getByRole('link', { name: '预约 量血压' }).click()]);
  const service = r.page.url().match(/services\/(\d+)/)[1];
  // the first of the coming days with a free slot (the station closes on Sundays)
  const days = await r.page.locator('nav.days a').evaluateAll(as => as.map(a => a.getAttribute('href')));
  let slot;
  for (const href of days.slice(1)) {
    await r.page.goto(`${BASE}${href}`);
    slot = r.page.locator('#slots button:not([disabled])').first();
    if (await slot.count()) break;
  }
  const at = await slot.getAttribute('data-at');
  await Promise.all([r.page.waitForURL(/\/me\/stations\?ok=booked/), slot.click()]);
  const mine = r.page.locator('#my-appointments li', { hasText: '量血压' }).filter({ hasText: at.slice(5, 16).replace('T', ' ') });
  assert.equal(await mine.count(), 1, 'the booking is listed');
  assert.ok((await mine.textContent()).includes('已预约'));
  const id = await mine.getAttribute('data-id');
  await r.page.screenshot({ path: `${OUT}stations-booked.png`, fullPage: true });

  // booking the same service again that day is refused with the reason
  await r.page.goto(`${BASE}/me/stations/services/${service}?date=${at.slice(0, 10)}`);
  await r.page.locator('#slots button:not([disabled])').last().click();
  assert.ok((await r.page.textContent('[role=alert]')).includes('当天已预约过'));

  // at the station: the clerk finds the appointment on its day and records the check
  const c = await phoneAs('clerk');
  await c.page.goto(`${BASE}/stations`);
  await Promise.all([c.page.waitForURL(/\/stations\/\d+$/), c.page.getByRole('link', { name: '春城驿家党群服务站' }).click()]);
  const station = c.page.url().match(/stations\/(\d+)/)[1];
  await c.page.goto(`${BASE}/stations/${station}?date=${at.slice(0, 10)}`);
  const row = c.page.locator(`#appointments li[data-id="${id}"]`);
  assert.ok((await row.textContent()).includes('张'), 'the resident is named');
  await row.locator('summary', { hasText: '记录服务' }).click();
  await row.locator('input[name=minutes]').fill('10');
  await row.locator('input[name=note]').fill('血压 130/85');
  await Promise.all([c.page.waitForURL(/\?ok=recorded/), row.getByRole('button', { name: '保存' }).click()]);
  // the record is of today; the appointment is served
  const today = await c.page.locator('#records tr', { hasText: '血压 130/85' }).count();
  await c.page.goto(`${BASE}/stations/${station}?date=${at.slice(0, 10)}`);
  assert.ok((await c.page.locator(`#appointments li[data-id="${id}"]`).textContent()).includes('已服务'));
  assert.equal(today, 1, 'today\'s records list it');
  await c.page.screenshot({ path: `${OUT}stations-recorded.png`, fullPage: true });

  await r.page.goto(`${BASE}/me/stations`);
  assert.ok((await r.page.locator(`#my-appointments li[data-id="${id}"]`).textContent()).includes('已服务'));
  // the refused second booking answered 422, as a refused form does
  assert.deepEqual([...r.problems, ...c.problems].filter(p => !p.includes('422')), []);
});

test('a clerk books a slot for a resident who phones', async () => {
  const c = await phoneAs('clerk');
  await c.page.goto(`${BASE}/stations`);
  await Promise.all([c.page.waitForURL(/\/stations\/\d+$/), c.page.getByRole('link', { name: '春城驿家党群服务站' }).click()]);
  await Promise.all([c.page.waitForURL(/\/book\?/), c.page.locator('#book-for').click()]);
  // find the caller by name; a name not in the community is said so
  await c.page.fill('#find input[name=who]', '查无此人');
  await Promise.all([c.page.waitForURL(/who=/), c.page.locator('#find button').click()]);
  assert.ok((await c.page.textContent('main')).includes('没有找到这位居民'));
  await c.page.fill('#find input[name=who]', '李');
  await Promise.all([c.page.waitForURL(/who=/), c.page.locator('#find button').click()]);
  const first = c.page.locator('#found li a').first();
  const name = (await first.textContent()).trim();
  await Promise.all([c.page.waitForURL(/resident=\d+/), first.click()]);
  assert.equal((await c.page.locator('#resident strong').textContent()).trim(), name);
  // the first coming day with a free slot
  const days = await c.page.locator('nav.days[aria-label] a').evaluateAll(as => as.map(a => a.getAttribute('href')));
  let slot;
  for (const href of days.slice(1)) {
    await c.page.goto(`${BASE}${href}`);
    slot = c.page.locator('#slots button:not([disabled])').first();
    if (await slot.count()) break;
  }
  const at = await slot.getAttribute('data-at');
  await Promise.all([c.page.waitForURL(/ok=booked/), slot.click()]);
  const row = c.page.locator('#appointments li', { hasText: name }).filter({ hasText: at.slice(11, 16) });
  assert.equal(await row.count(), 1, 'the appointment is on the station\'s day');
  await c.page.screenshot({ path: `${OUT}stations-booked-for.png`, fullPage: true });
  assert.deepEqual(c.problems, []);
});
