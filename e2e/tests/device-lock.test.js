// Health data on a lost or shared phone (issue 10): the PIN chosen at the
// first sign-in, the lock after five minutes without a touch, the unlock
// with no network, wrong PINs counted then the data forgotten, and a
// sign-out after which another person on the same browser finds nothing of
// the first — the test reads IndexedDB itself and finds no clear health
// data — while what the first left waiting leaves at her next sign-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, PIN, phone, signIn, unlock, recordAssessment } from './harness.js';

let server;
before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

const PATIENT = 'LEFÈVRE Jeanne';
const NOTE = 'Réveils nocturnes depuis la chute';
const OTHER_NOTE = 'Douleur plus forte après la kiné';
/** Words of the patient's record that must never be on the phone in clear. */
const HEALTH_WORDS = ['Lefèvre', 'LEFÈVRE', 'Jeanne', 'Lombaires', NOTE, 'après la kiné'];

/** Everything this browser profile keeps in IndexedDB and localStorage, as text. */
async function everythingKept(page) {
  return page.evaluate(async () => {
    const out = { databases: {}, localStorage: JSON.stringify({ ...localStorage }) };
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const stores = {};
      for (const store of db.objectStoreNames) {
        stores[store] = await new Promise((res, rej) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
      }
      db.close();
      out.databases[name] = stores;
    }
    return out;
  });
}

function assertNoClearHealthData(kept, when) {
  const text = JSON.stringify(kept);
  for (const word of HEALTH_WORDS) assert.ok(!text.includes(word), `${when}: "${word}" is stored in clear`);
}

async function openPatient(page) {
  await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
  await page.getByRole('heading', { name: PATIENT }).waitFor();
}

test('PIN at first sign-in, sealed at rest, locked after inactivity, unlocked offline, wrong PINs counted', async () => {
  const nurse = await phone();
  const { page, setOnline } = nurse;
  try {
    // The page's clock is the test's: five minutes pass in an instant.
    await page.clock.install();
    await page.goto(server.url);
    await page.getByLabel('Identifiant').fill('claire');
    await page.getByLabel('Mot de passe').fill('demo-claire');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    // First sign-in on this phone: a PIN is chosen, and a weak one refused.
    await page.getByRole('heading', { name: 'Choisissez le code de ce téléphone' }).waitFor();
    await page.getByLabel('Nouveau code (6 chiffres)').fill('123456');
    await page.getByLabel('Confirmez le code').fill('123456');
    await page.getByRole('button', { name: 'Enregistrer le code' }).click();
    await page.getByRole('alert').getByText('Une suite de chiffres se devine trop facilement.').waitFor();
    await page.getByLabel('Nouveau code (6 chiffres)').fill(PIN);
    await page.getByLabel('Confirmez le code').fill('000111');
    await page.getByRole('button', { name: 'Enregistrer le code' }).click();
    await page.getByRole('alert').getByText('Les deux codes ne sont pas identiques.').waitFor();
    await page.getByLabel('Confirmez le code').fill(PIN);
    await page.getByRole('button', { name: 'Enregistrer le code' }).click();
    await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
    await page.getByText(/Dernière synchronisation/).waitFor();

    await openPatient(page);
    await recordAssessment(page, { now: 6, average: 5, worst: 8, location: 'Lombaires', note: NOTE });
    await server.until(`SELECT count(*) FROM journal WHERE body LIKE '%${NOTE}%'`, (n) => Number(n) > 0);
    // Everything the server sent and this phone wrote is on the phone, sealed.
    const kept = await everythingKept(page);
    const mine = Object.keys(kept.databases).find((n) => n.startsWith('parcours-'));
    assert.ok(kept.databases[mine].records.length >= 1, 'the records are on the phone');
    assert.ok(kept.databases[mine].patients.length >= 1, 'the caseload is on the phone');
    assert.ok(kept.databases[mine].records.every((r) => r.sealed && r.sealed.iv && r.sealed.data), 'every record is sealed');
    assert.ok(kept.databases[mine].patients.every((p) => p.sealed && !p.family_name), 'every patient is sealed');
    assertNoClearHealthData(kept, 'signed in');

    // Five minutes without a touch: locked, the patient's page gone.
    await page.clock.fastForward('05:10');
    await page.getByLabel('Code de ce téléphone').waitFor();
    assert.equal(await page.getByRole('heading', { name: PATIENT }).count(), 0);

    // No network: a wrong PIN is counted, the right one opens.
    await setOnline(false);
    await page.getByLabel('Code de ce téléphone').fill('111222');
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.getByRole('alert').getByText('Code incorrect. Encore 4 essais.').waitFor();
    await unlock(page);
    await page.getByRole('heading', { name: PATIENT }).waitFor();
    await page.getByText(NOTE).waitFor();

    // Sent to the background (another app, the screen off): locked at once.
    // Headless Chromium has no background, so the page is told so as the
    // browser would tell it: its visibility, then the event.
    const visibility = (state) => page.evaluate((state) => {
      Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    }, state);
    await visibility('hidden');
    await page.getByLabel('Code de ce téléphone').waitFor();
    assert.equal(await page.getByText(NOTE).count(), 0);
    await visibility('visible');
    await unlock(page);
    await page.getByText(NOTE).waitFor();

    // Offline, a record waits; four wrong PINs after a reload: the last
    // warning says what would be lost.
    await recordAssessment(page, { now: 3, average: 3, worst: 4, note: 'Mieux aujourd’hui' });
    await page.reload();
    for (let i = 0; i < 4; i++) {
      await page.getByLabel('Code de ce téléphone').fill('999888');
      await page.getByRole('button', { name: 'Déverrouiller' }).click();
      await page.getByRole('alert').getByText(/Code incorrect/).waitFor();
    }
    const warning = page.getByRole('alert');
    await warning.getByText('Code incorrect. Dernier essai.').waitFor();
    await warning.getByText(/les données de ce téléphone seront effacées. 1 enregistrement pas encore envoyé au serveur sera perdu./).waitFor();
    // The right PIN still opens, and the count starts again.
    await unlock(page);
    await page.getByRole('heading', { name: PATIENT }).waitFor();
    await page.reload();
    await page.getByLabel('Code de ce téléphone').fill('999888');
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.getByRole('alert').getByText('Code incorrect. Encore 4 essais.').waitFor();
  } finally {
    await nurse.context.close();
  }
});

test('the PIN\'s key is derived while it is typed, and only the tap tries it: a PIN typed and changed counts nothing', async () => {
  const nurse = await phone();
  const { page } = nurse;
  try {
    // Every derivation from a PIN the page asks of the browser, counted.
    await page.addInitScript(() => {
      window.__derivations = 0;
      const derive = SubtleCrypto.prototype.deriveKey;
      SubtleCrypto.prototype.deriveKey = function (...args) {
        window.__derivations += 1;
        return derive.apply(this, args);
      };
    });
    await signIn(page, server, 'claire', 'demo-claire');
    await page.reload();
    const field = page.getByLabel('Code de ce téléphone');
    await field.waitFor();
    const derivations = () => page.evaluate(() => window.__derivations);
    // Five digits are not a PIN yet: nothing derived.
    await field.fill('99988');
    assert.equal(await derivations(), 0);
    // Six are: derived before any tap. A wrong one, typed and corrected,
    // is not an attempt.
    await field.fill('999888');
    await page.waitForFunction(() => window.__derivations === 1);
    await field.fill(PIN);
    await page.waitForFunction(() => window.__derivations === 2);
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
    // The tap only unwrapped: no derivation of its own.
    assert.equal(await derivations(), 2);
    assert.equal(await page.getByText(/Code incorrect/).count(), 0);
    // The wrong PIN typed before was never counted: the first wrong tap
    // leaves four tries.
    await page.reload();
    await field.fill('999888');
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.getByRole('alert').getByText('Code incorrect. Encore 4 essais.').waitFor();
  } finally {
    await nurse.context.close();
  }
});

test('sign-out keeps only what waits, sealed, once the server knows; another person finds nothing; the first one\'s records leave at her next sign-in', async () => {
  const shared = await phone();
  const { page, setOnline } = shared;
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await page.getByText(/Dernière synchronisation/).waitFor();
    await openPatient(page);
    await setOnline(false);
    await recordAssessment(page, { now: 7, average: 6, worst: 9, location: 'Lombaires', note: OTHER_NOTE });
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Se déconnecter ?' });
    await dialog.getByText(/1 enregistrement\(s\) en attente d'envoi/).waitFor();
    await dialog.getByRole('button', { name: 'Se déconnecter quand même' }).click();
    await page.getByRole('button', { name: 'Se connecter' }).waitFor();

    // Signed out without network: the server has not heard of it, and she
    // may still come back offline (sync-safety.test.js), so what it sent
    // her stays, sealed: nothing in clear.
    const claireId = server.sql("SELECT id FROM accounts WHERE username = 'claire'");
    let kept = await everythingKept(page);
    assertNoClearHealthData(kept, 'signed out offline');

    // Sophie signs in on the same browser: her own PIN, her own patients only.
    await setOnline(true);
    await page.getByLabel('Identifiant').fill('sophie');
    await page.getByLabel('Mot de passe').fill('demo-sophie');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('heading', { name: 'Choisissez le code de ce téléphone' }).waitFor();
    await unlock(page, '735190');
    await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
    await page.getByText(/Dernière synchronisation/).waitFor();
    assert.equal(await page.getByRole('link', { name: new RegExp(PATIENT) }).count(), 0);
    kept = await everythingKept(page);
    assertNoClearHealthData(kept, 'another person signed in');
    // Another person's sign-in ended Claire's session on the server: what
    // stays of her is her waiting record and its patient, sealed; nothing received.
    const claire = kept.databases[`parcours-${claireId}`];
    assert.equal(claire.outbox.length, 1);
    assert.deepEqual(claire.records.map((r) => r.id), claire.outbox.map((r) => r.id));
    assert.equal(claire.items.length, 0);
    assert.ok(claire.patients.length <= 1);

    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByRole('button', { name: 'Se connecter' }).waitFor();
    // Online, her sign-out reaches the server: nothing received stays.
    const sophieId = server.sql("SELECT id FROM accounts WHERE username = 'sophie'");
    const sophie = (await everythingKept(page)).databases[`parcours-${sophieId}`];
    assert.equal(sophie.records.length + sophie.packs.length + sophie.patients.length + sophie.items.length, 0);

    // Claire again: her PIN (the one kept here) opens what waited, and it leaves.
    await page.getByLabel('Identifiant').fill('claire');
    await page.getByLabel('Mot de passe').fill('demo-claire');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByLabel('Code de ce téléphone').waitFor();
    await unlock(page);
    await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
    await server.until(`SELECT count(*) FROM journal WHERE body LIKE '%${OTHER_NOTE}%'`, (n) => Number(n) > 0);
    assert.equal(Number(server.sql(`SELECT count(*) FROM journal WHERE body LIKE '%${OTHER_NOTE}%'`)), 1);
    // The caseload grows back from the one patient kept to all three as the
    // pull ends: a tap meanwhile could land on another card.
    await page.getByRole('list', { name: 'Patients' }).getByRole('listitem').nth(2).waitFor();
    await openPatient(page);
    await page.getByText(OTHER_NOTE).waitFor();
  } finally {
    await shared.context.close();
  }
});

test('five wrong PINs forget the key: the data is gone, the person signs in again and chooses a new PIN', async () => {
  const nurse = await phone();
  const { page } = nurse;
  try {
    await signIn(page, server, 'dr.durand', 'demo-durand');
    await page.getByText(/Dernière synchronisation/).waitFor();
    await page.reload();
    for (let i = 0; i < 5; i++) {
      await page.getByLabel('Code de ce téléphone').fill('505050');
      await page.getByRole('button', { name: 'Déverrouiller' }).click();
      if (i < 4) await page.getByRole('alert').getByText(/Code incorrect/).waitFor();
    }
    await page.getByRole('status').getByText(/Les données de ce téléphone ont été effacées/).waitFor().catch(async (e) => {
      console.log(page.url(), await page.locator('body').innerText());
      throw e;
    });
    await page.getByLabel('Identifiant').fill('dr.durand');
    await page.getByLabel('Mot de passe').fill('demo-durand');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('heading', { name: 'Choisissez le code de ce téléphone' }).waitFor();
    await unlock(page);
    await page.getByRole('link', { name: new RegExp(PATIENT) }).waitFor();
  } finally {
    await nurse.context.close();
  }
});
