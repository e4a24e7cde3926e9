// What the security and reliability review found, in the browser: an entry
// a phone cannot store does not stop its sync; a professional added to a care
// team gets the patient's history (and loses it on leaving); a sign-out
// without network warns, then ends the server session at the next contact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Server, phone, signIn, recordAssessment, SERVER_BIN, unlock, recordsHeld } from './harness.js';
import { apiSession, assessment, push } from '../bench/common.js';

let server;
before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

const status = (page) => page.getByRole('region', { name: 'Synchronisation' });

async function openPatient(page, name) {
  await page.getByRole('link', { name: new RegExp(name) }).click();
  await page.getByRole('heading', { name }).waitFor();
}

async function backToCaseload(page) {
  await page.goto(server.url);
  await unlock(page);
  await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
}

async function syncNow(page) {
  await page.getByRole('button', { name: 'Synchroniser' }).click();
  await status(page).getByText(/Dernière synchronisation/).waitFor();
  await page.getByRole('button', { name: 'Synchroniser' }).and(page.locator(':enabled')).waitFor();
}

function operator(...args) {
  execFileSync(SERVER_BIN, ['--database-url', `sqlite://${server.dbPath}`, '--operator', 'e2e', ...args],
    { env: { ...process.env, RUST_LOG: 'error' } });
}

test('a record no phone can store (written by an older server) is set aside; the rest arrives and sync goes on', async () => {
  const claire = await apiSession(server, 'claire', 'demo-claire');
  const jeanne = server.sql("SELECT id FROM patients WHERE family_name = 'Lefèvre'");
  await push(server, claire, [{ ...assessment(claire, 0), patient_id: jeanne, pain_now: 3 }]);
  // Stored before the server checked times: 2^63 − 1 ms is no JavaScript number.
  server.sql(`UPDATE sync_clock SET value = value + 1;
    INSERT INTO journal (id, kind, patient_id, author_id, seq, version, received_at, body)
    SELECT '0193f000-0000-7000-8000-00000000dead', 'pain_assessment', '${jeanne}', '${claire.accountId}', value, 0, 0,
      json_object('kind', 'pain_assessment', 'id', '0193f000-0000-7000-8000-00000000dead', 'patient_id', '${jeanne}',
        'recorded_at', 9223372036854775807, 'author_id', '${claire.accountId}', 'device_id', '${claire.deviceId}',
        'mode', 'interview', 'pain_now', 9, 'pain_average_24h', 9, 'pain_worst_24h', 9, 'location', '', 'note', '', 'amends', NULL)
    FROM sync_clock;`);
  await push(server, claire, [{ ...assessment(claire, 1), patient_id: jeanne, pain_now: 5 }]);

  const { page, context } = await phone();
  try {
    await signIn(page, server, 'lea', 'demo-lea');
    await status(page).getByText('1 élément(s) reçu(s) illisible(s) sur cet appareil, mis de côté').waitFor({ timeout: 20_000 });
    await status(page).getByText(/Dernière synchronisation/).waitFor();
    await openPatient(page, 'LEFÈVRE Jeanne');
    await page.getByRole('heading', { name: 'Évaluations (2)' }).waitFor();
    // Sync is not stuck: what is written next still comes.
    await push(server, claire, [{ ...assessment(claire, 2), patient_id: jeanne, pain_now: 7 }]);
    await syncNow(page);
    await page.getByRole('heading', { name: 'Évaluations (3)' }).waitFor();
    assert.equal(await status(page).getByText(/Échec|diffère/).count(), 0, 'no failure, no divergence');
  } finally {
    await context.close();
  }
});

test('added to a care team after her first sync, the physiotherapist gets the whole history; removed, her phone drops it', async () => {
  const claire = await apiSession(server, 'claire', 'demo-claire');
  const henri = server.sql("SELECT id FROM patients WHERE family_name = 'Moreau'");
  await push(server, claire, [
    { ...assessment(claire, 10), patient_id: henri, pain_now: 6 },
    { ...assessment(claire, 11), patient_id: henri, pain_now: 4 },
  ]);
  const { page, context } = await phone();
  try {
    await signIn(page, server, 'lea', 'demo-lea');
    await status(page).getByText(/Dernière synchronisation/).waitFor({ timeout: 20_000 });
    assert.equal(await page.getByRole('link', { name: /MOREAU Henri/ }).count(), 0);

    operator('care-team', 'add', '--patient', henri, '--username', 'lea');
    await syncNow(page);
    await openPatient(page, 'MOREAU Henri');
    await page.getByRole('heading', { name: 'Évaluations (2)' }).waitFor();
    assert.equal(await recordsHeld(page, henri), 2);
    // The viewport is a phone's: nothing spills sideways.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360));

    operator('care-team', 'remove', '--patient', henri, '--username', 'lea');
    await backToCaseload(page);
    await syncNow(page);
    await page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).waitFor();
    assert.equal(await page.getByRole('link', { name: /MOREAU Henri/ }).count(), 0);
    assert.equal(await recordsHeld(page, henri), 0, "the patient's data left the phone");
    // Both operator commands are in the audit, with who ran them.
    assert.equal(server.sql("SELECT count(*) FROM audit_events WHERE action = 'operator' AND operator = 'e2e'"), '2');
  } finally {
    await context.close();
  }
});

test('signing out with no network warns what stays on the phone, lets her sign back in offline with her code, then ends the server session and forgets what it sent when the network is back', async () => {
  const { page, context, setOnline } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await openPatient(page, 'GARNIER Amélie');
    const claireId = server.sql("SELECT id FROM accounts WHERE username = 'claire'");
    const open = () => server.sql(`SELECT count(*) FROM sessions WHERE account_id = '${claireId}' AND ended_at IS NULL`);
    const openBefore = Number(open());
    assert.ok(openBefore >= 1);

    await setOnline(false);
    await recordAssessment(page, { now: 5, average: 4, worst: 7, note: 'Hors réseau' });
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Se déconnecter ?' });
    await dialog.getByText(/1 enregistrement\(s\) en attente d'envoi/).waitFor();
    await dialog.getByText(/Pas de réseau/).waitFor();
    // The way back offline is offered first: the lock keeps everything and
    // opens with her code, no network needed.
    await dialog.getByRole('button', { name: 'Verrouiller' }).click();
    await unlock(page);
    await page.getByRole('heading', { name: 'GARNIER Amélie', level: 1 }).waitFor();
    await status(page).getByText('1 en attente', { exact: true }).waitFor();
    // Then she signs out all the same.
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await dialog.getByText(/vous pourrez vous reconnecter ici sans réseau/).waitFor();
    await dialog.getByRole('button', { name: 'Se déconnecter quand même' }).click();
    await page.getByRole('button', { name: 'Se connecter' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'confirmée au serveur dès que le réseau revient' }).waitFor();
    assert.equal(Number(open()), openBefore, 'offline, the server session is still open');
    const heldBefore = await recordsHeld(page);
    assert.ok(heldBefore > 1, 'offline, what the server sent stays on the phone, sealed');

    const signInOffline = async (username) => {
      await page.getByLabel('Identifiant').fill(username);
      await page.getByLabel('Mot de passe').fill('pas vérifiable hors ligne');
      await page.getByRole('button', { name: 'Se connecter' }).click();
    };
    // Nobody else can come in without network: only the person who signed out.
    await signInOffline('lea');
    await page.getByRole('alert').filter({ hasText: 'demande du réseau' }).waitFor();
    // Still no network: she signs back in with her identifiant, and her
    // phone's code (not a new one) opens what the phone kept.
    await signInOffline('Claire');
    await page.getByRole('heading', { name: 'Application verrouillée' }).waitFor();
    await unlock(page);
    await page.getByRole('heading', { name: 'Mes patients', level: 1 }).waitFor();
    await page.getByRole('link', { name: /GARNIER Amélie/ }).waitFor();
    await page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).waitFor();
    await status(page).getByText('1 en attente', { exact: true }).waitFor();
    assert.equal(await page.getByRole('status').filter({ hasText: 'confirmée au serveur' }).count(), 0,
      'the sign-out she came back from is no longer pending');

    // She signs out again, still offline; the network comes back with nobody signed in.
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await dialog.getByRole('button', { name: 'Se déconnecter quand même' }).click();
    await page.getByRole('button', { name: 'Se connecter' }).waitFor();
    await setOnline(true);
    const deadline = Date.now() + 20_000;
    while (Number(open()) !== openBefore - 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(Number(open()), openBefore - 1, "the phone's session was ended on the server");
    await page.getByRole('status').filter({ hasText: 'confirmée au serveur' }).waitFor({ state: 'detached' });
    const caseload = await page.evaluate(async () => (await fetch('/api/caseload')).status);
    assert.equal(caseload, 401, 'the cookie left on the phone opens nothing');
    // Once the server knows, what it had sent her leaves the phone; her waiting record stays.
    let held = await recordsHeld(page);
    while (held !== 1 && Date.now() < deadline + 10_000) {
      await new Promise((r) => setTimeout(r, 200));
      held = await recordsHeld(page);
    }
    assert.equal(held, 1, 'only the record waiting to be sent is left');
    // Signed out for the server, she can no longer come back offline.
    await setOnline(false);
    await signInOffline('claire');
    await page.getByRole('alert').filter({ hasText: 'demande du réseau' }).waitFor();
    await setOnline(true);

    // Back, she finds her waiting record leaving.
    await signIn(page, server, 'claire', 'demo-claire');
    await status(page).getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE json_extract(body, '$.note') = 'Hors réseau'"), '1');
  } finally {
    await context.close();
  }
});

test('a file opened online never becomes the offline page: offline, the app opens', async () => {
  const { page, context, setOnline } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      }
    });
    // The caseload has arrived (leaving the page earlier would stop the first sync).
    await page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).waitFor();
    // A link anyone can send: online, the browser shows the manifest.
    await page.goto(`${server.url}/manifest.webmanifest`);
    assert.match(await page.content(), /Parcours/);
    await setOnline(false);
    await page.goto(server.url);
    await unlock(page);
    await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
    await page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).waitFor();
  } finally {
    await context.close();
  }
});

test('"Déconnecter tous mes appareils" from one phone ends the session of the other', async () => {
  const a = await phone();
  const b = await phone();
  try {
    await signIn(a.page, server, 'claire', 'demo-claire');
    await signIn(b.page, server, 'claire', 'demo-claire');
    await a.page.getByRole('button', { name: 'Déconnecter tous mes appareils' }).click();
    const dialog = a.page.getByRole('alertdialog', { name: 'Déconnecter tous vos appareils ?' });
    await dialog.getByRole('button', { name: 'Tout déconnecter' }).click();
    await a.page.getByRole('button', { name: 'Se connecter' }).waitFor();
    await b.page.getByRole('button', { name: 'Synchroniser' }).click();
    await status(b.page).getByText('Session expirée : reconnectez-vous pour envoyer.').waitFor();
    await status(b.page).getByRole('link', { name: 'Se reconnecter' }).waitFor();
  } finally {
    await a.context.close();
    await b.context.close();
  }
});
