// The nurse's day, offline: a home visit recorded in a few taps with the
// numeric scale, review points due, the "Aujourd'hui" screen (overdue
// first, one tap to the patient), and the patient's timeline in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, tapScore, waitForServiceWorker } from './harness.js';

const PATIENT = 'MOREAU Henri';
let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

/** A day as a date input takes it, `offset` days from today. */
function isoDay(offset) {
  const d = new Date();
  d.setDate(d.getDate() + offset);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

async function addReview(page, type, due) {
  await page.getByRole('button', { name: "Ajouter un point d'étape" }).click();
  const form = page.getByRole('form', { name: "Nouveau point d'étape" });
  await form.getByLabel('Type', { exact: true }).selectOption({ label: type });
  await form.getByLabel('Prévu le', { exact: true }).fill(due);
  await form.getByRole('button', { name: "Ajouter un point d'étape" }).click();
}

test('offline, a visit in a few taps, review points due, the today screen overdue first, the timeline in order', async () => {
  const nurse = await phone();
  try {
    const page = nurse.page;
    await signIn(page, server, 'claire', 'demo-claire');
    await waitForServiceWorker(page);
    // The caseload has arrived: then the signal goes.
    await page.getByRole('link', { name: new RegExp(PATIENT) }).waitFor();
    await nurse.setOnline(false);

    await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
    await page.getByRole('heading', { name: PATIENT }).waitFor();

    // The visit: type already "À domicile", duration proposed; the scale tapped.
    await page.getByRole('button', { name: 'Nouvelle visite' }).click();
    const visit = page.getByRole('form', { name: 'Nouvelle visite' });
    assert.equal(await visit.getByLabel('À domicile').isChecked(), true);
    await visit.getByRole('group', { name: 'Avec' }).getByLabel('Dr Paul Durand').check();
    await visit.getByLabel('Notes de visite').fill('Marche difficile ce matin');
    await visit.locator('summary', { hasText: 'Échelle numérique (EN)' }).click();
    await tapScore(visit, 'Douleur en ce moment', 5);
    await tapScore(visit, 'Douleur moyenne sur les dernières 24 heures', 4);
    await tapScore(visit, 'Douleur la plus forte sur les dernières 24 heures', 7);
    await visit.getByRole('button', { name: 'Enregistrer la visite' }).click();
    await page.getByRole('status').filter({ hasText: "Visite enregistrée sur l'appareil." }).waitFor();

    // A visit planned for this afternoon.
    await page.getByRole('button', { name: 'Prévoir une visite' }).click();
    const plan = page.getByRole('form', { name: 'Nouveau rendez-vous' });
    await plan.getByLabel('Jour', { exact: true }).fill(isoDay(0));
    await plan.getByLabel('Heure (14:30)', { exact: true }).fill('25:00');
    await plan.getByRole('button', { name: 'Prévoir une visite' }).click();
    await plan.getByRole('alert').filter({ hasText: 'Heure au format 14:30' }).waitFor();
    await plan.getByLabel('Heure (14:30)', { exact: true }).fill('14:30');
    await plan.getByRole('button', { name: 'Prévoir une visite' }).click();
    await page.getByRole('list', { name: 'Rendez-vous' }).getByRole('listitem', { name: /^À domicile .* à 14:30$/ }).waitFor();

    // Review points: one overdue, one today, one next month (not on today's screen).
    await addReview(page, "Point d'étape avec l'IRDP", isoDay(-3));
    await addReview(page, "Point d'étape IRDP et médecin traitant", isoDay(0));
    await addReview(page, 'Concertation de l\'équipe', isoDay(30));

    // The timeline: most recent first, what waits to be sent said so.
    const timeline = page.getByRole('list', { name: 'Chronologie du patient' });
    await timeline.getByText('Visite à domicile').waitFor();
    const lines = await timeline.getByRole('listitem').allInnerTexts();
    const at = (text) => lines.findIndex((l) => l.includes(text));
    assert.ok(at('Visite à domicile') >= 0 && at('Échelle numérique (EN)') >= 0, lines.join('\n'));
    assert.ok(lines[at('Échelle numérique (EN)')].includes('Douleur actuelle 5/10'), lines.join('\n'));
    assert.ok(lines[at('Visite à domicile')].includes("en attente d'envoi"));
    assert.ok(at('Concertation') < at('Visite à domicile'), 'the review point next month comes first');

    // One tap from the caseload: today's screen, overdue first.
    await page.getByRole('link', { name: '← Mes patients' }).click();
    await page.getByRole('link', { name: "Aujourd'hui" }).click();
    await page.getByRole('heading', { name: /^Aujourd'hui, / }).waitFor();
    const overdue = page.getByRole('list', { name: "Points d'étape en retard" });
    await overdue.getByRole('link', { name: new RegExp(`${PATIENT}.*en retard`) }).waitFor();
    const dueToday = page.getByRole('list', { name: "Points d'étape du jour" });
    await dueToday.getByRole('link', { name: /Point d'étape IRDP et médecin traitant/ }).waitFor();
    assert.equal(await page.getByText('Concertation').count(), 0, 'not due yet');
    const headings = await page.getByRole('heading', { level: 3 }).allInnerTexts();
    assert.deepEqual(headings, ['En retard (1)', "Aujourd'hui"], 'overdue first');
    await page.getByRole('list', { name: 'Mes visites prévues' })
      .getByRole('link', { name: new RegExp(`${PATIENT}.*14:30 — À domicile — prévue`) }).waitFor();
    const visits = page.getByRole('list', { name: 'Mes visites faites' });
    await visits.getByRole('link', { name: new RegExp(`${PATIENT}.*À domicile.*en attente d'envoi`) }).click();
    await page.getByRole('heading', { name: PATIENT }).waitFor();

    // Back online, everything leaves: the visit, its scale, three review points.
    await nurse.setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'visit'"), '1');
    assert.equal(server.sql(
      "SELECT a.username FROM journal j JOIN accounts a ON a.id = json_extract(j.body, '$.with[0]') WHERE j.kind = 'visit'"), 'dr.durand');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'instrument_response'"), '1');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'review'"), '3');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'appointment'"), '1');
  } finally {
    await nurse.context.close();
  }
});
