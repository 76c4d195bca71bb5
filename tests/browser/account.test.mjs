// Two-step login for a secretary in Chromium: set it up from the account
// page (QR code and key), keep the recovery codes, log out, log in again
// with the app's code; then see the devices logged in and log one out.
// The demo requires no second factor (its logins are printed), so the
// test makes a secretary of its own and turns it on for her.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { BASE, OUT, PASSWORD, token, chromiumForFile } from './lib.mjs';

const chromium = chromiumForFile();

// RFC 6238 written out here, independently of the server's crate: the
// app's 6 digits for a base32 secret at a time in seconds.
function totp(secret, seconds) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map(b => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

async function newSecretary() {
  const username = `sec-${randomBytes(3).toString('hex')}`;
  const r = await fetch(`${BASE}/api/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await token('admin')}` },
    body: JSON.stringify({ username, display_name: '周书记', password: PASSWORD,
                           grants: [{ role: 'secretary', scope: 'chengnan' }] }),
  });
  assert.equal(r.status, 201, await r.text());
  return username;
}

async function logIn(page, username, code) {
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  if (code !== undefined) {
    await page.waitForSelector('input[name=totp]');
    await page.fill('input[name=totp]', code);
    await page.click('button[type=submit]');
  }
  await page.waitForURL(`${BASE}/`);
}

test('a secretary turns on two-step login and logs in with the code', async () => {
  const username = await newSecretary();
  const { context, page, problems } = await chromium.phone();
  await logIn(page, username);

  await page.click('label[for=menu-open]');
  await page.click('a[href="/account"]');
  await page.waitForURL(`${BASE}/account`);
  await page.screenshot({ path: `${OUT}account-390.png`, fullPage: true });
  await page.click('a[href="/two-factor"]');
  await page.click('#start');
  await page.waitForSelector('.qr-code svg');
  const secret = (await page.textContent('#secret')).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await page.screenshot({ path: `${OUT}two-factor-scan-390.png`, fullPage: true });

  // a wrong code first: told so, still on the same secret
  const now = Date.now() / 1000;
  const right = totp(secret, now);
  await page.fill('input[name=code]', right === '123456' ? '654321' : '123456');
  await page.click('form[action="/two-factor/confirm"] button');
  assert.match(await page.textContent('[role=alert]'), /验证码不正确/);
  await page.fill('input[name=code]', right);
  await page.click('form[action="/two-factor/confirm"] button');
  await page.waitForSelector('#recovery-codes');
  const codes = await page.$$eval('#recovery-codes code', els => els.map(e => e.textContent));
  assert.equal(codes.length, 10);
  await page.screenshot({ path: `${OUT}two-factor-codes-390.png`, fullPage: true });

  // log out; the password alone now leads to the code
  await page.click('a.button.primary');
  await page.click('label[for=menu-open]');
  await page.click('button.logout');
  await page.waitForURL(/\/login/);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('input[name=totp]');
  await page.screenshot({ path: `${OUT}login-code-390.png`, fullPage: true });
  // the code that turned it on was used: the next one (the app's in 30 s) is accepted
  await page.fill('input[name=totp]', totp(secret, now + 30));
  await Promise.all([page.waitForURL(`${BASE}/`), page.click('button[type=submit]')]);

  // the account page shows it on, and two devices after a second login
  const desk = await chromium.phone();
  await logIn(desk.page, username, codes[0]);
  await page.goto(`${BASE}/account`);
  assert.match(await page.textContent('main'), /已开启/);
  const devices = await page.$$('#sessions li');
  assert.equal(devices.length, 2);
  // log the other device out from here
  await page.click('#sessions li:not(:has(.tag.on)) button');
  await page.waitForSelector('[role=status]');
  assert.equal((await page.$$('#sessions li')).length, 1);
  await desk.page.goto(`${BASE}/residents`);
  assert.match(desk.page.url(), /\/login/, 'the device logged out from elsewhere is logged out');
  await page.setViewportSize({ width: 1366, height: 900 });
  await page.goto(`${BASE}/lang/en?next=/account`);
  assert.match(await page.textContent('h1'), /Account security/);
  await page.screenshot({ path: `${OUT}account-1366-en.png`, fullPage: true });
  assert.deepEqual(problems, []);
  await desk.context.close();
  await context.close();
});
