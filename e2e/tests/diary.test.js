// The patient's own diary, at 360 × 740, by role and label: the nurse
// invites Jeanne from her page; on her own phone Jeanne activates her
// account, goes offline, keeps her diary three days (the page's clock set
// to each day), corrects one, reloads offline, comes back online; the nurse
// sees the entries, the correction and the chart. Jeanne cannot reach
// another patient or the team's notes, through the screens or the API, and
// her code cannot be used twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Server, phone, signIn, tapScore, waitForServiceWorker, unlock } from './harness.js';

let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

const DAY = 86_400_000;

/** Jeanne Lefèvre included in the pain pathway by her GP (set-up through the API). */
async function includeJeanne() {
  const signIn = await fetch(`${server.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'dr.durand', password: 'demo-durand', device_id: randomUUID() }),
  });
  assert.equal(signIn.status, 200);
  const me = await signIn.json();
  const cookie = signIn.headers.get('set-cookie').split(';')[0];
  const jeanne = server.sql("SELECT id FROM patients WHERE family_name = 'Lefèvre'");
  const enrollment = {
    kind: 'enrollment', id: randomUUID(), patient_id: jeanne, author_id: me.account_id,
    device_id: me.device_id, recorded_at: Date.now(), programme_id: 'chronic_pain',
    programme_version: 1, included_on: new Date().toISOString().slice(0, 10),
    referring_gp_id: me.account_id, reason: 'Lombalgie chronique',
    identity: {
      family_name: 'Lefèvre', given_name: 'Jeanne', birth_date: '1948-03-14', sex: 'female',
      phone: '', address: '', town: 'Pontivy', ins: null,
    },
    eligibility: {
      chronic_pain_or_risk: true, decompensated_mental_illness: false, ongoing_cancer_treatment: false,
      major_cognitive_disorders: false, major_loss_of_autonomy: false,
    },
    care_team: [],
  };
  const push = await fetch(`${server.url}/api/sync/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ protocol: 4, records: [enrollment] }),
  });
  assert.equal(push.status, 200, await push.text());
  return jeanne;
}

/** One day of the diary, as Jeanne taps it. */
async function writeDay(page, { average, worst, now, sleep, walk }) {
  await page.getByRole('link', { name: /Remplir mon journal du jour|Ajouter une note/ }).click();
  await page.getByRole('heading', { name: 'Mon journal du jour' }).waitFor();
  await tapScore(page, 'Ma douleur en ce moment', now);
  await tapScore(page, 'Ma douleur en moyenne aujourd\'hui', average);
  await tapScore(page, 'Ma douleur la plus forte aujourd\'hui', worst);
  await tapScore(page, 'Mon sommeil la nuit dernière', sleep);
  await page.getByRole('group', { name: 'Mon moral aujourd\'hui' }).getByLabel('Bien', { exact: true }).check();
  if (walk) {
    await page.getByRole('button', { name: 'Ajouter une activité' }).click();
    await page.getByLabel('Activité 1').fill('Marche');
    await page.getByLabel('Minutes').fill(String(walk));
  }
  await page.getByRole('button', { name: 'Enregistrer', exact: true }).click();
  await page.getByText('Enregistré sur votre téléphone.').waitFor();
}

test('the nurse invites Jeanne; offline on her phone she keeps her diary three days and corrects one; the nurse sees it all', async () => {
  const jeanne = await includeJeanne();
  const henri = server.sql("SELECT id FROM patients WHERE family_name = 'Moreau'");
  const nurse = await phone();
  const patient = await phone();
  const stranger = await phone();
  try {
    // The nurse opens Jeanne's page and invites her.
    await signIn(nurse.page, server, 'claire', 'demo-claire');
    await nurse.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await nurse.page.getByRole('button', { name: 'Inviter le patient' }).click();
    const code = (await nurse.page.getByLabel("Code d'invitation").innerText()).trim();
    assert.match(code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    await nurse.page.getByRole('img', { name: "QR code du lien d'activation" }).waitFor();
    const link = await nurse.page.getByRole('link', { name: /\/activer#/ }).getAttribute('href');
    assert.ok(link.endsWith(code.replaceAll('-', '')), link);

    // On her own phone, Jeanne opens the link and chooses her identifier and password.
    const page = patient.page;
    await page.goto(link);
    await page.getByRole('heading', { name: 'Activer mon compte' }).waitFor();
    assert.equal(await page.getByLabel("Code d'invitation").inputValue(), code);
    await page.getByLabel('Identifiant choisi').fill('jeanne.lefevre');
    await page.getByLabel('Mot de passe choisi').fill('mon jardin fleuri');
    // Two different passwords: said before anything is sent, with every other problem.
    await page.getByLabel('Mot de passe, une seconde fois').fill('mon jardin');
    await page.getByRole('button', { name: 'Activer et ouvrir mon journal' }).click();
    await page.getByText('Les deux mots de passe ne sont pas identiques.').waitFor();
    await page.getByLabel('Mot de passe, une seconde fois').fill('mon jardin fleuri');
    await page.getByRole('button', { name: 'Activer et ouvrir mon journal' }).click();
    await unlock(page);
    await page.getByRole('heading', { name: 'Mon journal de douleur' }).waitFor();
    await page.getByText("Vous n'avez pas encore rempli votre journal aujourd'hui.").waitFor();
    // Her header says who she is; her plan's sections are there, empty.
    const banner = page.getByRole('banner');
    await banner.getByText('Jeanne Lefèvre', { exact: true }).waitFor();
    await banner.getByText('Patient·e', { exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Mes objectifs' }).waitFor();
    await waitForServiceWorker(page);
    await page.getByText(/Dernière synchronisation/).waitFor();

    // No signal for three days; the page's clock is set to each day.
    await patient.setOnline(false);
    const start = Date.now() - 3 * DAY;
    const days = [
      { average: 6, worst: 8, now: 5, sleep: 4, walk: 20 },
      { average: 5, worst: 7, now: 4, sleep: 6, walk: 30 },
      { average: 4, worst: 6, now: 3, sleep: 7, walk: 0 },
    ];
    for (const [i, day] of days.entries()) {
      await page.clock.setFixedTime(new Date(start + i * DAY));
      await page.goto(`${server.url}/journal`);
      await unlock(page);
      await page.getByText("Vous n'avez pas encore rempli votre journal aujourd'hui.").waitFor();
      await writeDay(page, day);
    }
    // The second day was 3 on average, not 5: corrected, not overwritten.
    const second = new Date(start + DAY);
    const secondFr = `${String(second.getDate()).padStart(2, '0')}/${String(second.getMonth() + 1).padStart(2, '0')}/${second.getFullYear()}`;
    await page.getByRole('link', { name: `Corriger le ${secondFr}` }).click();
    await page.getByRole('heading', { name: `Corriger le ${secondFr}` }).waitFor();
    // Inconsistent: worst below the average — refused with its reason.
    await tapScore(page, 'Ma douleur la plus forte aujourd\'hui', 2);
    await page.getByRole('button', { name: 'Enregistrer la correction' }).click();
    await page.getByRole('alert').getByText(/plus faible que la douleur moyenne/).waitFor();
    await tapScore(page, 'Ma douleur en moyenne aujourd\'hui', 3);
    await tapScore(page, 'Ma douleur la plus forte aujourd\'hui', 6);
    await tapScore(page, 'Ma douleur en ce moment', 3);
    await page.getByRole('button', { name: 'Enregistrer la correction' }).click();
    await page.getByText('Enregistré sur votre téléphone.').waitFor();

    // Reloaded with no signal: everything is still there, and waiting.
    await page.reload();
    await unlock(page);
    await page.getByRole('heading', { name: 'Mon journal de douleur' }).waitFor();
    await page.getByText('4 en attente').waitFor();
    // The list drawn (the count above comes first), then counted.
    await page.getByText('Douleur : 3/10 en moyenne, 6/10 au plus fort, 3/10 au moment de noter').waitFor();
    const entries = page.getByRole('region', { name: 'Mes derniers jours' }).getByRole('listitem');
    assert.equal(await entries.count(), 3, 'the correction stands in for the entry it corrects');
    assert.equal(await page.getByText("En attente d'envoi à votre équipe").count(), 3);
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'diary_entry'"), '0');

    // Back online: sent.
    await page.clock.setFixedTime(new Date());
    await patient.setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await page.getByText('0 en attente').waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'diary_entry'"), '4');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'diary_entry' AND amends IS NOT NULL"), '1');

    // The nurse sees the diary, the correction beside the original, and the chart's points.
    await nurse.page.reload();
    await unlock(nurse.page);
    const diary = nurse.page.getByRole('heading', { name: 'Journal du patient (4)' });
    await diary.waitFor();
    const list = nurse.page.getByRole('list', { name: 'Journal du patient (4)' });
    await list.getByText('Correction', { exact: true }).waitFor();
    await list.getByText(/^Corrigée par le patient le /).waitFor();
    const chart = nurse.page.getByRole('img', { name: 'Évolution de la douleur (0 à 10)' });
    await chart.waitFor();
    const daily = await chart.locator('path.daily').getAttribute('d');
    assert.equal((daily.match(/[ML]/g) || []).length, 3, `three days drawn: ${daily}`);
    // The weekly table says the same to those who do not see the chart.
    await nurse.page.getByText('Voir les valeurs, semaine par semaine').click();
    const rows = nurse.page.getByRole('table', { name: 'Douleur, sommeil et activité par semaine' }).getByRole('row');
    const filled = await rows.evaluateAll((trs) => trs.slice(1).reduce((n, tr) => n + Number(tr.cells[2].innerText), 0));
    assert.equal(filled, 3);

    // The one-screen summary for a review point says how the diary was kept.
    await nurse.page.getByRole('link', { name: "Synthèse pour un point d'étape" }).click();
    await nurse.page.getByRole('heading', { name: 'Synthèse — LEFÈVRE Jeanne' }).waitFor();
    await nurse.page.getByText('3 jour(s) rempli(s) sur les 28 derniers jours ; 3 jour(s) en tout.').waitFor();
    await nurse.page.getByRole('heading', { name: 'Objectifs' }).waitFor();

    // Jeanne cannot reach another patient or the team's notes: the screens
    // send her back to her diary, the API answers 404.
    await page.goto(`${server.url}/patients/${henri}`);
    await unlock(page);
    await page.getByRole('heading', { name: 'Mon journal de douleur' }).waitFor();
    const answers = await page.evaluate(async ([henri, jeanne]) => {
      const status = async (path) => (await fetch(path)).status;
      return {
        henri: await status(`/api/patients/${henri}/assessments`),
        own: await status(`/api/patients/${jeanne}/assessments`),
        invitations: await status(`/api/patients/${jeanne}/invitations`),
        wordings: await status('/api/instruments/wordings'),
        caseload: (await (await fetch('/api/caseload')).json()).map((p) => p.family_name),
      };
    }, [henri, jeanne]);
    assert.deepEqual(answers, { henri: 404, own: 404, invitations: 404, wordings: 403, caseload: ['Lefèvre'] });

    // The same code again, on someone else's phone: refused, clearly.
    await stranger.page.goto(link);
    await stranger.page.getByLabel('Identifiant choisi').fill('quelqu.un');
    await stranger.page.getByLabel('Mot de passe choisi').fill('un autre mot de passe');
    await stranger.page.getByLabel('Mot de passe, une seconde fois').fill('un autre mot de passe');
    await stranger.page.getByRole('button', { name: 'Activer et ouvrir mon journal' }).click();
    await stranger.page.getByText(/Ce code a déjà servi/).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM accounts WHERE username = 'quelqu.un'"), '0');
  } finally {
    await nurse.context.close();
    await patient.context.close();
    await stranger.context.close();
  }
});
