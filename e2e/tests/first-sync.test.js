// A fresh device with a large caseload: the first sync shows its progress,
// then everything is on the device.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, unlock, recordsHeld } from './harness.js';
import { apiSession, assessment, push } from '../bench/common.js';

const RECORDS = 20_000;
let server;
before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

test('the first sync of a large caseload shows a progress bar and ends with everything stored', async () => {
  const nurse = await apiSession(server, 'claire', 'demo-claire');
  for (let i = 0; i < RECORDS; i += 500) {
    await push(server, nurse, Array.from({ length: 500 }, (_, k) => assessment(nurse, i + k)));
  }
  const { page, context } = await phone();
  try {
    await page.goto(server.url);
    await page.getByLabel('Identifiant').fill('dr.durand');
    await page.getByLabel('Mot de passe').fill('demo-durand');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await unlock(page);
    const bar = page.getByRole('progressbar', { name: /Réception des données : \d+ sur \d+/ });
    await bar.waitFor({ timeout: 30_000 });
    const max = Number(await bar.getAttribute('max'));
    assert.ok(max >= RECORDS, `the bar expects the whole caseload (max ${max})`);
    await bar.waitFor({ state: 'detached', timeout: 120_000 });
    await page.getByText(/Dernière synchronisation/).waitFor();
    const stored = await recordsHeld(page);
    assert.equal(stored, RECORDS);
  } finally {
    await context.close();
  }
});

test('a first sync cut half way resumes from where it stopped, receiving nothing twice', async () => {
  // The same server: 20,000 records of Claire's patients are already there.
  const { page, context, setOnline } = await phone();
  try {
    await page.goto(server.url);
    await page.getByLabel('Identifiant').fill('claire');
    await page.getByLabel('Mot de passe').fill('demo-claire');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await unlock(page);
    const bar = page.getByRole('progressbar', { name: /Réception des données/ });
    await bar.waitFor({ timeout: 30_000 });
    // The signal goes once a few pages are in.
    await page.waitForFunction(() => {
      const b = document.querySelector('progress');
      return b && Number(b.value) >= 4000;
    }, null, { timeout: 60_000, polling: 50 });
    await setOnline(false);
    await page.getByRole('status').getByText(/Hors ligne/).waitFor({ timeout: 30_000 });
    const before = await recordsHeld(page);
    assert.ok(before >= 4000 && before < RECORDS, `stored before the cut: ${before}`);

    // Back: every page asked for from where the phone stopped.
    const pulls = [];
    page.on('response', async (res) => {
      if (!res.url().includes('/api/sync/pull')) return;
      const body = await res.json().catch(() => null);
      pulls.push({ cursor: new URL(res.url()).searchParams.get('cursor'), records: body?.records?.length ?? 0 });
    });
    await setOnline(true);
    await bar.waitFor({ state: 'detached', timeout: 120_000 });
    await page.getByText(/Dernière synchronisation/).waitFor();
    const after = await recordsHeld(page);
    assert.ok(after >= RECORDS, `everything is there: ${after}`);
    assert.ok(pulls.length > 0);
    assert.notEqual(pulls[0].cursor, '', 'the first page after the cut starts from the stored cursor');
    const received = pulls.reduce((n, p) => n + p.records, 0);
    assert.equal(before + received, after, 'nothing received twice');
  } finally {
    await context.close();
  }
});

test('a sync that brings nothing new rewrites nothing; a patient the server now describes otherwise is shown so', async () => {
  const own = await Server.start();
  const { page, context } = await phone();
  try {
    await signIn(page, own, 'claire', 'demo-claire');
    await page.getByText(/Dernière synchronisation/).waitFor();
    // Every transaction the page opens from here, with its stores and mode.
    await page.evaluate(() => {
      window.__transactions = [];
      const open = IDBDatabase.prototype.transaction;
      IDBDatabase.prototype.transaction = function (stores, mode, ...rest) {
        window.__transactions.push({ stores: [].concat(stores), mode: mode || 'readonly' });
        return open.call(this, stores, mode, ...rest);
      };
    });
    const caseloadWrites = () => page.evaluate(() => window.__transactions
      .filter((t) => t.mode === 'readwrite' && t.stores.includes('patients')).length);
    const syncOnce = async () => {
      const checked = page.waitForResponse((r) => r.url().includes('/api/sync/checksum'));
      await page.getByRole('button', { name: 'Synchroniser' }).click();
      await checked;
    };
    // Nothing new on the server: the caseload is read and found the same.
    await syncOnce();
    assert.equal(await caseloadWrites(), 0, 'an unchanged caseload is not written again');
    // The server now says Jeanne Lefèvre lives elsewhere: written, and shown.
    own.sql("UPDATE patients SET town = 'Saint-Malo' WHERE family_name = 'Lefèvre'");
    await syncOnce();
    const card = page.getByRole('list', { name: 'Patients' }).getByRole('listitem').filter({ hasText: 'LEFÈVRE Jeanne' });
    await card.getByText(/Saint-Malo/).waitFor();
    assert.equal(await caseloadWrites(), 1);
  } finally {
    await context.close();
    await own.stop();
  }
});
