// The dashboard: the secretary sees her grids on the map coloured by late
// cases, taps the grid with the most and lands on exactly that list.
// Expects a fresh `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, chromiumForFile } from './lib.mjs';

const { phoneAs } = chromiumForFile();

test('the secretary taps the grid with the most late cases on the map and lands on that list', async () => {
  const s = await phoneAs('secretary');
  await s.page.goto(`${BASE}/dashboard`);
  const rows = s.page.locator('#glance tbody tr[data-code]');
  const grids = await rows.count();
  assert.ok(grids >= 6, 'the community\'s grids in the table');
  assert.equal(await s.page.locator('#map-card svg a.area').count(), grids, 'each grid drawn on the map');
  await s.page.screenshot({ path: `${OUT}dashboard.png`, fullPage: true });
  // the trends drawn in the browser, the table behind them one tap away
  await s.page.waitForSelector('#chart-cases svg');
  assert.ok(await s.page.locator('#chart-visits svg path').count() > 0, 'the visits chart is drawn');
  assert.equal(await s.page.locator('#months').isVisible(), false);
  await s.page.locator('#months-table summary').click();
  assert.equal(await s.page.locator('#months tbody tr').count(), 13, 'the 13 months behind the charts');

  // the grid with the most late cases, as the table counts them
  let top = null;
  let most = -1;
  for (let i = 0; i < grids; i++) {
    const row = rows.nth(i);
    const late = Number(await row.locator('a[data-figure=late]').textContent());
    if (late > most) { most = late; top = await row.getAttribute('data-code'); }
  }
  assert.ok(most > 0, 'the demo has late cases');
  const area = s.page.locator(`#map-card svg a.area[href*="org=${top}"]`);
  assert.ok((await area.getAttribute('aria-label')).endsWith(` ${most}`), 'the map names the figure');
  assert.ok(await s.page.locator('#map-card svg text.area-label', { hasText: ` ${most}` }).count() > 0, 'and labels it');
  await Promise.all([s.page.waitForURL(new RegExp(`/cases\\?box=overdue&org=${top}$`)), area.locator('path').click()]);
  assert.equal((await s.page.textContent('h1 .muted')).trim(), String(most), 'the list holds as many as the map said');
  assert.equal(await s.page.locator('ul.cases li').count(), Math.min(most, 30));
  assert.ok((await s.page.textContent('#narrowed')).includes(top), 'the list says it is narrowed to the grid');
  await s.page.screenshot({ path: `${OUT}dashboard-late.png`, fullPage: true });

  // another figure on the map: people in a category, and its list
  await s.page.goto(`${BASE}/dashboard?by=elderly_alone`);
  const first = s.page.locator('#categories tbody tr[data-code]').first().locator('a[data-category=elderly_alone]');
  const n = (await first.textContent()).trim();
  await Promise.all([s.page.waitForURL(/\/residents\?grid=.*&category=elderly_alone/), first.click()]);
  assert.equal((await s.page.textContent('h1 .muted')).trim(), n, 'the roster counts the same');
  assert.deepEqual(s.problems, []);
});

test('the secretary opens the monthly report from the dashboard, its figures the dashboard\'s, and downloads the workbook', async () => {
  const s = await phoneAs('secretary');
  await s.page.goto(`${BASE}/dashboard`);
  await s.page.locator('#months-table summary').click();
  const latest = s.page.locator('#months tbody tr').first();
  const month = (await latest.locator('th').textContent()).trim();
  const filed = (await latest.locator('td').first().textContent()).trim();
  const visits = (await latest.locator('td').nth(6).textContent()).trim();
  await Promise.all([s.page.waitForURL(/\/reports\/monthly\?org=chengnan$/), s.page.click('#to-report')]);
  // the month before by default; pick this month
  await s.page.fill('#report-pick input[name=month]', month);
  await Promise.all([s.page.waitForURL(new RegExp(`month=${month}`)), s.page.click('#report-pick button')]);
  assert.ok((await s.page.textContent('#report-title')).includes(month.replace('-', '年')));
  const cell = async (line) => (await s.page.locator(`#report-month tr[data-line=${line}] td`).first().textContent()).trim();
  assert.equal(await cell('filed'), filed, 'cases filed as on the dashboard');
  assert.equal(await cell('visits'), visits, 'visits as on the dashboard');
  await s.page.screenshot({ path: `${OUT}report.png`, fullPage: true });

  const [download] = await Promise.all([s.page.waitForEvent('download'), s.page.click('#report-xlsx')]);
  assert.equal(download.suggestedFilename(), `report-chengnan-${month}.xlsx`);
  const path = await download.path();
  const bytes = (await import('node:fs')).readFileSync(path);
  assert.ok(bytes.length > 4000 && bytes.subarray(0, 2).toString() === 'PK', 'a workbook (a zip)');
  assert.deepEqual(s.problems, []);
});
