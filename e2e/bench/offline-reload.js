// Measures the time from a reload with no network to the caseload on screen,
// at phone size, with the app served by its service worker and the data read
// from IndexedDB. Prints one JSON line; nothing is asserted.
//
//   node bench/offline-reload.js [runs]    (PARCOURS_SERVER_BIN, PARCOURS_DIST as for the tests)
import { Server, phone, signIn, waitForServiceWorker } from '../tests/harness.js';

const runs = Number(process.argv[2] || 20);
const server = await Server.start();
const { context, page } = await phone();
try {
  await signIn(page, server, 'claire', 'demo-claire');
  await waitForServiceWorker(page);
  await page.getByText('0 en attente', { exact: true }).waitFor();
  await context.setOffline(true);
  const caseload = page.getByRole('list', { name: 'Patients' });
  const samples = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    await page.reload();
    await caseload.waitFor();
    const ms = performance.now() - t0;
    // The page's own clock: from navigation start to now (the list is shown).
    const inPage = await page.evaluate(() => performance.now());
    if (i >= 2) samples.push({ ms, inPage }); // two warm-up reloads
  }
  const sorted = (key) => samples.map((s) => s[key]).sort((a, b) => a - b);
  const pct = (arr, p) => arr[Math.min(arr.length - 1, Math.floor((p / 100) * arr.length))];
  const wall = sorted('ms');
  const page_ = sorted('inPage');
  console.log(JSON.stringify({
    bench: 'offline_reload_to_caseload_ms', runs,
    median: Math.round(pct(wall, 50)), p95: Math.round(pct(wall, 95)), max: Math.round(wall[wall.length - 1]),
    in_page_median: Math.round(pct(page_, 50)),
  }));
} finally {
  await context.close();
  await server.stop();
}
