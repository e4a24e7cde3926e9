// The server goes down while the nurse's phone has network: the screen says
// the server cannot be reached (not "offline"), and what waits leaves moments
// after the server answers again — by the app's own retry, not at the next
// 30-second tick and not because she pressed "Synchroniser".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, recordAssessment } from './harness.js';

const PATIENT = 'LEFÈVRE Jeanne';
const NOTE = 'Saisie pendant la panne du serveur';
let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

test('a server outage is said as such, and what waits leaves soon after it answers again', async () => {
  const nurse = await phone();
  const { page } = nurse;
  try {
    // The page's timers are the test's: the regular sync every 30 s never
    // comes within this test, so only the retry can send the record.
    await page.clock.install();
    await signIn(page, server, 'claire', 'demo-claire');
    await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
    await page.getByRole('heading', { name: PATIENT }).waitFor();
    const status = page.getByRole('status').filter({ hasText: 'en attente' });
    // From here the page's time stands still unless the test moves it (a
    // second ahead of now: the page's clock went on while this was asked).
    await page.clock.pauseAt(await page.evaluate(() => Date.now()) + 1_000);

    await server.kill();
    await recordAssessment(page, { now: 5, average: 4, worst: 7, note: NOTE });
    await status.getByText(/Serveur injoignable/).waitFor();
    await status.getByText('1 en attente', { exact: true }).waitFor();
    assert.equal(await status.getByText(/Hors ligne/).count(), 0, 'the phone has network: not "offline"');

    // The server comes back; then the first retry's two seconds pass.
    await server.start();
    assert.equal(server.sql(`SELECT count(*) FROM journal WHERE body LIKE '%${NOTE}%'`), '0');
    await page.clock.runFor(2_500);
    await status.getByText('0 en attente', { exact: true }).waitFor();
    assert.equal(server.sql(`SELECT count(*) FROM journal WHERE body LIKE '%${NOTE}%'`), '1');
    assert.equal(await status.getByText(/Serveur injoignable/).count(), 0);
  } finally {
    await nurse.context.close();
  }
});
