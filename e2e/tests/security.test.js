// What the browser is told to forbid, and that it does: every answer carries
// a Content-Security-Policy that runs no inline script; a script injected
// into the page (as an XSS would) does not run, and the harness, which fails
// any test whose phone had something blocked, sees it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn } from './harness.js';

let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

test('the page forbids inline scripts and framing; an injected script does not run', async () => {
  const nurse = await phone();
  let closed = false;
  try {
    const reply = await nurse.page.request.get(`${server.url}/patients/whatever`);
    const headers = reply.headers();
    assert.match(headers['content-security-policy'], /script-src 'self' 'wasm-unsafe-eval';/);
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.ok(headers['permissions-policy'].includes('camera=()'));

    // The app runs whole under it (sign-in, the caseload, the service worker).
    await signIn(nurse.page, server, 'claire', 'demo-claire');
    await nurse.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await nurse.page.getByRole('heading', { name: 'Cahier de liaison' }).waitFor();

    // An injected inline script is refused by the browser.
    const ran = await nurse.page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.injected = true;';
      document.body.append(s);
      await new Promise((r) => setTimeout(r, 100));
      return window.injected === true;
    });
    assert.equal(ran, false, 'an inline script does not run');
    closed = true;
    await assert.rejects(nurse.context.close(), /blocked by the Content-Security-Policy/);
  } finally {
    if (!closed) await nurse.context.close();
  }
});
