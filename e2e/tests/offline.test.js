// A nurse records pain assessments with no network, or with the server down;
// nothing is lost, nothing is duplicated, and the GP sees them after his sync.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, tapScore, waitForServiceWorker, recordAssessment, unlock } from './harness.js';

const PATIENT = 'LEFÈVRE Jeanne';
let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

async function openPatient(page, name) {
  await page.getByRole('link', { name: new RegExp(name) }).click();
  await page.getByRole('heading', { name }).waitFor();
}

const pendingStatus = (page) => page.getByRole('status').filter({ hasText: 'en attente' });

async function expectPending(page, n) {
  await pendingStatus(page).getByText(`${n} en attente`, { exact: true }).waitFor({ timeout: 20_000 });
}

/** One request on the device's outbox store (`count`, `getAllKeys`), answered. */
const askOutbox = (page, request) => page.evaluate(async (request) => {
  const name = (await indexedDB.databases()).find((d) => d.name.startsWith('parcours-')).name;
  const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const answer = await new Promise((res) => { const q = db.transaction('outbox').objectStore('outbox')[request](); q.onsuccess = () => res(q.result); });
  db.close();
  return answer;
}, request);

/** Entries in the device's outbox store, whether waiting or acknowledged and not yet removed. */
const outboxHeld = (page) => askOutbox(page, 'count');

/**
 * Three records ten seconds apart by the phone's clock, `note` and their
 * number in each; returns the first one's time.
 */
async function threeTenSecondsApart(page, scores, note) {
  const start = Date.now();
  for (const i of [0, 1, 2]) {
    await page.clock.setFixedTime(new Date(start + i * 10_000));
    await recordAssessment(page, { ...scores, note: `${note} ${i}` });
  }
  await expectPending(page, 3);
  return start;
}

/** What the server acknowledged leaves the outbox store after the sync, a step at a time. */
/** How many records on the server carry `note`. */
const carrying = (note) => `SELECT count(*) FROM journal WHERE body LIKE '%${note}%'`;

async function outboxEmptied(page) {
  for (let i = 0; i < 200 && await outboxHeld(page) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return outboxHeld(page);
}

async function assessmentsOf(page) {
  return page.getByRole('list', { name: 'Évaluations de la douleur' }).getByRole('listitem');
}

async function gpSees(expectedScores) {
  const gp = await phone();
  try {
    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    await openPatient(gp.page, PATIENT);
    const items = await assessmentsOf(gp.page);
    await gp.page.getByRole('heading', { name: `Évaluations (${expectedScores.length})` }).waitFor();
    const texts = await items.allTextContents();
    for (const score of expectedScores) {
      assert.ok(texts.some((t) => t.includes(`Douleur actuelle ${score}/10`)), `GP should see score ${score} in ${texts}`);
    }
    assert.ok(texts.every((t) => t.includes('Envoyée')));
  } finally {
    await gp.context.close();
  }
}

test('network cut: two assessments wait on the phone, survive a reload, then reach the server once', async () => {
  const nurse = await phone();
  const { page, context, setOnline } = nurse;
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await waitForServiceWorker(page);
    // The caseload says how much the device keeps and whether it is kept durably.
    await page.getByText(/Stockage sur cet appareil : .+ utilisés sur .+ — /).waitFor();
    await openPatient(page, PATIENT);
    await expectPending(page, 0);

    await setOnline(false);
    await recordAssessment(page, { now: 7, average: 5, worst: 9, location: 'Lombaires', note: 'Réveils nocturnes' });
    await recordAssessment(page, { now: 4, average: 4, worst: 6, location: 'Genou droit' });
    await expectPending(page, 2);
    await page.getByText('Hors ligne', { exact: false }).first().waitFor();

    // The app opens with no network at all: the service worker serves the shell,
    // IndexedDB the data.
    await page.reload();
    await unlock(page);
    await page.getByRole('heading', { name: PATIENT }).waitFor();
    await page.getByRole('heading', { name: 'Évaluations (2)' }).waitFor();
    await expectPending(page, 2);
    const items = await assessmentsOf(page);
    assert.equal(await items.count(), 2);
    for (const text of await items.allTextContents()) {
      assert.match(text, /en attente d'envoi/);
    }
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'pain_assessment'"), '0', 'nothing left the phone yet');

    // Back online: the waiting records leave by themselves.
    await setOnline(true);
    await expectPending(page, 0);
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'pain_assessment'"), '2');
    await page.getByText('Envoyée', { exact: true }).first().waitFor();

    // A second sync sends nothing twice.
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await expectPending(page, 0);
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'pain_assessment'"), '2');
    assert.equal(server.sql("SELECT group_concat(json_extract(body, '$.pain_now'), ',') FROM (SELECT body FROM journal WHERE kind = 'pain_assessment' ORDER BY json_extract(body, '$.pain_now'))"), '4,7');
  } finally {
    await context.close();
  }
  await gpSees([7, 4]);
});

test('server killed: records wait, the app reloads without it, and a restart brings them in', async () => {
  const nurse = await phone();
  const { page, context } = nurse;
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await waitForServiceWorker(page);
    await openPatient(page, PATIENT);
    await page.getByRole('heading', { name: 'Évaluations (2)' }).waitFor();

    await server.kill();
    await recordAssessment(page, { now: 2, average: 3, worst: 5, location: 'Épaule' });
    await recordAssessment(page, { now: 8, average: 6, worst: 10 });
    await expectPending(page, 2);

    await page.reload();
    await unlock(page);
    await page.getByRole('heading', { name: PATIENT }).waitFor();
    await page.getByRole('heading', { name: 'Évaluations (4)' }).waitFor();
    await expectPending(page, 2);

    await server.start();
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await expectPending(page, 0);
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'pain_assessment'"), '4');
    assert.equal(server.sql("SELECT count(DISTINCT id) FROM journal WHERE kind = 'pain_assessment'"), '4');
  } finally {
    await context.close();
  }
  await gpSees([7, 4, 2, 8]);
});

test('the server took the records but the phone stopped before removing them from its outbox: they are sent again, and each arrives once', async () => {
  const { page, context, setOnline } = await phone();
  const ON_SERVER = "SELECT count(*) || '/' || count(DISTINCT id) FROM journal WHERE body LIKE '%outbox held%'";
  const onServer = () => server.sql(ON_SERVER);
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await waitForServiceWorker(page);
    await openPatient(page, 'GARNIER Amélie');
    await expectPending(page, 0);
    await setOnline(false);
    for (const now of [3, 5, 6]) await recordAssessment(page, { now, average: 4, worst: 7, note: `outbox held ${now}` });
    await expectPending(page, 3);
    assert.equal(await outboxHeld(page), 3);

    // While the push is on its way, the page's own transaction takes the
    // outbox (kept alive by asking it again and again): the app cannot
    // remove what the server takes. A reload then is a phone stopped
    // between the server's answer and the removal.
    await page.route('**/api/sync/push', async (route) => {
      await page.evaluate(async () => {
        const name = (await indexedDB.databases()).find((d) => d.name.startsWith('parcours-')).name;
        const db = await new Promise((res) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); });
        const store = db.transaction('outbox', 'readwrite').objectStore('outbox');
        const spin = () => { store.count().onsuccess = spin; };
        spin();
      });
      await route.continue();
    });
    await setOnline(true);
    assert.equal(await server.until(ON_SERVER, (a) => a === '3/3'), '3/3');
    await page.unroute('**/api/sync/push');
    await setOnline(false);
    await page.reload();
    await unlock(page);
    // The phone cannot know the server has them: they wait, and say so.
    await expectPending(page, 3);
    assert.equal(await outboxHeld(page), 3);

    // Sent again, answered as already there, and gone from the outbox.
    await setOnline(true);
    await expectPending(page, 0);
    assert.equal(await outboxEmptied(page), 0);
    assert.equal(onServer(), '3/3', 'each record once on the server');
    // The reload came back to her patient's page.
    await page.getByRole('heading', { name: 'GARNIER Amélie', level: 1 }).waitFor();
    await page.getByRole('heading', { name: /Évaluations \(3\)/ }).waitFor();
    // The list is read again when the sync ends (the counter follows each
    // push's answer): no record of hers is marked waiting any more.
    const items = await assessmentsOf(page);
    await items.filter({ hasText: "en attente d'envoi" }).first().waitFor({ state: 'detached' });
    assert.equal(await items.filter({ hasText: 'Envoyée' }).count(), 3);
  } finally {
    await context.close();
  }
});

test('a score not tapped and a worst pain below the average are said at once, in French, and nothing is saved', async () => {
  const { page, context } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await openPatient(page, 'MOREAU Henri');
    const row = page.getByRole('group', { name: 'Douleur actuelle (0 à 10)' });
    assert.equal(await row.getByRole('radio').count(), 11, 'eleven targets, nothing to type');
    await tapScore(page, 'Douleur moyenne sur 24 h (0 à 10)', 5);
    await tapScore(page, 'Douleur maximale sur 24 h (0 à 10)', 6);
    await page.getByRole('button', { name: "Enregistrer l'évaluation" }).click();
    await page.getByRole('alert').filter({ hasText: 'Touchez une note de 0 à 10.' }).waitFor();
    // Every problem at once: the score not tapped, and a worst pain below
    // the average (the review's 8 / 9 / 2 seen on a phone).
    await tapScore(page, 'Douleur moyenne sur 24 h (0 à 10)', 9);
    await tapScore(page, 'Douleur maximale sur 24 h (0 à 10)', 2);
    await page.getByRole('button', { name: "Enregistrer l'évaluation" }).click();
    await page.getByRole('alert').filter({ hasText: 'ne peut pas être plus faible que la douleur moyenne' }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'Touchez une note de 0 à 10.' }).waitFor();
    await tapScore(page, 'Douleur actuelle (0 à 10)', 8);
    await page.getByRole('button', { name: "Enregistrer l'évaluation" }).click();
    await page.getByRole('alert').filter({ hasText: 'plus faible que la douleur moyenne' }).waitFor();
    assert.equal(await page.getByRole('alert').filter({ hasText: 'Touchez' }).count(), 0, 'the tapped score is no longer flagged');
    await page.getByRole('heading', { name: 'Évaluations (0)' }).waitFor();
    await expectPending(page, 0);
  } finally {
    await context.close();
  }
});

test("a nurse of another team does not see the first team's patients", async () => {
  const { page, context } = await phone();
  try {
    await signIn(page, server, 'sophie', 'demo-sophie');
    await page.getByRole('link', { name: /ROUX Bernard/ }).waitFor();
    assert.equal(await page.getByRole('link', { name: new RegExp(PATIENT) }).count(), 0);
    const patientId = server.sql("SELECT id FROM patients WHERE family_name = 'Lefèvre'");
    const status = await page.evaluate(async (id) => (await fetch(`/api/patients/${id}/assessments`)).status, patientId);
    assert.equal(status, 404);
  } finally {
    await context.close();
  }
});

test('a wrong password is refused with a French message', async () => {
  const { page, context } = await phone();
  try {
    await page.goto(server.url);
    await page.getByLabel('Identifiant').fill('claire');
    await page.getByLabel('Mot de passe').fill('pas le bon');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('alert').filter({ hasText: 'Identifiant ou mot de passe incorrect.' }).waitFor();
  } finally {
    await context.close();
  }
});

test("the next page's module is loaded before it is asked for: a patient's page once the list is drawn, the caseload while the PIN is typed — and opens offline", async () => {
  const { context, page, setOnline } = await phone();
  try {
    const loaded = (route) => page.evaluate((route) => performance.getEntriesByType('resource')
      .some((r) => new URL(r.name).pathname.split('/').pop().startsWith(`split___${route}_route_view`)), route);
    await signIn(page, server, 'claire', 'demo-claire');
    await waitForServiceWorker(page);
    await page.getByRole('link', { name: new RegExp(PATIENT) }).waitFor();
    // Nobody has tapped a patient yet: the list drawn, the patient's page
    // comes in while she reads it.
    await page.waitForFunction(() => performance.getEntriesByType('resource')
      .some((r) => new URL(r.name).pathname.split('/').pop().startsWith('split___patient_route_view')));
    // A reload offline: at the lock screen, before any PIN, the caseload's
    // module is loaded (from the service worker's cache), not yet drawn.
    await setOnline(false);
    await page.reload();
    await page.getByLabel('Code de ce téléphone').waitFor();
    await page.waitForFunction(() => performance.getEntriesByType('resource')
      .some((r) => new URL(r.name).pathname.split('/').pop().startsWith('split___caseload_route_view')));
    assert.equal(await page.getByRole('list', { name: 'Patients' }).count(), 0);
    assert.equal(await loaded('patient'), false, 'the patient page is not what opens after this PIN');
    await unlock(page);
    await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
    await page.getByRole('heading', { name: new RegExp(PATIENT), level: 1 }).waitFor();
  } finally {
    await context.close();
  }
});

test('the server took the records and the phone noted it, then stopped before tidying its outbox: nothing waits, nothing is sent twice', async () => {
  const { page, context, setOnline } = await phone();
  const ON_SERVER = "SELECT count(*) || '/' || count(DISTINCT id) FROM journal WHERE body LIKE '%noted then stopped%'";
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await openPatient(page, 'MOREAU Henri');
    await expectPending(page, 0);
    await setOnline(false);
    for (const now of [1, 2, 3]) await recordAssessment(page, { now, average: 2, worst: 4, note: `noted then stopped ${now}` });
    await expectPending(page, 3);

    // The pull that follows the push never answers: the sync stops after
    // the push, before the outbox store is tidied.
    await page.route('**/api/sync/pull**', () => {});
    await setOnline(true);
    assert.equal(await server.until(ON_SERVER, (a) => a === '3/3'), '3/3');
    await expectPending(page, 0);
    assert.equal(await outboxHeld(page), 3, 'acknowledged, still in the store');

    // Stopped there. Reopened with no network: the phone knows they left.
    await setOnline(false);
    await page.reload();
    await unlock(page);
    await page.getByRole('heading', { name: /Évaluations \(3\)/ }).waitFor();
    await expectPending(page, 0);
    const items = await assessmentsOf(page);
    assert.equal(await items.filter({ hasText: 'Envoyée' }).count(), 3);
    assert.equal(await items.filter({ hasText: "en attente d'envoi" }).count(), 0);

    // Back online: no push carries them again, and the store is tidied.
    let pushes = 0;
    page.on('request', (request) => { if (request.url().includes('/api/sync/push')) pushes += 1; });
    await page.unroute('**/api/sync/pull**');
    await setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    assert.equal(await outboxEmptied(page), 0);
    await expectPending(page, 0);
    assert.equal(pushes, 0, 'nothing waited, nothing was pushed');
    assert.equal(server.sql(ON_SERVER), '3/3');
  } finally {
    await context.close();
  }
});

test('a record saved while the clock was set back, among records already sent, still waits and is sent', async () => {
  const { page, context, setOnline } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await openPatient(page, 'MOREAU Henri');
    await expectPending(page, 0);
    await setOnline(false);
    const start = await threeTenSecondsApart(page, { now: 5, average: 5, worst: 6 }, 'before the clock went back');
    // Sent and acknowledged; the store not tidied yet (the pull never answers).
    await page.route('**/api/sync/pull**', () => {});
    await setOnline(true);
    await expectPending(page, 0);
    assert.equal(await outboxHeld(page), 3);

    // The clock goes back between the first two: the new record's id falls
    // among those already sent.
    await setOnline(false);
    await page.clock.setFixedTime(new Date(start + 5_000));
    await page.reload();
    await unlock(page);
    await recordAssessment(page, { now: 9, average: 8, worst: 10, note: 'saved with the clock set back' });
    await expectPending(page, 1);
    const items = await assessmentsOf(page);
    await items.filter({ hasText: "en attente d'envoi" }).first().waitFor();
    assert.equal(await items.filter({ hasText: "en attente d'envoi" }).count(), 1);
    // The three sent went from the store in the save itself, so nothing
    // waiting lies among entries taken for sent.
    assert.equal(await outboxHeld(page), 1);

    await page.clock.setFixedTime(new Date(start + 60_000));
    await page.unroute('**/api/sync/pull**');
    await setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await expectPending(page, 0);
    assert.equal(await server.until(carrying('saved with the clock set back'), (n) => n === '1'), '1');
    assert.equal(server.sql(carrying('before the clock went back')), '3');
    assert.equal(await outboxEmptied(page), 0);
  } finally {
    await context.close();
  }
});

test('a record saved with the clock set back while its neighbours are on their way is not taken for sent with them', async () => {
  const { page, context, setOnline } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await openPatient(page, 'GARNIER Amélie');
    await expectPending(page, 0);
    await setOnline(false);
    const start = await threeTenSecondsApart(page, { now: 4, average: 4, worst: 5 }, 'on their way');
    // Back online, the push of the three is held on its way: read from the
    // outbox, not yet answered.
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    let held = 0;
    await page.route('**/api/sync/push**', async (route) => { held += 1; await released; await route.continue(); });
    await setOnline(true);
    for (let i = 0; i < 100 && held === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(held, 1, 'the push is on its way');
    // Meanwhile, in a second tab of the same phone opened with the clock
    // set back (a page's ids never go back, a new page's may), a record
    // whose id falls between the first two, saved after the push was read.
    await page.clock.setFixedTime(new Date(start + 5_000));
    const other = await context.newPage();
    await other.goto(server.url);
    await unlock(other);
    await openPatient(other, 'GARNIER Amélie');
    await recordAssessment(other, { now: 9, average: 8, worst: 10, note: 'saved while they travelled' });
    const ids = await askOutbox(page, 'getAllKeys');
    // The ids' first 48 bits are their milliseconds: the new one's is the
    // time set back, between the first two (counted from the first: the
    // page's clock and this one's may differ by a millisecond).
    const times = ids.map((id) => parseInt(id.replace(/-/g, '').slice(0, 12), 16));
    assert.deepEqual(times.map((t) => t - times[0]), [0, 5_000, 10_000, 20_000]);
    await other.close();
    release();
    // The three are acknowledged and the new one is not taken for sent
    // with them: it goes with the save's own sync or the next, once.
    assert.equal(await server.until(carrying('on their way'), (n) => n === '3'), '3');
    await page.unroute('**/api/sync/push**');
    await page.clock.setFixedTime(new Date(start + 60_000));
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await expectPending(page, 0);
    assert.equal(await server.until(carrying('saved while they travelled'), (n) => n === '1'), '1');
    assert.equal(server.sql(carrying('on their way')), '3');
    assert.equal(await outboxEmptied(page), 0);
  } finally {
    await context.close();
  }
});

test('signing out while records the server took are still in the outbox store leaves nothing of them on the phone', async () => {
  const { page, context, setOnline } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await openPatient(page, 'MOREAU Henri');
    await expectPending(page, 0);
    await setOnline(false);
    for (const now of [2, 4]) await recordAssessment(page, { now, average: 3, worst: 5, note: `signed out after ${now}` });
    await expectPending(page, 2);
    // Taken and noted, not yet tidied: the pull after the push never answers.
    await page.route('**/api/sync/pull**', () => {});
    await setOnline(true);
    await expectPending(page, 0);
    assert.equal(await outboxHeld(page), 2);

    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByRole('button', { name: 'Se connecter' }).waitFor();
    assert.equal(await outboxHeld(page), 0, 'sign-out keeps only what waits');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE body LIKE '%signed out after%'"), '2');
  } finally {
    await context.close();
  }
});
