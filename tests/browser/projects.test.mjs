// A repair from money to acceptance, on phones: the secretary starts a
// project on the demo resident's building to fix a hazard and files for
// money, the street officer approves it, expenses are entered, the work is
// finished and the resident accepts it; the hazard closes; the public
// board, without a login, shows every amount of the ledger exactly.
// Expects a fresh `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, api, chromiumForFile, token } from './lib.mjs';

const { phone: blank, phoneAs } = chromiumForFile();
const fen = (yuan) => Math.round(Number(yuan.replace(/[¥,\s]/g, '')) * 100);

test('funding approved, expenses entered, residents accept, the hazard closes and the board adds up', async () => {
  // where the demo resident lives, and a hazard reported there
  const [rtok, stok] = [await token('resident'), await token('staff')];
  const rid = (await api(rtok, '/api/v1/me/points')).account.resident_id;
  const building = (await api(stok, `/api/v1/residents/${rid}`)).address.building_id;
  const hazard = await api(stok, '/api/v1/cases', { category: 'structure', title: '楼梯扶手松动', description: '三楼扶手松动', building_id: building });
  assert.ok(hazard.id > 0, JSON.stringify(hazard));

  // the secretary starts the project, with a budget, and files for money
  const s = await phoneAs('secretary');
  await s.page.goto(`${BASE}/projects`);
  await s.page.locator('summary', { hasText: '新建修缮项目' }).click();
  const form = s.page.locator('#project-form');
  await form.locator('input[name=title]').fill('9号楼楼梯扶手更换');
  await form.locator(`input[name=buildings][value="${building}"]`).check();
  await form.locator(`input[name=cases][value="${hazard.id}"]`).check();
  await form.locator('input[name=quorum]').fill('1');
  await Promise.all([s.page.waitForURL(/\/projects\/\d+\?ok=1/), form.getByRole('button', { name: '新建' }).click()]);
  const id = s.page.url().match(/projects\/(\d+)/)[1];
  await s.page.locator('summary', { hasText: '新增预算科目' }).click();
  await s.page.fill('form[action$="/budget"] input[name=name]', '扶手更换');
  await s.page.fill('form[action$="/budget"] input[name=amount]', '50000');
  await Promise.all([s.page.waitForURL(/\?ok=1/), s.page.click('form[action$="/budget"] button')]);
  await s.page.locator('summary', { hasText: '申请资金' }).click();
  await s.page.selectOption('#funding-form select[name=source]', 'subdistrict');
  await s.page.fill('#funding-form input[name=asked]', '六万');
  await s.page.click('#funding-form button');
  assert.ok((await s.page.textContent('[role=alert]')).includes('不是金额'), 'an amount in words is refused');
  await s.page.locator('summary', { hasText: '申请资金' }).click();
  await s.page.fill('#funding-form input[name=asked]', '60,000');
  await Promise.all([s.page.waitForURL(/\?ok=1/), s.page.click('#funding-form button')]);
  // no work before the money: the button says so before it is pressed
  assert.ok(await s.page.locator('#start-work').isDisabled(), '开工 cannot be pressed yet');
  assert.ok((await s.page.textContent('#start-why')).includes('资金申请获批后才能开工'));

  // the street officer approves it
  const o = await phoneAs('officer');
  await o.page.goto(`${BASE}/projects/${id}`);
  // approving money repeats the amount, in figures and in capitals, before it is done
  await Promise.all([o.page.waitForURL(/\/approvals\/funding\//), o.page.locator('#fundings').getByRole('button', { name: '批准…' }).click()]);
  assert.ok((await o.page.textContent('#amount-figures')).includes('60,000.00'));
  assert.ok((await o.page.textContent('#amount-capitals')).includes('陆万元整'));
  await Promise.all([o.page.waitForURL(/done=approved/), o.page.click('#confirm-approve')]);
  await o.page.goto(`${BASE}/projects/${id}`);
  assert.ok((await o.page.textContent('#approved')).includes('60,000.00'));

  // the work, its expenses, then the residents' vote
  await s.page.goto(`${BASE}/projects/${id}`);
  await Promise.all([s.page.waitForURL(/\?ok=1/), s.page.getByRole('button', { name: '开工' }).click()]);
  for (const [amount, what] of [['12345.67', '不锈钢扶手 6 层'], ['8000', '安装人工']]) {
    await s.page.locator('summary', { hasText: '记一笔支出' }).click();
    await s.page.fill('#expense-form input[name=amount]', amount);
    await s.page.fill('#expense-form input[name=payee]', '某五金工程队');
    await s.page.fill('#expense-form input[name=description]', what);
    await Promise.all([s.page.waitForURL(/\?ok=1/), s.page.click('#expense-form button')]);
  }
  assert.ok((await s.page.textContent('#spent')).includes('20,345.67'));
  await Promise.all([s.page.waitForURL(/\?ok=1/), s.page.getByRole('button', { name: '完工,请居民验收' }).click()]);

  const r = await phoneAs('resident');
  await r.page.goto(`${BASE}/me/projects`);
  const card = r.page.locator(`section.project[data-id="${id}"]`);
  await Promise.all([r.page.waitForURL(/\/me\/projects\?ok=1/), card.getByRole('button', { name: '同意验收' }).click()]);
  assert.ok((await card.textContent()).includes('您已投票'));
  await r.page.screenshot({ path: `${OUT}projects-voted.png`, fullPage: true });

  await s.page.goto(`${BASE}/projects/${id}`);
  await Promise.all([s.page.waitForURL(/\?ok=1/), s.page.getByRole('button', { name: '计票' }).click()]);
  assert.equal((await s.page.textContent('#stage')).trim(), '已验收');
  assert.equal(await s.page.locator('#cases [data-state]').getAttribute('data-state'), 'closed', 'the hazard closed');
  const k = await api(stok, `/api/v1/cases/${hazard.id}`);
  assert.equal(k.state, 'closed');

  // the public board, with no login: every amount is the ledger's
  const anon = await blank();
  // small on a phone: the page and all it loads under 200 KB
  let bytes = 0;
  anon.page.on('response', async res => { bytes += (await res.body().catch(() => Buffer.alloc(0))).length; });
  const resp = await anon.page.goto(`${BASE}/boards/spending?community=chengnan`);
  assert.equal(resp.status(), 200);
  await anon.page.waitForLoadState('networkidle');
  assert.ok(bytes > 1000 && bytes < 200_000, `the board page weighs ${bytes} bytes`);
  console.log(`board page: ${bytes} bytes with its assets`);
  const ledger = await api(await token('secretary'), '/api/v1/projects');
  let total = 0;
  for (const p of ledger) {
    const spent = p.expenses.filter(x => x.status === 'recorded' || x.status === 'approved');
    const sum = spent.reduce((a, x) => a + x.amount, 0);
    total += sum;
    const board = anon.page.locator(`section.board-project[data-id="${p.id}"]`);
    const rows = await board.locator('td[data-fen]').evaluateAll(tds => tds.map(td => Number(td.dataset.fen)));
    assert.deepEqual(rows.sort(), spent.map(x => x.amount).sort(), `${p.title}: the expenses listed`);
    assert.equal(fen(await board.locator('dd.spent').textContent()), sum, `${p.title}: spent`);
  }
  assert.equal(fen(await anon.page.textContent('#total-spent')), total, 'the total');
  const html = await anon.page.content();
  assert.ok(!html.includes('某五金工程队') && !html.includes('张'), 'no payees, no names');
  await anon.page.screenshot({ path: `${OUT}projects-board.png`, fullPage: true });
  assert.deepEqual([...s.problems, ...o.problems, ...r.problems, ...anon.problems].filter(p => !p.includes('422') && !p.includes('409')), []);
});
