// What the team chooses to share with the patient, at 360 × 740 by role and
// label: at Henri's home with no signal, the nurse writes him a message
// about his GP's consultation; once it has left, Henri reads it on his own
// phone — and nothing of the consultation's notes; the nurse corrects it,
// and Henri reads the corrected words only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Server, phone, signIn, unlock } from './harness.js';

let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

const SECRET = "Note de l'équipe : ne pas montrer";

/** A professional's API session. */
async function session(username, password) {
  const reply = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, device_id: randomUUID() }),
  });
  assert.equal(reply.status, 200);
  const me = await reply.json();
  return { ...me, cookie: reply.headers.get('set-cookie').split(';')[0] };
}

async function post(who, path, body) {
  const reply = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: who.cookie, origin: server.url },
    body: JSON.stringify(body),
  });
  const text = await reply.text();
  assert.ok(reply.ok, `${path}: ${reply.status} ${text}`);
  return JSON.parse(text);
}

/** Henri Moreau included by his GP, seen at the practice (notes the team's). */
async function includeAndSeeHenri(gp) {
  const henri = server.sql("SELECT id FROM patients WHERE family_name = 'Moreau'");
  const envelope = () => ({
    id: randomUUID(), patient_id: henri, author_id: gp.account_id, device_id: gp.device_id, recorded_at: Date.now(),
  });
  const enrollment = {
    kind: 'enrollment', ...envelope(), programme_id: 'chronic_pain', programme_version: 1,
    included_on: new Date().toISOString().slice(0, 10), referring_gp_id: gp.account_id,
    reason: 'Douleurs neuropathiques',
    identity: { family_name: 'Moreau', given_name: 'Henri', birth_date: '1952-07-02', sex: 'male', phone: '', address: '', town: 'Loudéac', ins: null },
    eligibility: {
      chronic_pain_or_risk: true, decompensated_mental_illness: false, ongoing_cancer_treatment: false,
      major_cognitive_disorders: false, major_loss_of_autonomy: false,
    },
    care_team: [],
  };
  const visit = {
    kind: 'visit', ...envelope(), visit_type: 'practice', started_at: Date.now() - 3_600_000,
    duration_minutes: 30, place: '', with: [], actions: [], notes: SECRET, evaluation: null,
  };
  await post(gp, '/api/sync/push', { protocol: 4, records: [enrollment, visit] });
  return henri;
}

test('the nurse shares a message about a consultation offline; Henri reads it on his phone, then its correction, never the notes', async () => {
  const gp = await session('dr.durand', 'demo-durand');
  const henri = await includeAndSeeHenri(gp);
  const nurse = await phone();
  const patient = await phone();
  try {
    await signIn(nurse.page, server, 'claire', 'demo-claire');
    await nurse.page.getByRole('link', { name: /MOREAU Henri/ }).click();
    const section = nurse.page.getByRole('region', { name: 'Partagé avec le patient' });
    await section.getByText("Rien n'a encore été partagé avec le patient.").waitFor();
    await nurse.setOnline(false);

    await section.getByRole('button', { name: 'Partager avec le patient' }).click();
    const form = section.getByRole('form', { name: 'Partager avec le patient' });
    // Choosing the consultation offers a title; the message is hers to write.
    const about = form.getByLabel('À propos de');
    const option = about.getByRole('option', { name: /^Visite au cabinet du / });
    await about.selectOption({ label: await option.innerText() });
    assert.match(await form.getByLabel('Titre').inputValue(), /^Après notre rendez-vous du \d\d\/\d\d\/\d{4}$/);
    await form.getByRole('button', { name: 'Partager', exact: true }).click();
    await form.getByRole('alert').getByText('Écrivez ce que le patient lira, avec des mots simples.').waitFor();
    await form.getByLabel('Message pour le patient').fill('Marchez vingt minutes chaque jour, et notez votre douleur le soir.');
    await form.getByRole('button', { name: 'Partager', exact: true }).click();
    const shared = section.getByRole('listitem', { name: /^Partage : Après notre rendez-vous/ });
    await shared.getByText("Sur l'appareil uniquement — en attente d'envoi").waitFor();
    await shared.getByText(/^À propos de : Visite au cabinet du /).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'patient_share'"), '0');

    // Back in signal: it leaves.
    await nurse.setOnline(true);
    await nurse.page.getByRole('button', { name: 'Synchroniser' }).click();
    await shared.getByText("Envoyé : visible dans l'application du patient").waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'patient_share'"), '1');

    // Henri, on his own phone, reads it — and nothing of the consultation's notes.
    const { code } = await post(gp, `/api/patients/${henri}/invitations`, {});
    const page = patient.page;
    await page.goto(`${server.url}/activer#${code}`);
    await page.getByLabel('Identifiant choisi').fill('henri.moreau');
    await page.getByLabel('Mot de passe choisi').fill('les hortensias bleus');
    await page.getByLabel('Mot de passe, une seconde fois').fill('les hortensias bleus');
    await page.getByRole('button', { name: 'Activer et ouvrir mon journal' }).click();
    await unlock(page);
    const messages = page.getByRole('region', { name: 'Messages de votre équipe' });
    const message = messages.getByRole('listitem');
    await message.getByText('Marchez vingt minutes chaque jour, et notez votre douleur le soir.').waitFor();
    await message.getByText(/— Claire Martin \(infirmière/).waitFor();
    await page.getByText(/Dernière synchronisation/).waitFor();
    assert.ok(!(await page.content()).includes(SECRET));
    const held = await page.evaluate(async () => {
      const api = await (await fetch('/api/sync/pull?protocol=4')).json();
      return api.records.map((r) => r.kind);
    });
    assert.deepEqual(held, ['patient_share']);

    // The nurse corrects it; Henri reads the corrected words only.
    await shared.getByRole('button', { name: 'Corriger ce partage' }).click();
    const correction = section.getByRole('form', { name: 'Corriger le partage' });
    await correction.getByLabel('Message pour le patient').fill('Marchez trente minutes chaque jour, et notez votre douleur le soir.');
    await correction.getByRole('button', { name: 'Partager', exact: true }).click();
    await section.getByText('Corrigé', { exact: true }).waitFor();
    await nurse.page.getByRole('button', { name: 'Synchroniser' }).click();
    await nurse.page.getByText('0 en attente').waitFor();
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await message.getByText('Marchez trente minutes chaque jour, et notez votre douleur le soir.').waitFor();
    assert.equal(await messages.getByRole('listitem').count(), 1, 'the corrected message stands in for the first');
    assert.equal(await page.getByText('Marchez vingt minutes').count(), 0);
  } finally {
    await nurse.context.close();
    await patient.context.close();
  }
});
