// The seven days a phone may show its data without reaching the server
// (issue 10), with the page's clock moved as the days go by: on day 6 the
// app still opens offline and takes a record; on day 8 it asks to sign in
// again; that sign-in keeps what waited, which then leaves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, unlock, recordAssessment } from './harness.js';

let server;
before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

const PATIENT = 'LEFÈVRE Jeanne';
const NOTE = 'Sixième jour sans réseau';

test('day 6 opens offline, day 8 asks to sign in again, and what waited survives that sign-in', async () => {
  const nurse = await phone();
  const { page, setOnline } = nurse;
  try {
    // The page starts a week in the past, so what it records on day 6 is
    // yesterday for the server (which refuses records from the future).
    await page.clock.install({ time: Date.now() - 7 * 86_400_000 });
    await signIn(page, server, 'claire', 'demo-claire');
    await page.getByText(/Dernière synchronisation/).waitFor();

    // Six days without any signal.
    await setOnline(false);
    await page.clock.fastForward(6 * 86_400_000);
    await page.reload();
    await unlock(page);
    await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
    await page.getByRole('heading', { name: PATIENT }).waitFor();
    await recordAssessment(page, { now: 6, average: 5, worst: 7, note: NOTE });
    await page.getByRole('status').getByText('1 en attente', { exact: true }).waitFor();

    // Day 8: the grace is over, the phone asks who is there.
    await page.clock.fastForward(2 * 86_400_000);
    await page.reload();
    await page.getByRole('button', { name: 'Se connecter' }).waitFor();
    assert.equal(await page.getByLabel('Code de ce téléphone').count(), 0);
    assert.equal(server.sql(`SELECT count(*) FROM journal WHERE body LIKE '%${NOTE}%'`), '0');

    // Back in signal, she signs in: her PIN opens what waited, and it leaves.
    await setOnline(true);
    await page.getByLabel('Identifiant').fill('claire');
    await page.getByLabel('Mot de passe').fill('demo-claire');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByLabel('Code de ce téléphone').waitFor();
    await unlock(page);
    await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
    await server.until(`SELECT count(*) FROM journal WHERE body LIKE '%${NOTE}%'`, (n) => n === '1');
    assert.equal(server.sql(`SELECT count(*) FROM journal WHERE body LIKE '%${NOTE}%'`), '1');
  } finally {
    await nurse.context.close();
  }
});
