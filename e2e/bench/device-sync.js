// 100,000 records onto a fresh device (server → IndexedDB in headless
// Chromium), then 10,000 records from a device's outbox to the server.
// Prints JSON lines; asserts nothing.
//   node bench/device-sync.js [records]   (PARCOURS_SERVER_BIN, PARCOURS_DIST)
import { Server, phone, signIn, unlock } from '../tests/harness.js';
import { apiSession, assessment, push } from './common.js';

const RECORDS = Number(process.argv[2] || 100_000);
const server = await Server.start();
try {
  const nurse = await apiSession(server, 'claire', 'demo-claire');
  for (let i = 0; i < RECORDS; i += 500) {
    await push(server, nurse, Array.from({ length: Math.min(500, RECORDS - i) }, (_, k) => assessment(nurse, i + k)));
  }

  const { context, page } = await phone();
  try {
    await page.goto(server.url);
    await page.getByLabel('Identifiant').fill('dr.durand');
    await page.getByLabel('Mot de passe').fill('demo-durand');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    // Timed from the PIN's choice: the first sync starts once unlocked.
    const t0 = performance.now();
    await unlock(page);
    await page.getByText(/Dernière synchronisation/).waitFor({ timeout: 600_000 });
    const pullMs = performance.now() - t0;
    const stored = await page.evaluate(async () => {
      const name = (await indexedDB.databases()).find((d) => d.name.startsWith('parcours-')).name;
      const db = await new Promise((res) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); });
      return new Promise((res) => { const r = db.transaction('records').objectStore('records').count(); r.onsuccess = () => res(r.result); });
    });
    console.log(JSON.stringify({ bench: 'fresh_device_pull_into_indexeddb', records: stored, seconds: +(pullMs / 1000).toFixed(2), per_second: Math.round(stored / (pullMs / 1000)) }));

    // Device → server: 10,000 records put in the outbox as the app does, then one sync.
    const OUT = 10_000;
    const me = await page.evaluate(() => JSON.parse(localStorage.getItem('parcours.me')));
    await context.setOffline(true);
    await page.evaluate(async ({ me, n, patients }) => {
      const name = `parcours-${me.account_id}`;
      const db = await new Promise((res) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); });
      const tx = db.transaction(['records', 'outbox'], 'readwrite');
      for (let i = 0; i < n; i++) {
        const a = {
          kind: 'pain_assessment', id: crypto.randomUUID(), patient_id: patients[i % patients.length], recorded_at: Date.now(),
          author_id: me.account_id, device_id: me.device_id, mode: 'interview', pain_now: i % 11,
          pain_average_24h: 5, pain_worst_24h: Math.max(8, i % 11), location: 'Lombaires', note: 'x'.repeat(120), amends: null,
        };
        tx.objectStore('records').put(a);
        tx.objectStore('outbox').put(a);
      }
      await new Promise((res) => { tx.oncomplete = res; });
    }, { me, n: OUT, patients: nurse.patients });
    await page.reload();
    await unlock(page);
    await page.getByText(`${OUT} en attente`, { exact: true }).waitFor({ timeout: 60_000 });
    await context.setOffline(false);
    const t1 = performance.now();
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await page.getByText('0 en attente', { exact: true }).waitFor({ timeout: 600_000 });
    const pushMs = performance.now() - t1;
    console.log(JSON.stringify({ bench: 'device_push_to_server', records: OUT, seconds: +(pushMs / 1000).toFixed(2), per_second: Math.round(OUT / (pushMs / 1000)) }));
  } finally {
    await context.close();
  }
} finally {
  await server.stop();
}
