import { chromium } from 'playwright-core';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const p = await b.newPage();
await p.goto('file:///tmp/cb/x.html');
const r = await p.evaluate(async () => {
  const out = {};
  out.secure = isSecureContext;
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const enc = new TextEncoder();
  const payload = enc.encode(JSON.stringify({ kind: 'diary_entry', id: crypto.randomUUID(), patient_id: crypto.randomUUID(), note: 'x'.repeat(300), pain_now: 5, pain_average: 4, medicines: [{ name: 'Paracétamol 1 g' }] }));
  out.bytes = payload.length;
  for (const n of [1000, 1000, 10000]) {
    let t = performance.now();
    const cts = await Promise.all(Array.from({ length: n }, () => { const iv = crypto.getRandomValues(new Uint8Array(12)); return crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, payload).then(c => [iv, c]); }));
    const te = performance.now() - t;
    t = performance.now();
    await Promise.all(cts.map(([iv, c]) => crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, c)));
    const td = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 200; i++) { const iv = crypto.getRandomValues(new Uint8Array(12)); await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, payload); }
    const ts = (performance.now() - t) / 200;
    out['n' + n + '_' + Math.random().toFixed(2)] = { enc_ms: te.toFixed(1), dec_ms: td.toFixed(1), one_serial_ms: ts.toFixed(3) };
  }
  // pbkdf2 cost
  for (const it of [100000, 310000, 600000]) {
    const base = await crypto.subtle.importKey('raw', enc.encode('123456'), 'PBKDF2', false, ['deriveKey']);
    const t = performance.now();
    await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: crypto.getRandomValues(new Uint8Array(16)), iterations: it }, base, { name: 'AES-KW', length: 256 }, false, ['wrapKey', 'unwrapKey']);
    out['pbkdf2_' + it] = (performance.now() - t).toFixed(0);
  }
  return out;
});
console.log(JSON.stringify(r, null, 1));
await b.close();
