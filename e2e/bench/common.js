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
    mode: 'interview', pain_now: i % 11, pain_average_24h: 5, pain_worst_24h: Math.max(8, i % 11),
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

/** Includes a demo patient in the pain pathway, as their GP (a signed-in API session). */
export async function includePatient(server, gp, familyName) {
  const caseload = await (await fetch(`${server.url}/api/caseload`, { headers: { cookie: gp.cookie } })).json();
  const p = caseload.find((x) => x.family_name === familyName);
  const enrollment = {
    kind: 'enrollment', id: randomUUID(), patient_id: p.id, author_id: gp.accountId,
    device_id: gp.deviceId, recorded_at: Date.now(), programme_id: 'chronic_pain',
    programme_version: 1, included_on: '2024-11-01', referring_gp_id: gp.accountId,
    reason: 'Lombalgie chronique',
    identity: {
      family_name: p.family_name, given_name: p.given_name, birth_date: p.birth_date, sex: 'female',
      phone: '', address: '', town: p.town, ins: null,
    },
    eligibility: {
      chronic_pain_or_risk: true, decompensated_mental_illness: false, ongoing_cancer_treatment: false,
      major_cognitive_disorders: false, major_loss_of_autonomy: false,
    },
    care_team: [],
  };
  await push(server, gp, [enrollment], 4);
  return p.id;
}

/** Invites and activates a patient's own account; returns its API session. */
export async function patientSession(server, nurse, patientId, username, password) {
  const invite = await fetch(`${server.url}/api/patients/${patientId}/invitations`, { method: 'POST', headers: { cookie: nurse.cookie } });
  if (invite.status !== 201) throw new Error(`invite: ${invite.status} ${await invite.text()}`);
  const { code } = await invite.json();
  const deviceId = randomUUID();
  const res = await fetch(`${server.url}/api/invitations/activate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, username, password, device_id: deviceId }),
  });
  if (res.status !== 200) throw new Error(`activate: ${res.status} ${await res.text()}`);
  const me = await res.json();
  return { cookie: res.headers.getSetCookie()[0].split(';')[0], deviceId: me.device_id, accountId: me.account_id, patients: [patientId] };
}

/**
 * Includes `n` new patients in the pain pathway, as the GP, each with the
 * nurse in their care team: a caseload of real size (a pain nurse follows
 * up to ~150).
 */
export async function includeNewPatients(server, gp, nurse, n, familyName = 'PATIENT') {
  const records = Array.from({ length: n }, (_, i) => ({
    kind: 'enrollment', id: randomUUID(), patient_id: randomUUID(), author_id: gp.accountId,
    device_id: gp.deviceId, recorded_at: Date.now(), programme_id: 'chronic_pain',
    programme_version: 1, included_on: '2024-11-01', referring_gp_id: gp.accountId,
    reason: 'Lombalgie chronique',
    identity: {
      family_name: `${familyName}${String(i).padStart(3, '0')}`, given_name: 'Test', birth_date: '1950-01-01', sex: 'female',
      phone: '', address: '', town: 'Lyon', ins: null,
    },
    eligibility: {
      chronic_pain_or_risk: true, decompensated_mental_illness: false, ongoing_cancer_treatment: false,
      major_cognitive_disorders: false, major_loss_of_autonomy: false,
    },
    care_team: [{ account_id: nurse.accountId, role: 'pain_resource_nurse', from: '2024-11-01' }],
  }));
  for (let i = 0; i < n; i += 100) await push(server, gp, records.slice(i, i + 100), 4);
}
