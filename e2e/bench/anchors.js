// Issue 11's comparison, in one run on one machine, on the same records:
// PouchDB 9 replicating with express-pouchdb (the anchor,
// ../shared/anchors/pouch_bench.mjs) and Parcours, on N records of the
// anchors' own generator (records.js, seed 11), each a Parcours
// `pain_assessment` with the same fields. For each N: a fresh phone pulling
// everything into IndexedDB (rec/s, and the server's peak RSS meanwhile),
// and a phone's outbox pushed to the server (rec/s); then the ratios.
// Prints JSON lines; asserts nothing.
//   node bench/anchors.js [N…]    (default 20000 100000)
// Needs the anchors' Node modules in ANCHORS_DIR (scripts/lib.sh
// ensure_anchors installs them) and PARCOURS_SERVER_BIN, PARCOURS_DIST.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, phone, unlock } from '../tests/harness.js';
import { apiSession, push } from './common.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ANCHORS = process.env.PARCOURS_ANCHORS || path.join(HERE, '..', '..', '..', 'shared', 'anchors');
const ANCHORS_DIR = process.env.ANCHORS_DIR || path.join(os.tmpdir(), 'anchors');
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const { makeRecords } = createRequire(import.meta.url)(path.join(ANCHORS, 'records.js'));

/** The anchor's records as Parcours records of this nurse (her patients stand for the anchor's 200). */
function asParcours(n, nurse) {
  const patients = new Map();
  return makeRecords(n, 11).map((r) => {
    if (!patients.has(r.patient_id)) patients.set(r.patient_id, nurse.patients[patients.size % nurse.patients.length]);
    return {
      kind: 'pain_assessment', id: r.id, patient_id: patients.get(r.patient_id),
      author_id: nurse.accountId, device_id: nurse.deviceId, recorded_at: Date.parse(r.recorded_at),
      mode: 'interview', pain_now: r.pain_now, pain_average_24h: r.pain_avg, pain_worst_24h: r.pain_worst,
      location: r.location, note: r.note, amends: null,
    };
  });
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

async function signInToPin(page, server) {
  await page.goto(server.url);
  await page.getByLabel('Identifiant').fill('claire');
  await page.getByLabel('Mot de passe').fill('demo-claire');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByLabel('Nouveau code (6 chiffres)').waitFor();
}

/** A fresh phone pulls everything the server holds for the nurse. */
async function parcoursPull(n) {
  const server = await Server.start();
  try {
    const nurse = await apiSession(server, 'claire', 'demo-claire');
    const records = asParcours(n, nurse);
    for (let i = 0; i < n; i += 500) await push(server, nurse, records.slice(i, i + 500), 4);
    const { context, page } = await phone();
    try {
      await signInToPin(page, server);
      let peak = rssMb(server.proc.pid);
      const before = peak;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) { peak = Math.max(peak, rssMb(server.proc.pid)); await new Promise((r) => setTimeout(r, 100)); }
      })();
      // Timed in the page, as PouchDB's replication is: from the sync's
      // first request (its start in the page's resource timings) to
      // "Dernière synchronisation" on screen (a MutationObserver). Through
      // Playwright (its request event, its polling of the text) the same
      // pull read ~0.3 s longer. Beside it, on Node's clock, from the PIN
      // typed: the PIN's key derivation (PBKDF2, ~90 ms) is part of a real
      // first sign-in but not of a replication.
      await page.evaluate(() => {
        new MutationObserver((_, observer) => {
          if (!document.body.textContent.includes('Dernière synchronisation')) return;
          window.__synced = performance.now();
          observer.disconnect();
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      const t0 = performance.now();
      await unlock(page);
      await page.getByText(/Dernière synchronisation/).waitFor({ timeout: 900_000 });
      const end = performance.now();
      sampling = false;
      await sampler;
      const sync = await page.evaluate(() => {
        const unlocked = performance.getEntriesByName('parcours:unlocked')[0].startTime;
        const first = performance.getEntriesByType('resource')
          .find((r) => r.startTime >= unlocked && new URL(r.name).pathname.startsWith('/api/'));
        return (window.__synced - first.startTime) / 1000;
      });
      return {
        seconds_from_pin: (end - t0) / 1000, seconds: sync, per_second: n / sync,
        rss_before_mb: before, rss_peak_mb: peak,
      };
    } finally {
      await context.close();
    }
  } finally {
    await server.stop();
  }
}

/**
 * A phone's outbox of N records pushed to the server. The records are put
 * in the phone's store before its first PIN, as a phone updated from a
 * version without encryption holds them; the PIN seals them (offline, not
 * timed); then the push is timed, sealed values opened as the app sends them.
 */
async function parcoursPush(n) {
  const server = await Server.start();
  try {
    const nurse = await apiSession(server, 'claire', 'demo-claire');
    const { context, page, setOnline, setReachable } = await phone();
    // Sealing N records at the first PIN takes a while: not the default 15 s.
    page.setDefaultTimeout(600_000);
    try {
      await signInToPin(page, server);
      const me = await page.evaluate(() => JSON.parse(localStorage.getItem('parcours.me')));
      const records = asParcours(n, { ...nurse, accountId: me.account_id, deviceId: me.device_id });
      await page.evaluate(async ({ records, account }) => {
        const db = await new Promise((res, rej) => { const r = indexedDB.open(`parcours-${account}`); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
        for (let i = 0; i < records.length; i += 1000) {
          const tx = db.transaction(['records', 'outbox'], 'readwrite');
          for (const r of records.slice(i, i + 1000)) { tx.objectStore('records').put(r); tx.objectStore('outbox').put(r); }
          await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
        }
        db.close();
      }, { records, account: me.account_id });
      await setOnline(false);
      await unlock(page);
      await page.getByText(`${n} en attente`, { exact: true }).waitFor({ timeout: 300_000 });
      // Timed in the page, from the tap on "Synchroniser" to the moment the
      // screen says the outbox is empty (a wait from here would also count
      // the pull that follows, which keeps the page busy and delays
      // Playwright's polling). The tap comes with nothing else under way:
      // the phone is back online (its own sync at 'online' fails, the
      // server out of reach), then the server is reached again with no
      // change in the browser. Going online by Playwright's emulation
      // while a sync ran held the page ~0.3 s (measured: the page's first
      // read waited 0.30–0.33 s, setOffline took as long to return; toggled
      // with nothing to send, 1–3 ms) — and until session 16 the tap could
      // come after a sync the app started at 'online' (docs/performance.md,
      // session 17).
      await page.getByRole('button', { name: 'Synchroniser' }).waitFor();
      // The browser online, the connections still cut (`setOnline(false)`).
      await context.setOffline(false);
      await page.getByText(/Serveur injoignable/).waitFor();
      await page.evaluate(async () => {
        const syncing = async () => (await navigator.locks.query()).held.some((l) => l.name === 'parcours-sync');
        while (await syncing()) await new Promise((resolve) => setTimeout(resolve, 10));
        window.__emptied = new Promise((resolve) => {
          const seen = () => document.querySelector('.sync .pending')?.textContent === '0 en attente';
          new MutationObserver(() => { if (seen()) resolve(performance.now()); })
            .observe(document.body, { subtree: true, childList: true, characterData: true });
        });
      });
      setReachable(true);
      const [ms, removedMs] = await page.evaluate(async (account) => {
        // A retry of the app's (2 s after the failure, then 4, 8…) that
        // began before the tap would be timed short: refused, not reported.
        if ((await navigator.locks.query()).held.some((l) => l.name === 'parcours-sync')) {
          throw new Error('a sync began before the tap: not timed');
        }
        const t0 = performance.now();
        document.querySelector('.sync button').click();
        const emptied = (await window.__emptied) - t0;
        // Said beside the push's figure: when the device's outbox store is
        // empty (polled every 50 ms from "0 en attente"). From session 15 a
        // push marks what the server acknowledged and the entries are
        // removed after the sync (its pull included): the push's figure
        // ends when nothing waits, this one when the store is tidied
        // (docs/sync-protocol.md, docs/performance.md).
        const db = await new Promise((res, rej) => { const r = indexedDB.open(`parcours-${account}`); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
        for (;;) {
          const left = await new Promise((res) => { const q = db.transaction('outbox').objectStore('outbox').count(); q.onsuccess = () => res(q.result); });
          if (left === 0) break;
          await new Promise((res) => setTimeout(res, 50));
        }
        db.close();
        return [emptied, performance.now() - t0];
      }, me.account_id);
      return { seconds: ms / 1000, per_second: n / (ms / 1000), outbox_store_empty_seconds: removedMs / 1000 };
    } finally {
      await context.close();
    }
  } finally {
    await server.stop();
  }
}

function pouch(n) {
  const out = execFileSync(process.execPath, [path.join(ANCHORS, 'pouch_bench.mjs'), String(n), '1'], {
    encoding: 'utf8', env: { ...process.env, ANCHORS_DIR }, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24,
  });
  const r = JSON.parse(out);
  const median = (m) => (typeof m === 'object' ? m.median : m);
  return { push_per_second: median(r.push_rps), pull_per_second: median(r.pull_rps), rss_peak_mb: median(r.rss_peak_pull_mb) };
}

const round = (x, d = 0) => Number(x.toFixed(d));
for (const n of sizes.length ? sizes : [20_000, 100_000]) {
  const anchor = pouch(n);
  console.log(JSON.stringify({ bench: 'pouchdb_anchor', records: n, ...Object.fromEntries(Object.entries(anchor).map(([k, v]) => [k, round(v)])) }));
  const pulled = await parcoursPull(n);
  console.log(JSON.stringify({ bench: 'parcours_fresh_device_pull', records: n, seconds: round(pulled.seconds, 2), per_second: round(pulled.per_second), seconds_from_pin: round(pulled.seconds_from_pin, 2), server_rss_peak_mb: round(pulled.rss_peak_mb), server_rss_before_mb: round(pulled.rss_before_mb) }));
  const pushed = await parcoursPush(n);
  console.log(JSON.stringify({ bench: 'parcours_outbox_push', records: n, seconds: round(pushed.seconds, 2), per_second: round(pushed.per_second), outbox_store_empty_seconds: round(pushed.outbox_store_empty_seconds, 2) }));
  console.log(JSON.stringify({
    bench: 'ratios_parcours_over_pouchdb', records: n,
    pull: round(pulled.per_second / anchor.pull_per_second, 1),
    push: round(pushed.per_second / anchor.push_per_second, 1),
    server_rss_peak: round(pulled.rss_peak_mb / anchor.rss_peak_mb, 3),
  }));
}
