// A repair's acceptance vote for residents without a phone: the grid worker
// opens the ballot of the building on her phone, records 张大爷's vote with
// a photo of his signed slip, and his own later tap on the phone is refused
// as already cast; the project's totals show it came on paper.
// Expects a fresh `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, api, chromiumForFile, token } from './lib.mjs';

const { phoneAs } = chromiumForFile();

// A project on the building, its work finished and the vote open.
async function votingProject(building, title) {
  const [sec, off] = [await token('secretary'), await token('officer')];
  const p = await api(sec, '/api/v1/projects?community=chengnan', { title, buildings: [building], quorum: 1 });
  assert.ok(p.id > 0, JSON.stringify(p));
  await api(sec, `/api/v1/projects/${p.id}/budget`, { name: '单元门', amount: 300000 });
  const f = await api(sec, `/api/v1/projects/${p.id}/fundings`, { source: 'subdistrict', asked: 300000 });
  await api(off, `/api/v1/fundings/${f.fundings[0].id}/decision`, { approve: true });
  await api(sec, `/api/v1/projects/${p.id}/stage`, { to: 'working' });
  const v = await api(sec, `/api/v1/projects/${p.id}/stage`, { to: 'voting' });
  assert.equal(v.stage, 'voting', JSON.stringify(v));
  return p.id;
}

test('a worker records a paper vote with the slip photographed; the resident\'s later phone vote is refused', async () => {
  const [rtok, stok] = [await token('resident'), await token('staff')];
  const rid = (await api(rtok, '/api/v1/me/points')).account.resident_id;
  const building = (await api(stok, `/api/v1/residents/${rid}`)).address.building_id;
  const id = await votingProject(building, `单元门更换 ${Date.now()}`);

  // 张大爷 has the page open, but has not tapped yet
  const r = await phoneAs('resident');
  await r.page.goto(`${BASE}/me/projects`);
  const card = r.page.locator(`section.project[data-id="${id}"]`);
  await card.getByRole('button', { name: '同意验收' }).waitFor();

  // the worker, at his door, from the project's page to the building's ballot
  const w = await phoneAs('worker1');
  await w.page.setViewportSize({ width: 390, height: 844 });
  await w.page.goto(`${BASE}/projects/${id}`);
  await Promise.all([w.page.waitForURL(/\/ballots\/\d+$/), w.page.locator('#ballots a').first().click()]);
  const row = w.page.locator(`#r${rid}`);
  assert.ok((await w.page.textContent('#ballot')).length > 0);
  assert.ok(!/\d{17}[\dX]/.test(await w.page.textContent('main')), 'no ID numbers on the ballot');
  await row.locator('summary').click();
  await row.locator('input[name=accept][value=yes]').check();
  // neither slip nor witness: refused by the server with the reason
  await Promise.all([w.page.waitForLoadState('load'), row.getByRole('button', { name: '记下这一票' }).click()]);
  assert.ok((await w.page.textContent('main')).includes('请拍下签字的选票'), 'asked for a slip or a witness');
  const again = w.page.locator(`#r${rid}`);
  await again.locator('summary').click();
  await again.locator('input[name=accept][value=yes]').check();
  await again.locator('input[name=slip]').setInputFiles(new URL('../../crates/web/static/icon-192.png', import.meta.url).pathname);
  await Promise.all([w.page.waitForURL(/\?ok=1/), again.getByRole('button', { name: '记下这一票' }).click()]);
  const cast = await w.page.locator(`#r${rid} td.cast`).textContent();
  assert.ok(cast.includes('已投:同意') && cast.includes('纸质') && cast.includes('李网格'), cast);
  await w.page.screenshot({ path: `${OUT}ballot-recorded.png`, fullPage: true });

  // his own tap afterwards is refused: his vote is in
  await Promise.all([r.page.waitForLoadState('load'), card.getByRole('button', { name: '同意验收' }).click()]);
  const said = await r.page.textContent('main');
  assert.ok(said.includes('您的票已经记下了') && said.includes('李网格'), said);

  // the secretary sees where the votes came from
  const s = await phoneAs('secretary');
  await s.page.goto(`${BASE}/projects/${id}`);
  const by = await s.page.textContent('#votes-by');
  assert.ok(by.includes('纸质/上门 1') && by.includes('手机 0'), by);
  // the worker's refused vote answered 422, the resident's 409: nothing else went wrong
  for (const p of [r, w, s]) assert.deepEqual(p.problems.filter(m => !/status of (422|409)/.test(m)), []);
});
