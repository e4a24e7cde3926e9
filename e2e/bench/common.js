// Helpers for the benchmarks: API sessions and bulk records, as a device sends them.
import { randomUUID } from 'node:crypto';

export async function apiSession(server, username, password) {
  const deviceId = randomUUID();
  const res = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, device_id: deviceId }),
  });
  if (res.status !== 200) throw new Error(`sign-in ${username}: ${res.status}`);
  const me = await res.json();
  const cookie = res.headers.getSetCookie()[0].split(';')[0];
  const caseload = await (await fetch(`${server.url}/api/caseload`, { headers: { cookie } })).json();
  return { cookie, deviceId, accountId: me.account_id, patients: caseload.map((p) => p.id) };
}

const NOTE = 'Douleur lombaire irradiant dans la jambe gauche, aggravée en fin de journée, améliorée par la marche courte et la chaleur. Sommeil interrompu.';

/** A pain assessment of about 400 bytes of JSON. */
export function assessment(session, i) {
  return {
    kind: 'pain_assessment', id: randomUUID(), patient_id: session.patients[i % session.patients.length],
    recorded_at: 1_790_000_000_000 + i, author_id: session.accountId, device_id: session.deviceId,
    mode: 'interview', pain_now: i % 11, pain_average_24h: 5, pain_worst_24h: 8,
    location: 'Lombaires', note: NOTE.slice(0, 120), amends: null,
  };
}

export async function push(server, session, records, protocol = 2) {
  const res = await fetch(`${server.url}/api/sync/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: session.cookie },
    body: JSON.stringify({ protocol, records }),
  });
  if (res.status !== 200) throw new Error(`push: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function pullAll(server, session) {
  let cursor = '';
  let n = 0;
  for (;;) {
    const res = await fetch(`${server.url}/api/sync/pull?cursor=${cursor}&limit=1000`, { headers: { cookie: session.cookie } });
    const page = await res.json();
    n += page.records.length + page.items.length;
    cursor = page.next_cursor;
    if (!page.has_more) return n;
  }
}
