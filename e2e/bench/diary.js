// The patient's diary on a phone (headless Chromium, 360 × 740). Measures,
// printing JSON lines and asserting nothing:
//  - what a patient downloads before their first screen: the activation
//    page on a fresh phone, and the diary of a returning patient whose
//    cached files are gone — bytes on the wire and as brotli, by file;
//  - saving a diary entry on the device, offline: the tap on "Enregistrer"
//    to the confirmation on screen, p50/p95; the device store's part,
//    started by a tap and by a script — and, in the same page, the raw
//    IndexedDB anchors (one put per transaction, awaiting its completion),
//    started by a tap, and by a script back to back and after a pause;
//  - drawing the trajectory of two years of daily entries at 360 px: the
//    patient's own home, and the team's view of the patient's page.
//   node bench/diary.js [saves]   (PARCOURS_SERVER_BIN, PARCOURS_DIST as for the tests)
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DIST, Server, phone, signIn, tapScore, unlock, waitForServiceWorker } from '../tests/harness.js';
import { apiSession, includePatient, patientSession, push } from './common.js';

const saves = Number(process.argv[2] || 40);
const DAY = 86_400_000;
const pct = (arr, p) => [...arr].sort((a, b) => a - b)[Math.min(arr.length - 1, Math.floor((p / 100) * arr.length))];
const summary = (bench, samples, extra = {}) => console.log(JSON.stringify({
  bench, runs: samples.length, p50: Number(pct(samples, 50).toFixed(1)), p95: Number(pct(samples, 95).toFixed(1)),
  max: Number(Math.max(...samples).toFixed(1)), ...extra,
}));

/** Two years of daily entries, as the patient's phone would have sent them. */
function diary(session, now) {
  const out = [];
  for (let d = 730; d >= 1; d--) {
    const at = now - d * DAY;
    const average = 3 + ((d * 5) % 5);
    out.push({
      kind: 'diary_entry', id: randomUUID(), patient_id: session.patients[0], author_id: session.accountId,
      device_id: session.deviceId, recorded_at: at, amends: null, on: new Date(at).toISOString().slice(0, 10),
      pain_now: average, pain_average: average, pain_worst: Math.min(10, average + 2), sleep: (d * 3) % 11,
      activities: d % 2 ? [{ what: 'Marche', minutes: 20 + (d % 40) }] : [],
      medicines: [{ name: 'Paracétamol 1 g', as_needed: false }], mood: 'so_so',
      better: 'La chaleur', worse: '', note: '',
    });
  }
  return out;
}

async function patientSignIn(page, server) {
  await page.goto(server.url);
  await page.getByLabel('Identifiant').fill('jeanne.lefevre');
  await page.getByLabel('Mot de passe').fill('mon jardin fleuri');
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await unlock(page);
  await page.getByRole('heading', { name: 'Mon journal de douleur' }).waitFor();
}

const server = await Server.start();
try {
  const gp = await apiSession(server, 'dr.durand', 'demo-durand');
  const nurse = await apiSession(server, 'claire', 'demo-claire');
  const jeanne = await includePatient(server, gp, 'Lefèvre');

  // 1. Before the first screen: a new patient opening their invitation's
  // link on a fresh phone (the activation page), then a returning patient
  // whose phone kept their sign-in but lost every cached file (the diary).
  // Counted: every file the page fetched before the screen showed — bytes
  // on the wire here (plain HTTP), and as brotli (what the server sends a
  // phone over HTTPS: the .br twins in dist/).
  {
    const { context, page } = await phone();
    const files = new Map();
    let counting = true;
    page.on('response', async (response) => {
      if (!counting) return;
      const url = new URL(response.url());
      if (url.pathname.startsWith('/api/')) return;
      const sizes = await response.request().sizes().catch(() => null);
      if (sizes) files.set(url.pathname, sizes.responseBodySize + sizes.responseHeadersSize);
    });
    // The moment the first screen is in the document, in the page (the
    // activation page's heading, the lock screen's PIN field): Playwright's
    // own wait polls and may return after the app has begun loading the
    // next page's module in the background (`preload_route_at`), which
    // comes after the first screen and is not counted.
    await context.addInitScript(() => {
      const seen = new MutationObserver(() => {
        const shown = document.getElementById('pin')
          || [...document.querySelectorAll('h1, h2')].some((h) => h.textContent.includes('Activer mon compte'));
        if (!shown) return;
        seen.disconnect();
        window.__firstScreen = performance.now();
      });
      seen.observe(document, { subtree: true, childList: true });
    });
    const report = async (bench, { firstScreen = false } = {}) => {
      const before = firstScreen && new Set(await page.evaluate(() => performance.getEntriesByType('resource')
        .filter((e) => e.startTime <= window.__firstScreen)
        .map((e) => new URL(e.name).pathname)
        .concat(location.pathname)));
      // What came after the first screen is left for the next count.
      const counted = new Map([...files].filter(([p]) => !before || before.has(p)));
      const byFile = Object.fromEntries([...counted.entries()].map(([p, n]) => [p.replace(/^\/pkg\/[0-9a-f]{16}\//, ''), n]));
      const wire = [...counted.values()].reduce((a, b) => a + b, 0);
      const brotli = [...counted.keys()].reduce((sum, p) => {
        const file = path.join(DIST, p === '/' || !path.extname(p) ? 'index.html' : p);
        return sum + (existsSync(`${file}.br`) ? statSync(`${file}.br`).size : 0);
      }, 0);
      console.log(JSON.stringify({ bench, brotli, wire, files: byFile }));
      for (const p of counted.keys()) files.delete(p);
    };
    try {
      const invite = await fetch(`${server.url}/api/patients/${jeanne}/invitations`, { method: 'POST', headers: { cookie: nurse.cookie } });
      const { code } = await invite.json();
      await page.goto(`${server.url}/activer#${code}`);
      await page.getByRole('heading', { name: 'Activer mon compte' }).waitFor();
      await report('patient_activation_first_screen_bytes', { firstScreen: true });
      counting = false;
      await page.getByLabel('Identifiant choisi').fill('jeanne.lefevre');
      await page.getByLabel('Mot de passe choisi').fill('mon jardin fleuri');
      await page.getByLabel('Mot de passe, une seconde fois').fill('mon jardin fleuri');
      await page.getByRole('button', { name: 'Activer et ouvrir mon journal' }).click();
      await unlock(page);
      await page.getByRole('heading', { name: 'Mon journal de douleur' }).waitFor();
      await waitForServiceWorker(page);
      // Every cached file gone, the sign-in kept.
      await page.evaluate(async () => {
        for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
        for (const k of await caches.keys()) await caches.delete(k);
      });
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.clearBrowserCache');
      files.clear();
      counting = true;
      await page.goto(`${server.url}/journal`);
      // Her first screen is the lock screen (the main module's); her
      // diary's module loads after the PIN.
      await page.getByLabel('Code de ce téléphone').waitFor();
      await report('patient_returning_first_screen_lock_bytes', { firstScreen: true });
      await unlock(page);
      await page.getByText("Vous n'avez pas encore rempli votre journal aujourd'hui.").waitFor();
      await report('patient_diary_after_pin_bytes');
      counting = false;
    } finally {
      await context.close();
    }
  }

  // Her account, as the rest needs it (a new code: the phone above is signed out).
  const patient = await patientSession(server, nurse, jeanne, 'jeanne.lefevre', 'mon jardin fleuri');

  // 2. Saves on the device, offline.
  {
    const { context, page, setOnline } = await phone();
    try {
      await patientSignIn(page, server);
      await waitForServiceWorker(page);
      await page.getByText(/Dernière synchronisation/).waitFor();
      await setOnline(false);
      // Each save as a person makes it: the three scores tapped, a pause
      // (a person's next tap comes a few hundred milliseconds later), then
      // "Enregistrer" tapped — a real touch. After a touch, Chromium puts
      // the next frame before other work, an IndexedDB answer included: a
      // save started by a tap finishes after that frame, whatever it does
      // (measured: a raw put started by a tap, below, takes a frame too).
      // So each save is timed twice over, on alternate entries: started by
      // a tap, and started by a script's click with no input around it —
      // the condition of the quiet anchors. Timed in the page: from the
      // input (the touch's own time stamp, or the click), the entry sealed
      // and committed on the device (the app's "parcours:saved" mark), the
      // confirmation drawn; and the device store's part alone, from the
      // app's "parcours:save" mark.
      const tapped = { shown: [], saved: [], stored: [] };
      const scripted = { stored: [] };
      for (let i = 0; i < 2 * saves + 3; i++) {
        await page.getByRole('link', { name: /Remplir mon journal du jour|Ajouter une note/ }).click();
        await tapScore(page, 'Ma douleur en ce moment', 4);
        await tapScore(page, "Ma douleur en moyenne aujourd'hui", 5);
        await tapScore(page, "Ma douleur la plus forte aujourd'hui", 7);
        const button = page.getByRole('button', { name: 'Enregistrer', exact: true });
        await button.waitFor();
        await page.waitForTimeout(300);
        const byTap = i % 2 === 0;
        await page.evaluate((byTap) => {
          window.__saved = new Promise((resolve) => {
            performance.clearMarks('parcours:save');
            performance.clearMarks('parcours:saved');
            let t0 = null;
            let saved = null;
            const input = (event) => { t0 ??= event.timeStamp; };
            document.addEventListener('touchstart', input, { capture: true, once: true });
            const done = () => {
              if (saved !== null && document.body.textContent.includes('Enregistré sur votre téléphone.')) {
                marks.disconnect();
                drawn.disconnect();
                const save = performance.getEntriesByName('parcours:save')[0].startTime;
                resolve({ saved: saved - t0, stored: saved - save, shown: performance.now() - t0 });
              }
            };
            const marks = new PerformanceObserver((list) => {
              const mark = list.getEntriesByName('parcours:saved')[0];
              if (mark) { saved = mark.startTime; done(); }
            });
            marks.observe({ entryTypes: ['mark'] });
            const drawn = new MutationObserver(done);
            drawn.observe(document.body, { subtree: true, childList: true, characterData: true });
            if (!byTap) {
              t0 = performance.now();
              [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Enregistrer').click();
            }
          });
        }, byTap);
        if (byTap) await button.tap();
        const { saved, stored, shown } = await page.evaluate(() => window.__saved);
        await page.getByText('Enregistré sur votre téléphone.').waitFor();
        if (i < 3) continue;
        if (byTap) {
          tapped.shown.push(shown);
          tapped.saved.push(saved);
          tapped.stored.push(stored);
        } else {
          scripted.stored.push(stored);
        }
      }
      summary('diary_entry_save_tap_to_confirmation_ms', tapped.shown);
      summary('diary_entry_save_tap_to_sealed_and_committed_ms', tapped.saved);
      summary('diary_entry_save_call_to_sealed_and_committed_ms', tapped.stored, { started_by: 'a tap' });
      summary('diary_entry_save_call_to_sealed_and_committed_ms', scripted.stored, { started_by: 'a script, no input' });
      // A raw put (one ~450-byte record, one store) started by a tap, as a
      // save is: the floor of anything a tap starts in IndexedDB.
      const db = `anchor-tap-${Date.now()}`;
      await page.evaluate(async (name) => {
        const db = await new Promise((resolve, reject) => {
          const request = indexedDB.open(name, 1);
          request.onupgradeneeded = () => request.result.createObjectStore('a', { keyPath: 'id' });
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        window.__afterTap = [];
        let i = 0;
        document.addEventListener('click', () => {
          const t0 = performance.now();
          const tx = db.transaction('a', 'readwrite');
          tx.objectStore('a').put({ id: `t${i++}`, note: 'x'.repeat(400), pain_now: i % 11 });
          tx.oncomplete = () => window.__afterTap.push(performance.now() - t0);
        });
      }, db);
      for (let k = 0; k < saves; k++) {
        await page.waitForTimeout(300);
        await page.getByRole('heading').first().tap();
      }
      await page.waitForFunction((n) => window.__afterTap.length >= n, saves);
      summary('raw_indexeddb_single_put_after_a_tap_ms', await page.evaluate(() => window.__afterTap));
      // Two anchors in the same page, one ~450-byte record per readwrite
      // transaction, each awaited: raw IndexedDB, one store; and as the app
      // keeps a record (issue 10: nothing in clear on the device) — its JSON
      // sealed with AES-GCM (WebCrypto, a key that cannot leave the
      // browser), then put in two stores (the record and the outbox) in one
      // transaction: the floor of a sealed save, without the app around it.
      // Each is timed twice: back to back (as the anchors' own script puts)
      // and after the 300 ms pause the quiet saves above had, started by a
      // script too. After a pause the browser's database is slower to
      // answer (measured: a raw put 1.6 / 2.2 ms after 300 ms, 0.5 / 0.7
      // back to back, in the same page); a person's save always comes
      // after one, so that is the anchor the quiet save is compared with.
      const anchors = await page.evaluate(async ([n, quiet, pause]) => {
        const open = (name, stores) => new Promise((resolve, reject) => {
          const request = indexedDB.open(`${name}-${Date.now()}`, 1);
          request.onupgradeneeded = () => stores.forEach((s) => request.result.createObjectStore(s, { keyPath: 'id' }));
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        // Each put's latency, from `value(i)` made to its transaction
        // complete; `wait` ms of nothing before each.
        const timed = async (db, stores, value, runs, wait) => {
          const lat = [];
          for (let i = 0; i < runs; i++) {
            if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
            const t0 = performance.now();
            const v = await value(i);
            await new Promise((resolve, reject) => {
              const tx = db.transaction(stores, 'readwrite');
              for (const s of stores) tx.objectStore(s).put(v);
              tx.oncomplete = resolve;
              tx.onerror = () => reject(tx.error);
            });
            lat.push(performance.now() - t0);
          }
          return lat;
        };
        const record = (i) => ({ id: `r${i}`, note: 'x'.repeat(400), pain_now: i % 11 });
        const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
        const sealedRecord = async (i) => {
          const id = `r${i}`;
          const iv = crypto.getRandomValues(new Uint8Array(12));
          const text = JSON.stringify({ id, note: 'x'.repeat(400), pain_now: i % 11 });
          const data = await crypto.subtle.encrypt(
            { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(`records:${id}`) },
            key, new TextEncoder().encode(text),
          );
          return { id, sealed: { iv, data } };
        };
        const [raw, sealed] = [await open('anchor', ['a']), await open('anchor-sealed', ['a', 'b'])];
        const out = {
          raw: await timed(raw, ['a'], record, n, 0),
          sealed: await timed(sealed, ['a', 'b'], sealedRecord, n, 0),
          // Ids after the ones above: each put is a new record.
          rawAfterPause: await timed(raw, ['a'], (i) => record(n + i), quiet, pause),
          sealedAfterPause: await timed(sealed, ['a', 'b'], (i) => sealedRecord(n + i), quiet, pause),
        };
        raw.close();
        sealed.close();
        return out;
      }, [200, saves, 300]);
      summary('raw_indexeddb_single_put_ms', anchors.raw, { started: 'back to back' });
      summary('raw_sealed_indexeddb_put_two_stores_ms', anchors.sealed, { started: 'back to back' });
      summary('raw_indexeddb_single_put_ms', anchors.rawAfterPause, { started: 'by a script, 300 ms after the last' });
      summary('raw_sealed_indexeddb_put_two_stores_ms', anchors.sealedAfterPause, { started: 'by a script, 300 ms after the last' });
    } finally {
      await context.close();
    }
  }

  // 3. Two years of daily entries: the trajectory drawn.
  const all = diary(patient, Date.now());
  for (let i = 0; i < all.length; i += 400) await push(server, patient, all.slice(i, i + 400), 4);
  {
    const { context, page } = await phone();
    try {
      await patientSignIn(page, server);
      await page.getByText(/Dernière synchronisation/).waitFor({ timeout: 120_000 });
      const chart = page.getByRole('img', { name: 'Évolution de la douleur (0 à 10)' });
      const times = [];
      for (let i = 0; i < 12; i++) {
        const t0 = performance.now();
        await page.reload();
        await unlock(page);
        await chart.waitFor();
        if (i >= 2) times.push(performance.now() - t0);
      }
      summary('patient_home_reload_to_chart_2_years_ms', times, { entries: all.length });
    } finally {
      await context.close();
    }
  }
  {
    const { context, page } = await phone();
    try {
      await signIn(page, server, 'claire', 'demo-claire');
      await page.getByText(/Dernière synchronisation/).waitFor({ timeout: 120_000 });
      const link = page.getByRole('link', { name: /LEFÈVRE Jeanne/ });
      const chart = page.getByRole('img', { name: 'Évolution de la douleur (0 à 10)' });
      // Timed in the page: the tap on the patient's card to the chart drawn
      // with its two years (a MutationObserver), as the other benches do.
      const tapToChart = () => page.evaluate(() => new Promise((resolve) => {
        const seen = () => {
          if (!document.querySelector('svg[role="img"] path.daily')) return;
          observer.disconnect();
          resolve(performance.now() - t0);
        };
        const observer = new MutationObserver(seen);
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
        const t0 = performance.now();
        [...document.querySelectorAll('a')].find((a) => a.textContent.includes('LEFÈVRE Jeanne')).click();
      }));
      // Three ways a nurse taps: at once, the moment her list appears
      // (before the app has fetched the patient page's module, which it
      // does once the list is drawn and the browser idle); after 300 ms, a
      // person's quickest reaction to what appeared; or after a look at
      // the list (a second), when whatever the app does after drawing it
      // has had its time.
      const waits = { at_once: 0, after_300_ms: 300, after_a_second: 1000 };
      const times = Object.fromEntries(Object.keys(waits).map((k) => [k, []]));
      const order = Object.keys(waits);
      for (let i = 0; i < 36; i++) {
        const how = order[i % order.length];
        await page.goto(server.url);
        await unlock(page);
        await link.waitFor();
        if (waits[how]) await page.waitForTimeout(waits[how]);
        const ms = await tapToChart();
        await chart.waitFor();
        if (i >= 6) times[how].push(ms);
      }
      const points = await chart.locator('path.daily').getAttribute('d');
      const daily_points = (points.match(/[ML]/g) || []).length;
      summary('team_patient_page_tap_at_once_to_chart_2_years_ms', times.at_once, { entries: all.length, daily_points });
      summary('team_patient_page_tap_after_300_ms_to_chart_2_years_ms', times.after_300_ms, { entries: all.length, daily_points });
      summary('team_patient_page_tap_after_a_second_to_chart_2_years_ms', times.after_a_second, { entries: all.length, daily_points });
    } finally {
      await context.close();
    }
  }
} finally {
  await server.stop();
}
