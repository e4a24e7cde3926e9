// Two tabs of the app on one phone share its IndexedDB: what one writes
// shows in the other at once, offline; and they never sync at the same time
// (one Web Lock for every tab): the record leaves once, and no request of
// one tab's sync overlaps the other's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, unlock } from './harness.js';

let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

test('a note written in one tab shows in the other; the two tabs never sync at once', async () => {
  const nurse = await phone();
  try {
    const a = nurse.page;
    await signIn(a, server, 'claire', 'demo-claire');
    const b = await nurse.context.newPage();
    await b.goto(server.url);
    await unlock(b);
    for (const tab of [a, b]) {
      await tab.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
      await tab.getByRole('heading', { name: 'Cahier de liaison' }).waitFor();
    }
    // Every sync request of each tab, with when it started and ended, by
    // the browser's own clock.
    const requests = [];
    for (const [name, tab] of [['a', a], ['b', b]]) {
      tab.on('requestfinished', (r) => {
        if (!r.url().includes('/api/sync/')) return;
        const t = r.timing();
        requests.push({ tab: name, url: r.url(), start: t.startTime, end: t.startTime + t.responseEnd });
      });
    }

    await nurse.setOnline(false);
    const form = a.getByRole('form', { name: 'Nouvelle entrée du cahier de liaison' });
    await form.getByLabel('Message').fill('Sommeil meilleur depuis la nouvelle literie.');
    await form.getByRole('button', { name: 'Écrire dans le cahier' }).click();
    await form.getByText("Entrée enregistrée sur l'appareil.").waitFor();
    // The other tab shows it, and counts it as waiting, without a reload.
    const inB = b.getByRole('list', { name: 'Entrées du cahier de liaison' }).getByText('Sommeil meilleur depuis la nouvelle literie.');
    await inB.waitFor();
    await b.getByRole('status').getByText('1 en attente', { exact: true }).waitFor();

    // Back online, both tabs asked to sync at the same moment.
    await nurse.setOnline(true);
    await Promise.all([
      a.getByRole('button', { name: 'Synchroniser' }).click(),
      b.getByRole('button', { name: 'Synchroniser' }).click(),
    ]);
    for (const tab of [a, b]) await tab.getByRole('status').getByText('0 en attente', { exact: true }).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'notebook_entry'"), '1');
    assert.ok(requests.length > 0);
    for (const x of requests) {
      for (const y of requests) {
        if (x.tab !== y.tab) {
          assert.ok(x.end <= y.start || y.end <= x.start, `tabs synced at once: ${JSON.stringify([x, y])}`);
        }
      }
    }
  } finally {
    await nurse.context.close();
  }
});
