// What the server refuses no longer blocks the outbox (issue 10): offline,
// the nurse writes two notebook messages to the physiotherapist and records
// an assessment; meanwhile the physiotherapist leaves Jeanne's care team.
// Back online, both messages are refused (she is no longer in the team), the
// assessment arrives; the refused list says why. One is given up (an audit
// row says so); the physiotherapist rejoins, the other is sent again and
// arrives. Nothing was dropped silently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Server, phone, signIn, recordAssessment, unlock } from './harness.js';

let server;
before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

async function writeToLea(page, text) {
  const form = page.getByRole('form', { name: 'Nouvelle entrée du cahier de liaison' });
  await form.getByRole('group', { name: "Type d'entrée" }).getByLabel('Observation').check();
  await form.getByLabel('Message').fill(text);
  await form.getByRole('group', { name: /Adressé à/ }).getByLabel(/Léa/).check();
  await form.getByRole('button', { name: 'Écrire dans le cahier' }).click();
  await form.getByText("Entrée enregistrée sur l'appareil.").waitFor();
}

test('a refused message goes to the refused list, the rest leaves; given up it is audited, sent again it arrives', async () => {
  const nurse = await phone();
  const { page, setOnline } = nurse;
  const jeanne = server.sql("SELECT id FROM patients WHERE family_name = 'Lefèvre'");
  const operator = (...args) => server.cli([...args, '--operator', 'e2e']);
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await page.getByRole('heading', { name: 'Cahier de liaison' }).waitFor();
    await setOnline(false);
    await writeToLea(page, 'Exercices de marche à reprendre doucement.');
    await writeToLea(page, 'Séance de mardi reportée.');
    await recordAssessment(page, { now: 5, average: 4, worst: 6, note: 'Après la séance' });
    await page.getByRole('status').getByText('3 en attente', { exact: true }).waitFor();

    operator('care-team', 'remove', '--patient', jeanne, '--username', 'lea');
    await setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    const status = page.getByRole('status').filter({ hasText: 'en attente' });
    await status.getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    await page.getByText('2 envoi(s) refusé(s) par le serveur : à renvoyer ou à abandonner.').waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'pain_assessment' AND body LIKE '%Après la séance%'"), '1');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'notebook_entry'"), '0');
    // Out of the screens while refused: not shown as written.
    const entries = page.getByRole('list', { name: 'Entrées du cahier de liaison' });
    assert.equal(await entries.getByText('Séance de mardi reportée.').count(), 0);

    // Refused is not sent: forgetting the phone's key would lose them, and the lock says so.
    await page.reload();
    for (let i = 0; i < 4; i++) {
      await page.getByLabel('Code de ce téléphone').fill('999888');
      await page.getByRole('button', { name: 'Déverrouiller' }).click();
      await page.getByRole('alert').getByText(/Code incorrect/).waitFor();
    }
    await page.getByRole('alert').getByText(/2 enregistrements pas encore envoyés au serveur seront perdus\./).waitFor();
    await unlock(page);
    await page.getByText('2 envoi(s) refusé(s) par le serveur : à renvoyer ou à abandonner.').waitFor();

    const toggle = page.getByRole('button', { name: 'Voir les envois refusés' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    const list = page.getByRole('list', { name: 'Envois refusés par le serveur' });
    const refused = list.getByRole('listitem', { name: 'Message du cahier de liaison — LEFÈVRE Jeanne' });
    await refused.nth(1).waitFor();
    assert.equal(await refused.count(), 2);
    await refused.first().getByText("Motif : Ce destinataire ne fait pas partie de l'équipe de soins du patient.").waitFor();
    assert.equal(await page.getByRole('button', { name: 'Masquer les envois refusés' }).getAttribute('aria-expanded'), 'true');

    // Given up: the server writes it in the audit trail, then the phone forgets it.
    await refused.first().getByRole('button', { name: 'Abandonner' }).click();
    await page.getByText('1 envoi(s) refusé(s) par le serveur : à renvoyer ou à abandonner.').waitFor();
    const claire = server.sql("SELECT id FROM accounts WHERE username = 'claire'");
    assert.equal(server.sql(`SELECT count(*) FROM audit_events WHERE action = 'discard_refused' AND account_id = '${claire}' AND patient_id = '${jeanne}' AND detail LIKE 'notebook_entry — Ce destinataire%'`), '1');

    // She is back in the team: sent again, it arrives.
    operator('care-team', 'add', '--patient', jeanne, '--username', 'lea');
    await refused.first().getByRole('button', { name: 'Renvoyer' }).click();
    await status.getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    await server.until("SELECT count(*) FROM journal WHERE kind = 'notebook_entry'", (n) => n === '1');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'notebook_entry'"), '1');
    assert.equal(await page.getByText(/envoi\(s\) refusé\(s\)/).count(), 0);
  } finally {
    await nurse.context.close();
  }
});

test('a long outbox leaves two pushes at a time: a record refused in the second of two is set aside, every other arrives once', async () => {
  const { context, page } = await phone();
  // Sealing thousands of records at the first PIN takes a few seconds.
  page.setDefaultTimeout(120_000);
  try {
    await page.goto(server.url);
    await page.getByLabel('Identifiant').fill('claire');
    await page.getByLabel('Mot de passe').fill('demo-claire');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByLabel('Nouveau code (6 chiffres)').waitFor();
    const me = await page.evaluate(() => JSON.parse(localStorage.getItem('parcours.me')));
    const patients = server.sql("SELECT id FROM patients WHERE family_name IN ('Lefèvre', 'Moreau', 'Garnier')").split('\n');
    // 4,500 assessments waiting (more than two pushes of 2,000), as a
    // phone back from weeks without network holds them. The first push goes
    // alone (nothing else is read yet), the next two together; the 4,201st
    // record breaks a rule the server checks (worst below now): it travels
    // in the second of those two.
    const TOTAL = 4500;
    const BAD = 4200;
    const records = Array.from({ length: TOTAL }, (_, i) => ({
      kind: 'pain_assessment', id: randomUUID(), patient_id: patients[i % patients.length],
      author_id: me.account_id, device_id: me.device_id, recorded_at: 1_790_000_000_000 + i,
      mode: 'interview', pain_now: 5, pain_average_24h: 5, pain_worst_24h: 7,
      location: '', note: `long outbox ${i}`, amends: null,
    }));
    // The outbox is read in the order of its keys, the records' ids.
    records.sort((a, b) => (a.id < b.id ? -1 : 1));
    records[BAD].pain_worst_24h = 2;
    await page.evaluate(async ({ records, account }) => {
      const db = await new Promise((res, rej) => { const r = indexedDB.open(`parcours-${account}`); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const tx = db.transaction(['records', 'outbox'], 'readwrite');
      for (const r of records) { tx.objectStore('records').put(r); tx.objectStore('outbox').put(r); }
      await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
      db.close();
    }, { records, account: me.account_id });
    // Each push: its size, and whether another was on its way when it
    // left — seen in the page, as the app calls fetch (its body is a Blob,
    // which the browser's devtools protocol does not show).
    await page.evaluate(() => {
      window.__pushes = [];
      let inFlight = 0;
      const real = window.fetch;
      window.fetch = function (input, init) {
        const url = input instanceof Request ? input.url : String(input);
        if (!url.endsWith('/api/sync/push')) return real.call(this, input, init);
        const push = { records: null, alongside: inFlight };
        window.__pushes.push(push);
        inFlight += 1;
        const body = input instanceof Request ? input.clone().text() : new Response(init.body).text();
        body.then((text) => { push.records = JSON.parse(text).records.length; });
        return real.call(this, input, init).finally(() => { inFlight -= 1; });
      };
    });
    await unlock(page);
    const status = page.getByRole('status').filter({ hasText: 'en attente' });
    await status.getByText('0 en attente', { exact: true }).waitFor();
    await page.getByText('1 envoi(s) refusé(s) par le serveur : à renvoyer ou à abandonner.').waitFor();
    const [count, distinct] = server.sql(
      `SELECT count(*), count(DISTINCT id) FROM journal WHERE kind = 'pain_assessment' AND body LIKE '%long outbox%'`,
    ).split('|').map(Number);
    assert.deepEqual([count, distinct], [TOTAL - 1, TOTAL - 1]);
    assert.equal(server.sql(`SELECT count(*) FROM journal WHERE id = '${records[BAD].id}'`), '0');
    const pushes = await page.evaluate(() => window.__pushes);
    assert.deepEqual(pushes.slice(0, 3), [
      { records: 2000, alongside: 0 }, { records: 2000, alongside: 0 }, { records: 500, alongside: 1 },
    ], 'the first push alone, then two together: 2,000 records and the 500 left');
  } finally {
    await context.close();
  }
});
