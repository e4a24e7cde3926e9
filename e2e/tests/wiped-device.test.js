// A phone whose IndexedDB was wiped (the browser cleared the site's
// storage) while its device id survived (issue 10): it starts again from
// nothing, and what it makes before its first pull — a patient included
// offline and the first action of their plan — reuses mutation ids the
// server applied long ago. The server says which id it expects next; the
// phone renumbers what waits, once, and everything arrives, each change
// applied once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, unlock, fillIdentity, answerCriteria } from './harness.js';

let server;
before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

async function addAction(page, title, owner) {
  await page.getByRole('button', { name: 'Ajouter une action' }).click();
  const form = page.getByRole('form', { name: 'Nouvelle action du plan' });
  await form.getByLabel('Action', { exact: true }).fill(title);
  await form.getByLabel('Responsable').selectOption({ label: owner });
  await form.getByRole('button', { name: "Ajouter l'action" }).click();
  await page.getByRole('list', { name: 'Actions du plan' }).getByRole('listitem', { name: title }).waitFor();
}

test('a wiped phone renumbers what it made before its first pull, and nothing is stuck or applied twice', async () => {
  const gp = await phone();
  const { page, setOnline } = gp;
  const GP = 'Dr Paul Durand (Médecin traitant)';
  try {
    await signIn(page, server, 'dr.durand', 'demo-durand');
    await page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await page.getByRole('heading', { name: 'LEFÈVRE Jeanne' }).waitFor();
    await addAction(page, 'Bilan des traitements', GP);
    await page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    const me = await page.evaluate(() => JSON.parse(localStorage.getItem('parcours.me')));
    const applied = () => server.sql(
      `SELECT group_concat(mutation_id) FROM (SELECT mutation_id FROM item_versions WHERE account_id = '${me.account_id}' AND device_id = '${me.device_id}' ORDER BY mutation_id)`,
    );
    assert.equal(applied(), '1');

    // The site's storage wiped, its device id (localStorage) kept; no signal.
    await page.goto(`${server.url}/manifest.webmanifest`);
    await page.evaluate((account) => new Promise((resolve, reject) => {
      const r = indexedDB.deleteDatabase(`parcours-${account}`);
      r.onsuccess = resolve;
      r.onerror = () => reject(r.error);
    }), me.account_id);
    await setOnline(false);
    await page.goto(server.url);
    // Nothing left to open: a new PIN, a new key.
    await page.getByLabel('Nouveau code (6 chiffres)').waitFor();
    await unlock(page);
    await page.getByRole('heading', { name: 'Mes patients' }).waitFor();

    await page.getByRole('link', { name: 'Inclure un patient' }).click();
    const form = await fillIdentity(page, { family: 'Perrin', given: 'Lucie', birth: '1970-03-14', sex: 'Féminin' });
    await answerCriteria(form, ['Douleurs chroniques']);
    await form.getByLabel("Date d'inclusion").fill('2026-11-20');
    await form.getByLabel("Motif d'inclusion").fill('Lombalgie chronique');
    await form.getByRole('button', { name: 'Inclure le patient' }).click();
    await page.getByRole('heading', { name: 'PERRIN Lucie' }).waitFor();
    await addAction(page, 'Marche adaptée', GP);
    await page.getByRole('status').getByText('2 en attente', { exact: true }).waitFor();

    // Back in signal: refused once (409, the id expected next), renumbered, sent.
    await setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM patients WHERE family_name = 'Perrin'"), '1');
    assert.equal(applied(), '1,2', 'the new change took the id after the server\'s last, applied once');
    assert.equal(await page.getByText(/Échec de la synchronisation/).count(), 0);
  } finally {
    await gp.context.close();
  }
});
