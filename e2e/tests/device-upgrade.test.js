// A phone updated from the previous version of the app (device store 3:
// untagged pain assessments, care-plan mutations without a kind) keeps what
// was waiting to be sent: the new version moves it to its own layout, shows
// it, and sends it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Server, phone, signIn, unlock } from './harness.js';
import { apiSession, push } from '../bench/common.js';

let server;
before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

/** Builds, in the page, the IndexedDB of store version 3 with one waiting
 *  assessment and one waiting care-plan item, as that version wrote them. */
async function writeVersion3Store(page, { accountId, deviceId, patient }) {
  await page.evaluate(async ({ accountId, deviceId, patient }) => {
    const name = `parcours-${accountId}`;
    await new Promise((res, rej) => {
      const r = indexedDB.deleteDatabase(name);
      r.onsuccess = res;
      r.onerror = rej;
      r.onblocked = () => rej(new Error('the app still holds the database open'));
    });
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open(name, 3);
      r.onupgradeneeded = () => {
        const d = r.result;
        d.createObjectStore('patients', { keyPath: 'id' });
        d.createObjectStore('assessments', { keyPath: 'id' }).createIndex('by_patient', 'patient_id');
        d.createObjectStore('outbox', { keyPath: 'id' });
        d.createObjectStore('meta');
        d.createObjectStore('items', { keyPath: 'item.id' }).createIndex('by_patient', 'item.patient_id');
        d.createObjectStore('mutations', { keyPath: 'mutation_id' });
        d.createObjectStore('quarantine', { keyPath: 'key' });
      };
      r.onsuccess = () => res(r.result);
      r.onerror = rej;
    });
    const now = Date.now();
    const assessment = {
      id: '01930000-0000-7000-8000-0000000000a1', patient_id: patient.id, recorded_at: now,
      author_id: accountId, device_id: deviceId, mode: 'interview', pain_now: 6,
      pain_average_24h: 5, pain_worst_24h: 8, location: 'Hanche', note: 'Avant la mise à jour', amends: null,
    };
    const mutation = {
      device_id: deviceId, mutation_id: 1, item_id: '01930000-0000-7000-8000-0000000000b1',
      patient_id: patient.id, author_id: accountId, base_version: 0,
      hlc: { wall_ms: now, counter: 0, device: deviceId },
      changes: [
        { field: 'title', value: 'Marche quotidienne' },
        { field: 'owner', value: accountId },
        { field: 'status', value: 'active' },
      ],
      resolves: [],
    };
    const tx = db.transaction(['patients', 'assessments', 'outbox', 'mutations', 'meta'], 'readwrite');
    tx.objectStore('patients').put(patient);
    tx.objectStore('assessments').put(assessment);
    tx.objectStore('outbox').put(assessment);
    tx.objectStore('mutations').put(mutation);
    tx.objectStore('meta').put(2, 'next_mutation_id');
    tx.objectStore('meta').put('0', 'pull_cursor');
    await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = rej; });
    db.close();
  }, { accountId, deviceId, patient });
}

test('a phone updated from device store 3 keeps, shows and sends what was waiting', async () => {
  const { page, context, setOnline } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    const me = await page.evaluate(() => JSON.parse(localStorage.getItem('parcours.me')));
    const deviceId = await page.evaluate(() => JSON.parse(localStorage.getItem('parcours.device_id')));
    const caseload = await page.evaluate(async () => (await fetch('/api/caseload')).json());
    const patient = caseload.find((p) => p.family_name.toUpperCase().startsWith('LEF'));
    assert.ok(patient, 'the demo caseload has Jeanne Lefèvre');

    // The old version's store, written while no app page holds it open.
    await page.goto(`${server.url}/manifest.webmanifest`);
    await writeVersion3Store(page, { accountId: me.account_id, deviceId, patient });
    await setOnline(false);
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE id = '01930000-0000-7000-8000-0000000000a1'"), '0');

    // The new version opens offline: what waited is there, and still waits.
    await page.goto(server.url);
    await unlock(page);
    await page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await page.getByRole('heading', { name: 'Évaluations (1)' }).waitFor();
    await page.getByText('Avant la mise à jour').waitFor();
    await page.getByRole('listitem', { name: 'Marche quotidienne' }).waitFor();
    await page.getByRole('status').getByText('2 en attente', { exact: true }).waitFor();
    // The old version kept them in clear; the PIN chosen at the update sealed them.
    const stores = await page.evaluate(async (accountId) => {
      const db = await new Promise((res, rej) => { const r = indexedDB.open(`parcours-${accountId}`); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const out = {};
      for (const store of ['patients', 'records', 'outbox', 'items', 'mutations']) {
        out[store] = await new Promise((res) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result); });
      }
      db.close();
      return out;
    }, me.account_id);
    for (const [store, values] of Object.entries(stores)) {
      assert.ok(values.every((v) => v.sealed && v.sealed.data), `every value of ${store} is sealed`);
    }
    assert.ok(stores.records.length >= 1 && stores.mutations.length === 1);
    assert.ok(!JSON.stringify(stores).includes('Avant la mise à jour'));

    // Back online, both leave, once.
    await setOnline(true);
    await page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE id = '01930000-0000-7000-8000-0000000000a1'"), '1');
    assert.equal(server.sql("SELECT json_extract(body, '$.item.title') FROM journal WHERE id = '01930000-0000-7000-8000-0000000000b1'"), 'Marche quotidienne');
    assert.equal(server.sql('SELECT count(*) FROM item_versions'), '1');
  } finally {
    await context.close();
  }
});

test('a phone updated from device store 4 gains the index by kind, and counts the notebook entries it held', async () => {
  // The nurse writes to the GP (through the API: the set-up, not the subject).
  const nurse = await apiSession(server, 'claire', 'demo-claire');
  const jeanne = server.sql("SELECT id FROM patients WHERE family_name = 'Lefèvre'");
  const gpId = server.sql("SELECT id FROM accounts WHERE username = 'dr.durand'");
  await push(server, nurse, [{
    kind: 'notebook_entry', id: randomUUID(), patient_id: jeanne, author_id: nurse.accountId,
    device_id: nurse.deviceId, recorded_at: Date.now(), amends: null, note_kind: 'fall',
    text: 'Chute dans la nuit.', addressed_to: [gpId], reply_to: null, medication_review: null, answers: [],
  }], 4);

  const { page, context } = await phone();
  try {
    await signIn(page, server, 'dr.durand', 'demo-durand');
    await page.getByRole('link', { name: /LEFÈVRE Jeanne.*1 message\(s\) non lu\(s\)/ }).waitFor();
    const me = await page.evaluate(() => JSON.parse(localStorage.getItem('parcours.me')));
    // What version 4 held, rewritten in version 4's layout (no index by kind,
    // what was received one value per record: the notebook entry as the
    // server sent it), while no app page holds the database.
    const received = server.sql("SELECT body FROM journal WHERE kind = 'notebook_entry'");
    await page.goto(`${server.url}/manifest.webmanifest`);
    const version = await page.evaluate(async ({ accountId, received }) => {
      const name = `parcours-${accountId}`;
      const open = (v, upgrade) => new Promise((res, rej) => {
        const r = v ? indexedDB.open(name, v) : indexedDB.open(name);
        if (upgrade) r.onupgradeneeded = () => upgrade(r.result);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const all = (db, store) => new Promise((res, rej) => {
        const q = db.transaction(store).objectStore(store).getAll();
        q.onsuccess = () => res(q.result);
        q.onerror = () => rej(q.error);
      });
      const old = await open();
      const kept = {};
      for (const s of ['patients', 'records', 'outbox', 'items', 'mutations', 'quarantine']) kept[s] = await all(old, s);
      const meta = {};
      const tx0 = old.transaction('meta');
      await new Promise((res) => {
        const c = tx0.objectStore('meta').openCursor();
        c.onsuccess = () => { const cur = c.result; if (!cur) return res(); meta[cur.key] = cur.value; cur.continue(); };
      });
      old.close();
      await new Promise((res, rej) => { const r = indexedDB.deleteDatabase(name); r.onsuccess = res; r.onerror = rej; });
      const db = await open(4, (d) => {
        d.createObjectStore('patients', { keyPath: 'id' });
        d.createObjectStore('outbox', { keyPath: 'id' });
        d.createObjectStore('meta');
        d.createObjectStore('items', { keyPath: 'item.id' }).createIndex('by_patient', 'item.patient_id');
        d.createObjectStore('mutations', { keyPath: 'mutation_id' });
        d.createObjectStore('quarantine', { keyPath: 'key' });
        d.createObjectStore('records', { keyPath: 'id' }).createIndex('by_patient', 'patient_id');
      });
      const tx = db.transaction(Object.keys(kept).concat('meta'), 'readwrite');
      kept.records.push(JSON.parse(received));
      for (const [s, values] of Object.entries(kept)) for (const v of values) tx.objectStore(s).put(v);
      for (const [k, v] of Object.entries(meta)) tx.objectStore('meta').put(v, k);
      await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = rej; });
      const v = db.version;
      db.close();
      return v;
    }, { accountId: me.account_id, received });
    assert.equal(version, 4);

    // Offline: the new version upgrades what is on the phone, nothing else.
    await context.setOffline(true);
    await page.goto(server.url);
    await unlock(page);
    await page.getByRole('link', { name: /LEFÈVRE Jeanne.*1 message\(s\) non lu\(s\)/ }).waitFor();
    const upgraded = await page.evaluate(async (accountId) => {
      const db = await new Promise((res, rej) => {
        const r = indexedDB.open(`parcours-${accountId}`);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const out = {
        version: db.version,
        indexes: [...db.transaction('records').objectStore('records').indexNames],
        refused: db.objectStoreNames.contains('refused'),
        packs: db.objectStoreNames.contains('packs'),
      };
      db.close();
      return out;
    }, me.account_id);
    // Version 6 adds the refused list's store, version 7 the packs.
    assert.deepEqual(upgraded, { version: 7, indexes: ['by_kind', 'by_patient'], refused: true, packs: true });
  } finally {
    await context.close();
  }
});
