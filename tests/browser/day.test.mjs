// One day of the community as a pilot lives it, on the demo: the secretary
// checks and imports the roster, and her worker's list stays a day's work;
// the worker walks her list in walking order, logs an "all well" and takes it back,
// logs a hazard whose photo lands on the case; the resident reads the result
// before he rates, with nothing chosen for him; the secretary reads her
// ledger; the street officer clears his 待我审批; a visitor opens the
// boards' plain addresses from a poster.
// Expects `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, chromiumForFile, token } from './lib.mjs';

const { phone, phoneAs } = chromiumForFile();

// a 1×1 PNG, as a phone's camera would hand over a file
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

async function api(tok, path) {
  const r = await fetch(`${BASE}${path}`, { headers: { authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 200, path);
  return r.json();
}

const count = async (page, id) => Number((await page.textContent(id)).trim());

// What the worker's walk list holds: people on it, due today, late, and its height.
async function walkList(page) {
  await page.goto(`${BASE}/walk`);
  return {
    people: await page.locator('li.person').count(),
    due: await count(page, '#n-due'),
    late: await count(page, '#n-late'),
    height: await page.evaluate(() => document.documentElement.scrollHeight),
  };
}

// The community's on-time share this month, as the coverage page shows it.
async function onTime(page) {
  await page.goto(`${BASE}/coverage`);
  return (await page.locator('#coverage-totals tbody tr').last().textContent()).replace(/\s+/g, ' ').trim();
}

test('the secretary checks, then imports the roster, and her worker\'s list stays a day\'s work', async () => {
  const w = await phoneAs('worker1');
  const before = await walkList(w.page);
  const s = await phoneAs('secretary');
  await s.page.setViewportSize({ width: 1366, height: 900 });
  const coverage = await onTime(s.page);
  const roster = new URL('../fixtures/roster-chengnan-2024.xlsx', import.meta.url).pathname;

  // a check first: it says what it would do, and does nothing
  await s.page.goto(`${BASE}/residents/import`);
  await s.page.setInputFiles('input[name=file]', roster);
  await s.page.click('button[name=dry_run]');
  await s.page.locator('#imported').waitFor({ timeout: 60000 });
  const checked = await s.page.textContent('#result');
  assert.ok(checked.includes('检查结果(尚未导入)'), checked);
  assert.match(checked, /人可导入/);
  assert.doesNotMatch(checked, /人已导入/);
  const bad = await s.page.$$eval('table.bad-rows tbody tr', rows => rows.map(r => [...r.cells].map(c => c.textContent.trim())));
  assert.ok(bad.length > 0 && bad.every(r => r[2] !== '' && !/\d{17}[\dX]/.test(r[3])), `named, masked: ${JSON.stringify(bad)}`);
  assert.deepEqual(await walkList(w.page), before, 'a check changes nobody\'s list');

  // then for real: each grid's plans grow, first visits spread over days
  await s.page.goto(`${BASE}/residents/import`);
  await s.page.setInputFiles('input[name=file]', roster);
  await s.page.click('button.primary');
  await s.page.locator('#imported').waitFor({ timeout: 60000 });
  assert.match(await s.page.textContent('#result'), /导入结果/);
  assert.equal(await s.page.locator('ul.plans-joined li', { hasText: '暂无网格员' }).count(), 0, 'each grid names its worker');
  const joined = s.page.locator('ul.plans-joined li', { hasText: '李网格' });
  const line = await joined.first().textContent();
  const gained = Number(await joined.first().locator('strong').nth(1).textContent());
  const [from, to] = line.match(/\d{4}-\d{2}-\d{2}/g) ?? [];
  assert.ok(gained > 0 && from && to && from < to, `李网格's new people, first visits over days: ${line}`);
  await s.page.screenshot({ path: `${OUT}day-import-1366.png`, fullPage: true });

  // her list grows by a day's share, not by everyone at once
  const after = await walkList(w.page);
  assert.ok(after.people - before.people < Math.max(8, gained / 4), `${gained} joined; the list went ${before.people} → ${after.people}`);
  assert.ok(after.height < before.height * 2 + 2000, `a page she can walk: ${before.height} → ${after.height} px`);
  assert.equal(after.late, before.late, 'nobody new is late on the first day');
  // and nobody is on time or late before their first visit is due
  assert.equal(await onTime(s.page), coverage, 'the on-time share is not moved by an import');
  assert.deepEqual(s.problems, []);
  assert.deepEqual(w.problems, []);
  await s.context.close();
  await w.context.close();
});

test('the worker walks in order, undoes a mistaken "all well" and carries a photo onto a hazard', async () => {
  const w = await phoneAs('worker1');
  await w.page.goto(`${BASE}/walk`);
  // stops go estate by estate, building by building: 8号楼 before 10号楼
  const stops = await w.page.$$eval('section.stop h2', hs => hs.map(h => h.textContent.trim()));
  const key = s => s.replace(/\d+/g, d => d.padStart(6, '0'));
  const walked = stops.filter(s => !s.startsWith('纠纷回访'));
  const byEstate = new Map();
  for (const s of walked) {
    const estate = s.split(' ')[0];
    if (!byEstate.has(estate)) byEstate.set(estate, []);
    byEstate.get(estate).push(key(s));
  }
  const estates = [...byEstate.keys()];
  assert.equal(new Set(estates).size, estates.length, `an estate is walked once, not revisited: ${walked}`);
  for (const [estate, list] of byEstate) {
    assert.deepEqual(list, [...list].sort(), `${estate}: buildings in order`);
  }
  if (await w.page.locator('nav.estates a').count() > 2) {
    const link = w.page.locator('nav.estates a').nth(1);
    const name = (await link.textContent()).replace(/\d+\s*$/, '').trim();
    await Promise.all([w.page.waitForURL(/estate=/), link.click()]);
    const heads = await w.page.$$eval('section.stop h2', hs => hs.map(h => h.textContent.trim()));
    assert.ok(heads.filter(h => !h.startsWith('纠纷回访')).every(h => h.startsWith(name)), `only ${name}: ${heads}`);
    await w.page.goto(`${BASE}/walk`);
  }
  await w.page.screenshot({ path: `${OUT}day-walk-390.png`, fullPage: false });

  // an "all well" on the wrong person: the counts move, and back
  const resident = await w.page.locator('li.person:not(.visited)').first().getAttribute('data-resident');
  const person = w.page.locator(`li.person[data-resident="${resident}"]`);
  const late = ['overdue', 'escalated'].includes(await person.getAttribute('data-lateness'));
  const counter = late ? '#n-late' : '#n-due';
  const before = await count(w.page, counter);
  const done = await count(w.page, '#n-done');
  await person.locator('details.quick summary').click();
  await person.locator('form.visit button[type=submit]').click();
  await person.locator('.result button.undo').waitFor();
  assert.equal(await count(w.page, counter), before - 1, 'the counts follow the visit');
  assert.equal(await count(w.page, '#n-done'), done + 1);
  const tok = await token('worker1');
  const visited = (await api(tok, `/api/v1/residents/${resident}/plan`)).visits[0];
  await person.locator('.result button.undo').click();
  await w.page.waitForFunction((id) => !document.querySelector(`li.person[data-resident="${id}"]`).classList.contains('visited'), resident);
  assert.match(await person.locator('.result').textContent(), /已撤销/);
  assert.equal(await count(w.page, counter), before, 'and back');
  const after = (await api(tok, `/api/v1/residents/${resident}/plan`)).visits[0];
  assert.notEqual(after?.id, visited.id, 'the visit is gone from his history');

  // a hazard found on a visit, with a photo: the case has it, and says the visit is recorded
  await w.page.goto(`${BASE}/walk/visit?resident=${resident}`);
  await w.page.locator('fieldset', { hasText: '安全' }).locator('label.chip', { hasText: '需处理' }).click();
  await w.page.locator('details.act summary').click();
  await w.page.selectOption('select[name=case_category]', 'structure');
  await w.page.fill('textarea[name=case_description]', '厨房墙皮大面积脱落,露出钢筋');
  await w.page.setInputFiles('input[name=photo]', { name: 'IMG_0007.png', mimeType: 'image/png', buffer: PNG });
  await Promise.all([w.page.waitForURL(/\/cases\/\d+\?visit=recorded$/), w.page.click('form.visit button[type=submit]')]);
  assert.match(await w.page.textContent('#visit-recorded'), /走访已记录/);
  assert.equal(await w.page.locator('#photos img').count(), 1, 'the visit\'s photo is on the case');
  await w.page.screenshot({ path: `${OUT}day-hazard-case.png`, fullPage: true });
  assert.deepEqual(w.problems, []);
  await w.context.close();
});

test('the resident reads what was done, then rates with nothing chosen for him', async () => {
  const r = await phoneAs('resident');
  await r.page.goto(`${BASE}/cases/new`);
  const chosen = await r.page.$eval('select[name=building_id]', s => s.value);
  assert.ok(chosen !== '', 'his own building to begin with');
  // the hint asks with the place and the category, never the CSRF token in a URL
  const asked = [];
  r.page.on('request', q => { if (q.url().includes('/cases/similar')) asked.push(q.url()); });
  await r.page.locator('label.chip', { hasText: '房屋维修' }).click();
  await r.page.fill('textarea[name=description]', '单元门禁坏了,老人进不了门');
  await r.page.locator('textarea[name=description]').blur();
  await r.page.waitForTimeout(500);
  assert.ok(asked.length > 0, 'the hint asked');
  assert.ok(asked.every(u => !u.includes('csrf')), `no token in ${asked}`);
  await Promise.all([r.page.waitForURL(/\/cases\/\d+$/), r.page.click('button[type=submit].primary')]);
  const id = r.page.url().split('/').pop();

  const w = await phoneAs('worker1');
  const wt = await token('worker1');
  let version = (await api(wt, `/api/v1/cases/${id}`)).version;
  for (const [action, note] of [['accept', ''], ['start', ''], ['resolve', '已更换门禁读卡器']]) {
    const res = await w.page.evaluate(async ([id, body]) => {
      const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
      const x = await fetch(`/api/v1/cases/${id}/actions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
      return x.status;
    }, [id, { action, version, note }]);
    assert.equal(res, 200, action);
    version += 1;
  }
  await r.page.reload();
  const order = await r.page.evaluate(() => ['#result', '#rate', '#actions'].map(s => document.querySelector(s)?.getBoundingClientRect().top ?? -1));
  assert.ok(order[0] >= 0 && order[0] < order[1] && order[1] < order[2], `result, rating, decision: ${order}`);
  assert.match(await r.page.textContent('#result'), /已更换门禁读卡器/);
  assert.equal(await r.page.locator('#rate input[name=rating]:checked').count(), 0, 'no stars chosen for him');
  assert.ok(await r.page.getByRole('button', { name: '问题已解决,结案' }).count() > 0);
  await r.page.screenshot({ path: `${OUT}day-resident-rate-390.png`, fullPage: true });
  await r.page.locator('label.star', { hasText: '5' }).click();
  await Promise.all([r.page.waitForLoadState('load'), r.page.getByRole('button', { name: '提交评价' }).click()]);
  assert.ok((await r.page.textContent('main')).includes('5 ★'));
  // his home: his grid worker to call, by name
  await r.page.goto(`${BASE}/`);
  assert.match(await r.page.textContent('#my-grid-worker'), /李网格/);
  assert.ok(await r.page.locator('#my-grid-worker a[href^="tel:"]').count() > 0);
  assert.deepEqual(r.problems, []);
  await r.context.close();
  await w.context.close();
});

test('the secretary reads her ledger on a desktop, and a visitor the plain board addresses', async () => {
  const s = await phoneAs('secretary');
  await s.page.setViewportSize({ width: 1366, height: 900 });
  await s.page.goto(`${BASE}/residents?sort=name`);
  assert.ok(await s.page.locator('table.ledger tbody tr').count() > 0);
  const headers = await s.page.$$eval('table.ledger th', ths => ths.map(t => t.textContent.trim()));
  assert.deepEqual(headers, ['姓名', '性别', '年龄', '身份证号', '住址', '类别', '网格']);
  assert.ok(!(await s.page.textContent('table.ledger')).includes('chengnan-g'), 'grids by name');
  assert.equal(await s.page.locator('details.filters-box[open]').count(), 0, 'the filters fold away');
  await s.page.screenshot({ path: `${OUT}day-ledger-1366.png` });
  assert.deepEqual(s.problems, []);
  await s.context.close();

  const v = await phone();
  // a subdistrict of several communities: the plain address asks which, in pinyin order
  for (const path of ['/boards/spending', '/boards/pledges', '/honours']) {
    const res = await v.page.goto(`${BASE}${path}`);
    assert.equal(res.status(), 200, path);
    const names = await v.page.$$eval('a[href*="community="]', as => as.map(a => a.textContent.trim()));
    assert.ok(names.some(n => n.includes('城南社区')) && names.length >= 5, `${path} offers every community: ${names}`);
    await Promise.all([v.page.waitForURL(/community=chengnan/), v.page.locator('a[href*="community=chengnan"]').first().click()]);
    assert.equal(await v.page.locator('h1').count(), 1, `${path} opens 城南社区's board`);
  }
  await v.page.goto(`${BASE}/boards/poster`);
  const first = await v.page.locator('a[href*="community="]').first().textContent();
  assert.ok(first.includes('北苑社区'), `北苑 before 城南 before 东盛: ${first}`);
  await v.page.goto(`${BASE}/boards/poster?community=chengnan`);
  assert.equal(await v.page.locator('.poster-code svg').count(), 3);
  await v.page.screenshot({ path: `${OUT}day-poster-390.png`, fullPage: true });
  assert.deepEqual(v.problems, []);
  await v.context.close();
});

test('the street officer clears what waits for him, money confirmed by its amount', async () => {
  const o = await phoneAs('officer');
  await o.page.setViewportSize({ width: 1366, height: 900 });
  await o.page.goto(`${BASE}/`);
  // the home page and the menu say how many wait
  await o.page.locator('#approvals-badge span.count').waitFor();
  const waiting = Number(await o.page.textContent('#approvals-badge span.count'));
  assert.ok(waiting >= 2, `the demo's funding application and export wait: ${waiting}`);
  assert.ok((await o.page.textContent('#approvals-waiting')).includes(String(waiting)));
  await o.page.click('#approvals-waiting a');
  await o.page.waitForURL(/\/approvals$/);
  await o.page.screenshot({ path: `${OUT}day-approvals-1366.png`, fullPage: true });

  // the city's money for the wall: a comment, then the amount once more
  const wall = o.page.locator('#waiting li', { hasText: '三期北侧院墙重建' });
  assert.ok((await wall.textContent()).includes('¥26,000.00'));
  await wall.locator('input[name=note]').fill('同意,按市级专项执行');
  await Promise.all([o.page.waitForURL(/\/approvals\/funding\//), wall.getByRole('button', { name: '批准…' }).click()]);
  assert.ok((await o.page.textContent('#amount-figures')).includes('26,000.00'));
  assert.equal((await o.page.textContent('#amount-capitals')).trim(), '大写: 贰万陆仟元整');
  await o.page.screenshot({ path: `${OUT}day-approve-confirm-1366.png` });
  await Promise.all([o.page.waitForURL(/done=approved/), o.page.click('#confirm-approve')]);

  // the export of the elderly living alone: refused, with why
  const ex = o.page.locator('#waiting li', { hasText: '独居老人' });
  await ex.locator('input[name=note]').fill('请先说明用途范围');
  await Promise.all([o.page.waitForURL(/done=refused/), ex.getByRole('button', { name: '退回' }).click()]);

  // both stay, with his comments; the figure in the menu goes down by two
  const decided = await o.page.textContent('#decided');
  assert.ok(decided.includes('同意,按市级专项执行') && decided.includes('请先说明用途范围'), decided);
  await o.page.waitForFunction(
    n => Number(document.querySelector('#approvals-badge')?.textContent.trim() || 0) === n, waiting - 2);
  assert.deepEqual(o.problems, []);
  await o.context.close();
});
