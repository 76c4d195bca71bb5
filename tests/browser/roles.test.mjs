// Logs in as each demo role in Debian's Chromium at phone size, checks the
// home page and saves a screenshot. Expects a server started with
// `yijia serve --demo` at YIJIA_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { BASE, PASSWORD, launch, phone as phoneOf } from './lib.mjs';

const OUT = new URL('./out/', import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });

const ROLES = [
  { user: 'admin', name: '系统管理员', links: ['/org', '/users', '/audit'] },
  { user: 'officer', name: '赵街道', links: ['/org', '/residents', '/audit'] },
  { user: 'secretary', name: '王小红', links: ['/org', '/residents', '/users', '/audit'] },
  { user: 'staff', name: '刘社工', links: ['/org', '/residents'] },
  { user: 'worker1', name: '李网格', links: ['/org', '/residents'] },
  { user: 'clerk', name: '孙站长', links: ['/org', '/residents'] },
  { user: 'resident', name: '张大爷', links: [] },
];

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const phone = () => phoneOf(browser);

async function login(page, user) {
  await page.goto(`${BASE}/`);
  assert.match(page.url(), /\/login\?next=/, 'an anonymous visit lands on the login page');
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${BASE}/`), page.click('button[type=submit]')]);
}

for (const role of ROLES) {
  test(`${role.user} logs in and sees their home page`, async () => {
    const { context, page, problems } = await phone();
    await login(page, role.user);
    const h1 = await page.textContent('h1');
    assert.ok(h1.includes(role.name), `greets ${role.name}: ${h1}`);
    const hrefs = await page.$$eval('main a.tile', as => as.map(a => a.getAttribute('href')));
    for (const l of role.links) assert.ok(hrefs.includes(l), `${role.user} has a tile for ${l}: ${hrefs}`);
    for (const l of ['/org', '/residents', '/users', '/audit']) {
      if (!role.links.includes(l)) assert.ok(!hrefs.includes(l), `${role.user} has no tile for ${l}`);
    }
    // nothing is wider than the phone
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page overflows the screen by ${overflow}px`);
    await page.screenshot({ path: `${OUT}home-${role.user}.png`, fullPage: true });
    // every link on the home page opens a real page
    for (const href of hrefs) {
      const res = await page.goto(`${BASE}${href}`);
      assert.equal(res.status(), 200, `${role.user} opens ${href}`);
    }
    assert.deepEqual(problems, [], 'no console errors (CSP violations show here)');
    await context.close();
  });
}

test('the secretary disables and enables a user in place (htmx)', async () => {
  const { context, page, problems } = await phone();
  await login(page, 'secretary');
  await page.goto(`${BASE}/users`);
  page.on('dialog', d => d.accept());
  // rows are keyed by the account's id, never by a login name
  const row = page.locator('tr').filter({ has: page.locator('code', { hasText: /^clerk$/ }) });
  await row.getByRole('button', { name: '停用' }).click();
  await row.locator('.tag.off').waitFor();
  await page.screenshot({ path: `${OUT}users-secretary.png`, fullPage: true });
  await row.getByRole('button', { name: '启用' }).click();
  await row.locator('.tag.on').waitFor();
  assert.equal(page.url(), `${BASE}/users`, 'no page load: the row was swapped');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the language switch turns the pages into English', async () => {
  const { context, page } = await phone();
  await page.goto(`${BASE}/login`);
  await page.click('text=English');
  await page.waitForURL(`${BASE}/login`);
  assert.equal(await page.textContent('h1'), 'Log in to yijia');
  await page.fill('input[name=username]', 'worker1');
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${BASE}/`), page.click('button[type=submit]')]);
  assert.ok((await page.textContent('h1')).startsWith('Hello'));
  await page.goto(`${BASE}/org/chengnan-g01`);
  assert.ok(await page.locator('svg path.grid-shape').count() === 1, 'the grid is drawn');
  await page.screenshot({ path: `${OUT}grid-worker1-en.png`, fullPage: true });
  await context.close();
});

// A valid ID number (GB 11643 check digit) and a name, new on every run.
function freshPerson() {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const seq = String(100 + Math.floor(Math.random() * 899)).padStart(3, '0');
  const day = String(1 + Math.floor(Math.random() * 28)).padStart(2, '0');
  const first17 = `2201821945${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}${day}${seq}`;
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i], 0);
  const id = first17 + '10X98765432'[sum % 11];
  const wrong = first17 + (id.endsWith('1') ? '2' : '1');
  const chars = '明华秀英兰芳桂春梅玉凤';
  const name = '崔' + chars[Math.floor(Math.random() * chars.length)] + chars[Math.floor(Math.random() * chars.length)] + '红';
  return { id, wrong, name };
}

test('the secretary registers a resident, shows the ID in full with a reason, and finds them by category', async () => {
  const { context, page, problems } = await phone();
  const person = freshPerson();
  await login(page, 'secretary');
  await page.goto(`${BASE}/residents/new`);
  await page.fill('input[name=name]', person.name);
  // a wrong check digit is refused next to the field, and nothing is lost
  await page.fill('input[name=id_number]', person.wrong);
  await page.fill('input[name=phone]', '139 1111 2222');
  await page.selectOption('select[name=grid]', 'chengnan-g01');
  await page.fill('input[name=estate]', '丁香花园三期');
  await page.fill('input[name=building]', '8号楼');
  await page.fill('input[name=door]', '502');
  await page.selectOption('select[name=category]', 'elderly_alone');
  await page.click('button.primary');
  assert.ok((await page.textContent('main')).includes('校验位'), 'the check digit message');
  assert.equal(await page.inputValue('input[name=name]'), person.name, 'the name is kept');
  await page.fill('input[name=id_number]', person.id);
  await page.fill('input[name=phone]', '139 1111 2222');
  await Promise.all([page.waitForURL(/\/residents\/\d+$/), page.click('button.primary')]);
  const masked = await page.textContent('#v-id_number');
  assert.equal(masked, `220182********${person.id.slice(14)}`);
  await page.fill('input[name=reason]', '办理低保复核');
  await page.click('form[hx-post] button');
  // shown in place of the masked value
  await page.locator('#v-id_number.unmasked').waitFor();
  assert.equal(await page.textContent('#v-id_number'), person.id);
  await page.screenshot({ path: `${OUT}resident-secretary.png`, fullPage: true });
  // edit: the masked ID stays when its field is left empty
  const record = page.url();
  await Promise.all([page.waitForURL(/\/edit$/), page.click('text=修改信息')]);
  await page.fill('input[name=notes]', '独居,女儿在外地');
  await Promise.all([page.waitForURL(record), page.click('button.primary')]);
  assert.ok((await page.textContent('main')).includes('女儿在外地'));
  assert.equal(await page.textContent('#v-id_number'), masked);
  // the door leads to the household, the building to who lives behind which door
  await Promise.all([page.waitForURL(/\/households\/\d+$/), page.click('dd a >> text=502')]);
  assert.ok((await page.textContent('main')).includes(person.name));
  await Promise.all([page.waitForURL(/\/buildings\/\d+$/), page.click('.crumbs a')]);
  assert.ok((await page.textContent('ul.doors')).includes(person.name));
  await page.screenshot({ path: `${OUT}building-secretary.png`, fullPage: true });
  await page.goto(`${BASE}/residents`);
  await page.click('details.filters-box summary');
  await page.fill('input[name=name]', person.name);
  await page.selectOption('select[name=category]', 'elderly_alone');
  await Promise.all([page.waitForURL(/category=elderly_alone/), page.click('details.filters-box button')]);
  const names = await page.$$eval('table.ledger tbody strong', els => els.map(e => e.textContent));
  assert.deepEqual(names, [person.name]);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the secretary imports the roster through the upload page, filters by 孤寡老人 and opens a resident', async () => {
  const { context, page, problems } = await phone();
  await login(page, 'secretary');
  await page.goto(`${BASE}/residents`);
  await Promise.all([page.waitForURL(`${BASE}/residents/import`), page.click('text=导入台账')]);
  await page.setInputFiles('input[name=file]', new URL('../fixtures/roster-chengnan-2024.xlsx', import.meta.url).pathname);
  await page.click('button.primary');
  await page.locator('#imported').waitFor({ timeout: 60000 });
  const imported = Number(await page.textContent('#imported'));
  const summary = await page.textContent('.summary');
  const unchanged = Number(summary.match(/(\d+) 人早已登记/)[1]);
  assert.equal(imported + unchanged, 1169, summary);
  const bad = await page.$$eval('table.bad-rows tbody tr', rows => rows.map(r => r.textContent));
  assert.equal(bad.length, 8, 'six wrong check digits and two repeated people');
  assert.ok(bad.some(r => r.includes('校验位')) && bad.some(r => r.includes('同一人')));
  await page.screenshot({ path: `${OUT}import-secretary.png`, fullPage: true });

  await page.goto(`${BASE}/residents`);
  await page.click('details.filters-box summary');
  const option = await page.locator('select[name=category] option', { hasText: '孤寡老人' }).getAttribute('value');
  await page.selectOption('select[name=category]', option);
  await Promise.all([page.waitForURL(/category=elderly_alone/), page.click('details.filters-box button')]);
  const total = Number(await page.textContent('h1 .muted'));
  assert.ok(total >= 35, `at least the 35 people of the roster: ${total}`);
  await Promise.all([page.waitForURL(/\/residents\/\d+$/), page.click('table.ledger tbody a >> nth=0')]);
  assert.ok((await page.textContent('main')).includes('独居老人'));
  assert.match(await page.textContent('#v-id_number'), /^\d{6}\*{8}[\dX]{4}$/);
  assert.deepEqual(problems, []);
  await context.close();
});
