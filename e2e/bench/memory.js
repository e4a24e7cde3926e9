// Server memory while 200 devices sync at once: each pushes 5 × 100 records
// and pulls everything in pages of 2,000 (the app's). Samples the server's
// RSS; prints JSON; asserts nothing.
// An account holds at most 3 sync requests at once (429 beyond, docs/sync-
// protocol.md): a device told so tries again a moment later, as the app does.
//   node bench/memory.js [devices]   (PARCOURS_SERVER_BIN, PARCOURS_DIST)
import { readFileSync } from 'node:fs';
import { Server } from '../tests/harness.js';
import { apiSession, assessment, push } from './common.js';

const DEVICES = Number(process.argv[2] || 200);
const server = await Server.start();
const status = () => readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
// A request whose connection closed under it (seen under this load, among
// the 429s) is tried again too, as a phone would.
const busy = (e) => /\b429\b/.test(String(e?.message)) || ['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(e?.cause?.code);
async function again(step) {
  for (;;) {
    try { return await step(); } catch (e) {
      if (!busy(e)) throw e;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }
}
async function pullAll(s) {
  let cursor = '';
  let n = 0;
  for (;;) {
    const page = await again(async () => {
      const res = await fetch(`${server.url}/api/sync/pull?cursor=${cursor}&limit=2000`, { headers: { cookie: s.cookie } });
      if (res.status !== 200) throw new Error(`pull: ${res.status} ${await res.text()}`);
      return res.json();
    });
    n += page.records.length + page.items.length;
    cursor = page.next_cursor;
    if (!page.has_more) return n;
  }
}
const kb = (key) => Number(status().match(new RegExp(`${key}:\\s+(\\d+) kB`))[1]);
try {
  const idle = kb('VmRSS');
  const accounts = [['claire', 'demo-claire'], ['dr.durand', 'demo-durand'], ['lea', 'demo-lea'], ['sophie', 'demo-sophie']];
  const sessions = [];
  for (let i = 0; i < DEVICES; i++) sessions.push(await apiSession(server, ...accounts[i % accounts.length]));
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, kb('VmRSS')); }, 20);
  const t0 = performance.now();
  await Promise.all(sessions.map(async (s, d) => {
    for (let b = 0; b < 5; b++) {
      const records = Array.from({ length: 100 }, (_, k) => assessment(s, d * 1000 + b * 100 + k));
      await again(() => push(server, s, records));
    }
    await pullAll(s);
  }));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  console.log(JSON.stringify({
    bench: 'server_memory_200_devices', devices: DEVICES, records: DEVICES * 500, seconds: +seconds.toFixed(2),
    rss_idle_mb: +(idle / 1024).toFixed(1), rss_peak_sampled_mb: +(peak / 1024).toFixed(1), vm_hwm_mb: +(kb('VmHWM') / 1024).toFixed(1),
  }));
} finally {
  await server.stop();
}
