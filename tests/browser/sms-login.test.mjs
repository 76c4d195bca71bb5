// A resident logs in with no password to remember: her mobile number, then
// the six digits the SMS brings. The demo sends its SMS to a local Alibaba
// Cloud SendSms that checks each request's signature (`sms-provider`, run by
// .ci/run beside the demo); the test reads the code it got at YIJIA_SMS_URL/got.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, OUT, PASSWORD, api, chromiumForFile, token } from './lib.mjs';

const SMS = process.env.YIJIA_SMS_URL;
const { phone: blank } = chromiumForFile();

test('a resident logs in with an SMS code', { skip: !SMS && 'YIJIA_SMS_URL is not set (.ci/run sets it)' }, async () => {
  // a resident with an account of her own, her mobile its name
  const [stok, wtok] = [await token('staff'), await token('worker1')];
  const r = await api(stok, '/api/v1/residents', { name: '赵桂兰', grid: 'chengnan-g01', relation: '户主', residence: 'permanent' });
  const inv = await api(wtok, `/api/v1/residents/${r.id}/invitation`, {});
  const mobile = `135${String(Date.now()).slice(-8)}`;
  const joined = await fetch(`${BASE}/api/v1/join`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: inv.code, phone: mobile, password: PASSWORD }),
  });
  assert.equal(joined.status, 201);

  const { page, problems } = await blank();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}/login`);
  const box = page.locator('#sms-login');
  await box.locator('input[name=phone]').fill(mobile);
  await Promise.all([page.waitForLoadState('load'), box.getByRole('button', { name: '获取验证码' }).click()]);
  assert.ok((await page.textContent('#sms-login')).includes('验证码已发送到'));
  const got = await (await fetch(`${SMS}/got`)).json();
  const mine = got.filter(g => g.phone === mobile);
  assert.equal(mine.length, 1, JSON.stringify(got));
  const code = mine[0].params.code;
  assert.match(code, /^\d{6}$/);

  // a wrong code is refused with the reason; the right one lets her in
  const wrong = code === '000000' ? '111111' : '000000';
  await page.locator('#sms-login input[name=code]').fill(wrong);
  await Promise.all([page.waitForLoadState('load'), page.locator('#sms-login').getByRole('button', { name: '登录' }).click()]);
  assert.ok(await page.isVisible('#sms-login [role=alert]'), 'the wrong code is refused');
  await page.locator('#sms-login input[name=code]').fill(code);
  await Promise.all([page.waitForURL(`${BASE}/`), page.locator('#sms-login').getByRole('button', { name: '登录' }).click()]);
  assert.ok((await page.textContent('main h1')).includes('赵桂兰'));
  await page.screenshot({ path: `${OUT}sms-login-in.png`, fullPage: true });
  assert.deepEqual(problems.filter(m => !/status of (401|422)/.test(m)), []);
});
