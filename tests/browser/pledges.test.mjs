// The ten practical things on phones: the secretary opens next year, a
// resident proposes, the secretary puts it on the ballot and starts the
// vote, the resident votes, and the public board, without a login, shows
// the ballot with the vote counted; last year's stay with their verdicts.
// Expects a fresh `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, chromiumForFile } from './lib.mjs';

const { phone: blank, phoneAs } = chromiumForFile();

test('residents propose and vote, and the board shows the result', async () => {
  const s = await phoneAs('secretary');
  await s.page.goto(`${BASE}/pledges`);
  const year = Number((await s.page.textContent('h1')).match(/\d{4}/)[0]) + 1;
  await s.page.locator('summary', { hasText: '开始新一年的征集' }).click();
  await s.page.fill('form[action="/pledges/years"] input[name=year]', String(year));
  await Promise.all([s.page.waitForURL(/\/pledges\?ok=1/), s.page.click('form[action="/pledges/years"] button')]);
  assert.equal((await s.page.textContent('#phase')).trim(), '征集建议');

  // a resident proposes on the phone
  const r = await phoneAs('resident');
  await r.page.goto(`${BASE}/me/pledges`);
  await r.page.fill('#propose input[name=title]', '单元门口加装坡道');
  await r.page.fill('#propose input[name=description]', '轮椅和婴儿车能进出');
  await Promise.all([r.page.waitForURL(/\/me\/pledges\?ok=1/), r.page.click('#propose button')]);
  // the same again is refused, with the reason
  await r.page.fill('#propose input[name=title]', '单元门口加装坡道');
  await r.page.click('#propose button');
  assert.ok((await r.page.textContent('[role=alert]')).includes('已有建议'));

  // the secretary puts it on the ballot and starts the vote
  await s.page.goto(`${BASE}/pledges`);
  const item = s.page.locator('#pledges li', { hasText: '单元门口加装坡道' });
  await Promise.all([s.page.waitForURL(/\?ok=1/), item.getByRole('button', { name: '列为候选' }).click()]);
  await Promise.all([s.page.waitForURL(/\?ok=1/), s.page.getByRole('button', { name: '结束征集,开始投票' }).click()]);
  assert.equal((await s.page.textContent('#phase')).trim(), '居民投票');

  // the resident votes
  await r.page.goto(`${BASE}/me/pledges`);
  assert.equal((await r.page.textContent('#votes-left')).trim(), '3');
  const mine = r.page.locator('#my-pledges li', { hasText: '单元门口加装坡道' });
  await Promise.all([r.page.waitForURL(/\/me\/pledges\?ok=1/), mine.getByRole('button', { name: '投一票' }).click()]);
  assert.ok((await mine.textContent()).includes('已投票'));
  assert.equal((await r.page.textContent('#votes-left')).trim(), '2');
  await r.page.screenshot({ path: `${OUT}pledges-voted.png`, fullPage: true });

  // the board, with no login: the ballot and the vote; last year's verdicts stay
  const anon = await blank();
  const resp = await anon.page.goto(`${BASE}/boards/pledges?community=chengnan`);
  assert.equal(resp.status(), 200);
  const now = anon.page.locator(`section.board-year[data-year="${year}"] li`, { hasText: '单元门口加装坡道' });
  assert.equal(await now.locator('.votes').getAttribute('data-votes'), '1');
  const before = anon.page.locator(`section.board-year[data-year="${year - 1}"]`);
  assert.equal(await before.locator('ol.pledges > li').count(), 10, 'this year\'s ten stay');
  // with their steps, and photos of the work that load
  assert.ok(await before.locator('details.steps').count() > 0, 'the steps of the work');
  const photo = before.locator('img[src*="/api/v1/boards/pledge-photos/"]').first();
  await photo.scrollIntoViewIfNeeded();
  await anon.page.waitForFunction(img => img.complete && img.naturalWidth > 0, await photo.elementHandle());
  assert.ok(!(await anon.page.content()).includes('张大爷'), 'no names');
  await anon.page.screenshot({ path: `${OUT}pledges-board.png`, fullPage: true });
  assert.deepEqual([...s.problems, ...r.problems, ...anon.problems].filter(p => !p.includes('422')), [], 'only the refused proposal answered 422');
});
