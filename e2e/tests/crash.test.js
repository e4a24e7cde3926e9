// kill -9 the real server binary while it applies a large push; restart;
// retry: every acknowledged mutation is there, and none is applied twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Server } from './harness.js';

let server;
before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

async function signIn(username, password, deviceId) {
  const res = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, device_id: deviceId }),
  });
  assert.equal(res.status, 200);
  const me = await res.json();
  return { cookie: res.headers.getSetCookie()[0].split(';')[0], accountId: me.account_id };
}

test('a push killed mid-way loses no acknowledged mutation and applies none twice', async () => {
  const deviceId = randomUUID();
  const { cookie, accountId } = await signIn('claire', 'demo-claire', deviceId);
  const caseload = await (await fetch(`${server.url}/api/caseload`, { headers: { cookie } })).json();
  const patientId = caseload[0].id;

  // 40 items created, then edited: 6,000 mutations in the outbox.
  const TOTAL = 6000;
  const items = Array.from({ length: 40 }, () => randomUUID());
  const outbox = [];
  for (let id = 1; id <= TOTAL; id++) {
    const item = items[(id - 1) % items.length];
    const creating = id <= items.length;
    outbox.push({
      device_id: deviceId, mutation_id: id, item_id: item, patient_id: patientId, author_id: accountId,
      base_version: 0, hlc: { wall_ms: 1_790_000_000_000 + id, counter: 0, device: deviceId },
      changes: creating
        ? [{ field: 'title', value: `Action ${id}` }, { field: 'owner', value: accountId }, { field: 'status', value: 'proposed' }]
        : [{ field: 'notes', value: `note ${id}` }],
      resolves: [],
    });
  }
  const push = (batch) => fetch(`${server.url}/api/sync/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ protocol: 2, mutations: batch }),
  });

  let acknowledged = 0;
  let killed = false;
  let batches = 0;
  while (acknowledged < TOTAL) {
    const batch = outbox.filter((m) => m.mutation_id > acknowledged).slice(0, 500);
    batches += 1;
    if (!killed && batches === 4) {
      // Kill while this push is being applied.
      const inFlight = push(batch).then((r) => r.json()).catch(() => null);
      await new Promise((r) => setTimeout(r, 15));
      await server.kill();
      killed = true;
      const answer = await inFlight;
      if (answer && answer.last_mutation_id) acknowledged = Math.max(acknowledged, answer.last_mutation_id);
      await server.start();
      const status = await push([]);
      const { last_mutation_id: last } = await status.json();
      assert.ok(last >= acknowledged, `acknowledged ${acknowledged} but the server has ${last}`);
      continue; // retry from the outbox, as a device would
    }
    const res = await push(batch);
    assert.equal(res.status, 200, await res.clone().text());
    acknowledged = (await res.json()).last_mutation_id;
  }
  assert.ok(killed);
  const [count, distinct, min, max] = server.sql(
    `SELECT count(*), count(DISTINCT mutation_id), min(mutation_id), max(mutation_id) FROM item_versions WHERE device_id = '${deviceId}'`,
  ).split('|').map(Number);
  assert.deepEqual([count, distinct, min, max], [TOTAL, TOTAL, 1, TOTAL]);
  assert.equal(server.sql(`SELECT last_mutation_id FROM device_mutations WHERE device_id = '${deviceId}'`), String(TOTAL));
  // Each item's version is exactly the number of mutations it received.
  assert.equal(server.sql("SELECT sum(version) FROM journal WHERE kind = 'care_plan_item'"), String(TOTAL));
});
