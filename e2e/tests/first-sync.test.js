// A fresh device with a large caseload: the first sync shows its progress,
// then everything is on the device.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, unlock, recordsHeld } from './harness.js';
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
