// A person's rights over their record: the demo resident asks on his phone
// for a correction, the secretary answers it from 更正与删除申请, and he
// reads the answer; the secretary's retention form keeps a bad number out.
// Expects a fresh `yijia serve --demo` at YIJIA_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, chromiumForFile } from './lib.mjs';

const { phoneAs } = chromiumForFile();

test('a correction asked on the phone is answered by the secretary and read back', async () => {
  const r = await phoneAs('resident');
  await r.page.setViewportSize({ width: 390, height: 844 });
  await r.page.goto(`${BASE}/me/record`);
  await Promise.all([r.page.waitForURL(/\/me\/requests$/), r.page.click('#requests')]);
  const said = `门牌号应为 8号楼2单元502 ${Date.now()}`;
  await r.page.fill('#ask textarea[name=body]', said);
  await r.page.fill('#ask textarea[name=evidence]', '房产证');
  await Promise.all([r.page.waitForURL(/done=1/), r.page.click('#ask button[type=submit]')]);
  assert.match(await r.page.textContent('#done'), /社区书记会答复/);
  assert.ok((await r.page.textContent('#requests')).includes(said));
  await r.page.screenshot({ path: `${OUT}rights-asked.png`, fullPage: true });

  const s = await phoneAs('secretary');
  await s.page.setViewportSize({ width: 1366, height: 900 });
  await s.page.goto(`${BASE}/record-requests`);
  const item = s.page.locator('#waiting li', { hasText: said });
  await item.locator('input[name=answer]').fill('已核对房产证,门牌号已更正');
  await Promise.all([s.page.waitForURL(/done=answered/), item.getByRole('button', { name: '已更正' }).click()]);
  assert.ok((await s.page.textContent('#answered')).includes('已核对房产证'));
  // the retention: a number out of range is refused on the page
  const form = s.page.locator('#retention-chengnan form');
  await form.locator('input[name=years]').fill('99');
  await Promise.all([s.page.waitForLoadState('load'), form.getByRole('button', { name: '保存' }).click()]);
  assert.match(await s.page.textContent('#error'), /1–30/);
  await s.page.screenshot({ path: `${OUT}rights-inbox.png`, fullPage: true });

  await r.page.goto(`${BASE}/me/requests`);
  assert.ok((await r.page.textContent('#requests')).includes('已核对房产证,门牌号已更正'));
});
