// A pull that starts over (the server no longer knows the phone's cursor,
// as after a restore): everything comes again, and once the new pull is
// complete the phone holds each record once — the packs from before, kept
// until then so the screens never go empty, are gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, recordsHeld } from './harness.js';
import { apiSession, assessment, push } from '../bench/common.js';

let server;
before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

/** The packs' numbers, the ids they hold in all, and the start-over mark. */
async function packs(page) {
  return page.evaluate(async () => {
    const name = (await indexedDB.databases()).find((d) => d.name.startsWith('parcours-')).name;
    const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const ask = (request) => new Promise((res, rej) => { request.onsuccess = () => res(request.result); request.onerror = () => rej(request.error); });
    const tx = db.transaction(['pack_ids', 'meta']);
    const all = await ask(tx.objectStore('pack_ids').getAll());
    const out = {
      numbers: [...new Set(all.map((p) => Number(p.key.split(':')[0])))],
      ids: all.reduce((n, p) => n + p.ids.length, 0),
      mark: (await ask(tx.objectStore('meta').get('packs_before'))) ?? null,
    };
    db.close();
    return out;
  });
}

test('a pull that starts over leaves each record once', async () => {
  const nurse = await apiSession(server, 'claire', 'demo-claire');
  // 2,500 assessments of Claire's patients, written elsewhere: two pages.
  const records = Array.from({ length: 2500 }, (_, i) => assessment(nurse, i));
  for (let i = 0; i < records.length; i += 500) await push(server, nurse, records.slice(i, i + 500), 4);
  const { page, context } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await page.getByText(/Dernière synchronisation/).waitFor();
    const held = await recordsHeld(page);
    assert.ok(held >= 2500, `held ${held}`);
    const first = await packs(page);
    assert.equal(first.ids, held, 'each record once');
    assert.equal(first.mark, null);

    // The server no longer knows the phone's cursor; ten more records meanwhile.
    await page.evaluate(async () => {
      const name = (await indexedDB.databases()).find((d) => d.name.startsWith('parcours-')).name;
      const db = await new Promise((res) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); });
      const tx = db.transaction('meta', 'readwrite');
      tx.objectStore('meta').put('un curseur que ce serveur n’a jamais donné', 'pull_cursor_v4');
      await new Promise((res) => { tx.oncomplete = res; });
      db.close();
    });
    await push(server, nurse, Array.from({ length: 10 }, (_, i) => assessment(nurse, 3000 + i)), 4);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    const deadline = Date.now() + 30_000;
    while ((await packs(page)).mark !== null || await recordsHeld(page) < held + 10) {
      assert.ok(Date.now() < deadline, 'the pull that started over did not complete');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(await recordsHeld(page), held + 10);
    const after = await packs(page);
    assert.equal(after.ids, held + 10, 'each record once: the packs from before are gone');
    assert.equal(after.mark, null, 'the start-over is complete');
    const oldest = Math.max(...first.numbers);
    assert.ok(after.numbers.every((n) => n > oldest), `only new packs: ${after.numbers} after ${first.numbers}`);
  } finally {
    await context.close();
  }
});
