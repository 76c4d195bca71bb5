// A son acts for his mother (代办): the grid worker links him on the
// mother's page with her consent given in person; he signs up with the
// code, logs in with his own number, files a request and votes on her
// building's repair for her; staff and her own pages see "由家属代办".
// Expects a fresh `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, PASSWORD, api, chromiumForFile, token } from './lib.mjs';

const { phone: blank, phoneAs } = chromiumForFile();

// A mother with no account of her own, in the demo resident's household grid and building.
async function mother(stok) {
  const rtok = await token('resident');
  const rid = (await api(rtok, '/api/v1/me/points')).account.resident_id;
  const home = (await api(stok, `/api/v1/residents/${rid}`)).address;
  const r = await api(stok, '/api/v1/residents', {
    name: '王秀英', grid: 'chengnan-g01', relation: '母亲', residence: 'permanent',
    household: { estate: home.estate, building: home.building, entrance: home.entrance, door: home.door },
  });
  assert.ok(r.id > 0, JSON.stringify(r));
  return { id: r.id, building: home.building_id };
}

test('a son linked by staff files a request and votes for his mother; staff see 由家属代办', async () => {
  const [stok, sec, off] = [await token('staff'), await token('secretary'), await token('officer')];
  const m = await mother(stok);
  // her building's repair, finished and put to the vote
  const p = await api(sec, '/api/v1/projects?community=chengnan', { title: `楼道扶手 ${Date.now()}`, buildings: [m.building], quorum: 1 });
  await api(sec, `/api/v1/projects/${p.id}/budget`, { name: '扶手', amount: 200000 });
  const f = await api(sec, `/api/v1/projects/${p.id}/fundings`, { source: 'subdistrict', asked: 200000 });
  await api(off, `/api/v1/fundings/${f.fundings[0].id}/decision`, { approve: true });
  await api(sec, `/api/v1/projects/${p.id}/stage`, { to: 'working' });
  await api(sec, `/api/v1/projects/${p.id}/stage`, { to: 'voting' });

  // the worker links the son, with the mother's consent given before her
  const w = await phoneAs('worker1');
  await w.page.setViewportSize({ width: 390, height: 844 });
  await w.page.goto(`${BASE}/residents/${m.id}`);
  await Promise.all([w.page.waitForURL(/\/proxies$/), w.page.click('#proxies-link')]);
  await w.page.locator('#proxy-form summary').click();
  const phone = `137${String(Date.now()).slice(-8)}`;
  const form = w.page.locator('#proxy-form form');
  await form.locator('input[name=family_name]').fill('王小军');
  await form.locator('input[name=phone]').fill(phone);
  await form.locator('input[name=relation]').fill('儿子');
  await form.locator('label', { hasText: '报事求助' }).click();
  await form.locator('label', { hasText: '投票' }).click();
  await form.locator('label', { hasText: '本人当面同意' }).click();
  await Promise.all([w.page.waitForLoadState('load'), form.getByRole('button', { name: '登记' }).click()]);
  const code = (await w.page.textContent('#proxy-code .pickup-code')).trim();
  assert.match(code, /^[A-Z0-9-]{6,}$/, code);
  await w.page.screenshot({ path: `${OUT}family-linked.png`, fullPage: true });

  // the son signs up with the code and his own number, then logs in
  const s = await blank();
  await s.page.setViewportSize({ width: 390, height: 844 });
  await s.page.goto(`${BASE}/join`);
  await s.page.fill('input[name=code]', code);
  await s.page.fill('input[name=phone]', phone);
  await s.page.fill('input[name=password]', PASSWORD);
  await Promise.all([s.page.waitForLoadState('load'), s.page.click('button[type=submit]')]);
  await s.page.goto(`${BASE}/login`);
  await s.page.fill('input[name=username]', phone);
  await s.page.fill('input[name=password]', PASSWORD);
  await Promise.all([s.page.waitForURL(`${BASE}/`), s.page.click('button[type=submit]')]);
  const banner = await s.page.textContent('#acting');
  assert.ok(banner.includes('王秀英') && banner.includes('报事求助') && banner.includes('投票'), banner);
  // the menu offers what his mother allowed, not her points
  const menu = await s.page.$$eval('.top nav a', as => as.map(a => new URL(a.href).pathname));
  assert.ok(menu.includes('/me/projects') && menu.includes('/cases') && !menu.includes('/me/points'), `${menu}`);

  // a request for her
  await s.page.goto(`${BASE}/cases/new`);
  await s.page.locator('label.chip', { hasText: '房屋维修' }).click();
  await s.page.fill('textarea[name=description]', '母亲家卫生间漏水,楼下渗水');
  await Promise.all([s.page.waitForURL(/\/cases\/\d+$/), s.page.click('button[type=submit].primary')]);
  const caseId = s.page.url().match(/cases\/(\d+)/)[1];
  // and her vote on the repair
  await s.page.goto(`${BASE}/me/projects`);
  const card = s.page.locator(`section.project[data-id="${p.id}"]`);
  await Promise.all([s.page.waitForURL(/\?ok=1/), card.getByRole('button', { name: '同意验收' }).click()]);
  const voted = await card.textContent();
  assert.ok(voted.includes('您已投票') && voted.includes('由家属王小军代办'), voted);
  await s.page.screenshot({ path: `${OUT}family-voted.png`, fullPage: true });

  // staff see who did it
  const x = await phoneAs('staff');
  await x.page.goto(`${BASE}/cases/${caseId}`);
  assert.ok((await x.page.textContent('main')).includes('由家属王小军代办'), 'the case says a family member filed it');
  await x.page.goto(`${BASE}/projects/${p.id}`);
  assert.ok((await x.page.textContent('#votes-by')).includes('家属代办 1'));
  for (const q of [w, s, x]) assert.deepEqual(q.problems, []);
});
