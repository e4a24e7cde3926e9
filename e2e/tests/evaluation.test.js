// The pain nurse's initial evaluation at the patient's home, with no signal:
// the numeric scale tapped on rows of eleven targets, the DN4 (its wording
// supplied by the deployment: here the test's own file), the body map by
// touch and by keyboard, the history. Left half-done, the page reloaded
// offline, resumed, finished; back online the GP reads the scores.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, waitForServiceWorker, unlock } from './harness.js';

const PATIENT = 'LEFÈVRE Jeanne';
let server;

before(async () => { server = await Server.start({ wording: true }); });
after(async () => { await server?.stop(); });

async function openPatient(page) {
  await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
  await page.getByRole('heading', { name: PATIENT }).waitFor();
}

const form = (page) => page.getByRole('form', { name: 'Évaluation initiale' });

async function openSection(page, title) {
  const details = form(page).getByRole('group').filter({ has: page.locator(':scope > summary', { hasText: title }) });
  if (!(await details.evaluate((d) => d.open))) await details.locator(':scope > summary').click();
  return details;
}

async function tap(scope, legend, value) {
  await scope.getByRole('group', { name: legend }).getByRole('radio', { name: String(value), exact: true }).check();
}

test('offline, the nurse fills EN, DN4 and the body map, reloads half-way, resumes and finishes; the GP reads it', async () => {
  const nurse = await phone();
  const gp = await phone();
  try {
    const page = nurse.page;
    await signIn(page, server, 'claire', 'demo-claire');
    await waitForServiceWorker(page);
    // The first sync brings the deployment's wording to the phone.
    await page.getByText(/Dernière synchronisation/).waitFor({ timeout: 20_000 });
    await nurse.setOnline(false);

    await openPatient(page);
    await page.getByRole('link', { name: "Commencer l'évaluation initiale" }).click();
    await page.getByRole('heading', { name: 'Évaluation initiale' }).waitFor();

    // Instruments whose wording the deployment did not supply are unavailable, never made up.
    const unavailable = await form(page).locator('.unavailable').allInnerTexts();
    assert.equal(unavailable.length, 2, `QCD and PCS-CF unavailable: ${unavailable.join(' | ')}`);
    assert.ok(unavailable.every((t) => /indisponible/.test(t)));

    // EN: three rows of eleven targets.
    const en = await openSection(page, 'Échelle numérique');
    const row = en.getByRole('group', { name: 'Douleur en ce moment' });
    assert.equal(await row.getByRole('radio').count(), 11, 'a 0–10 scale is eleven targets');
    // In one row, each as tall as a thumb needs.
    const targets = row.locator('label');
    const [zero, ten] = [await targets.first().boundingBox(), await targets.last().boundingBox()];
    assert.equal(Math.round(zero.y), Math.round(ten.y), 'eleven targets in one row');
    assert.ok(ten.x + ten.width <= 360 && zero.height >= 44, `targets fit 360 px and are ≥ 44 px tall: ${JSON.stringify([zero, ten])}`);
    await tap(en, 'Douleur en ce moment', 6);
    await tap(en, 'Douleur moyenne sur les dernières 24 heures', 5);
    await en.getByRole('region', { name: /Scores/ }).getByText('non calculé').first().waitFor();

    // DN4 with the test's wording: the examination items wait for the examination mode.
    const dn4 = await openSection(page, 'DN4 (libellés de test)');
    const touch = dn4.getByRole('group', { name: 'Test : hypoesthésie au tact' }).getByLabel('Oui', { exact: true });
    assert.equal(await touch.isDisabled(), true, 'an examination item waits for the examination');
    await dn4.getByRole('group', { name: 'Recueil' }).getByLabel('Entretien et examen clinique').check();
    assert.equal(await touch.isDisabled(), false);
    for (const [item, answer] of [
      ['Test : brûlure', 'Oui'], ['Test : froid douloureux', 'Non'], ['Test : décharges', 'Oui'],
      ['Test : fourmillements', 'Oui'],
    ]) {
      await dn4.getByRole('group', { name: item }).getByLabel(answer, { exact: true }).check();
    }

    // HADS with the test's wording: a subscale with a missing item is flagged, not scored.
    const hads = await openSection(page, 'HADS (libellés de test)');
    for (let n = 1; n <= 13; n++) {
      const answer = n % 2 ? 1 : 2;
      await hads.getByRole('group', { name: `Test : question ${n}` }).getByLabel(`Test ${n} — réponse ${answer}`, { exact: true }).check();
    }
    const hadsScores = hads.getByRole('region', { name: /Scores/ });
    await hadsScores.getByText('Anxiété : 7 / 21 — Pas de cas (≤ 7)').waitFor();
    await hadsScores.getByText('Dépression : non calculé (6 réponse(s) sur 7 nécessaires)').waitFor();

    // Body map: one region by touch, one by keyboard.
    const map = await openSection(page, 'Schéma corporel');
    await map.getByRole('checkbox', { name: 'Bas du dos (lombaires)' }).click();
    await map.getByRole('checkbox', { name: 'Genou gauche' }).focus();
    await page.keyboard.press('Space');
    assert.equal(await map.getByRole('checkbox', { name: 'Genou gauche' }).getAttribute('aria-checked'), 'true');
    await map.getByRole('status').getByText('Zones douloureuses : Bas du dos (lombaires), Genou gauche').waitFor();

    await form(page).getByLabel("Début et circonstances d'apparition").fill('Chute dans l\'escalier en 2024');
    await page.getByRole('status').getByText(/Brouillon enregistré sur cet appareil/).waitFor();

    // Half-way: the page is reloaded, still offline. Nothing is lost.
    await page.reload();
    await unlock(page);
    await page.getByRole('heading', { name: 'Évaluation initiale' }).waitFor();
    await page.getByRole('status').getByText(/Brouillon/).waitFor();
    const enAgain = await openSection(page, 'Échelle numérique');
    assert.equal(await enAgain.getByRole('group', { name: 'Douleur en ce moment' }).getByRole('radio', { name: '6', exact: true }).isChecked(), true);
    const dn4Again = await openSection(page, 'DN4 (libellés de test)');
    assert.equal(await dn4Again.getByRole('group', { name: 'Test : brûlure' }).getByLabel('Oui', { exact: true }).isChecked(), true);
    assert.equal(await form(page).getByLabel("Début et circonstances d'apparition").inputValue(), 'Chute dans l\'escalier en 2024');
    const mapAgain = await openSection(page, 'Schéma corporel');
    assert.equal(await mapAgain.getByRole('checkbox', { name: 'Genou gauche' }).getAttribute('aria-checked'), 'true');

    // The patient page says there is a draft; then back to finish.
    await page.getByRole('link', { name: '← Fiche du patient' }).click();
    await page.getByRole('link', { name: "Reprendre l'évaluation initiale" }).click();
    const en3 = await openSection(page, 'Échelle numérique');
    await tap(en3, 'Douleur la plus forte sur les dernières 24 heures', 8);
    await en3.getByRole('region', { name: /Scores/ }).getByText('Douleur maximale (24 h) : 8 / 10 — Douleur sévère (7–10)').waitFor();
    const dn4Last = await openSection(page, 'DN4 (libellés de test)');
    for (const [item, answer] of [
      ['Test : picotements', 'Non'], ['Test : engourdissement', 'Oui'], ['Test : démangeaisons', 'Non'],
      ['Test : hypoesthésie au tact', 'Non'], ['Test : hypoesthésie à la piqûre', 'Non'], ['Test : douleur au frottement', 'Non'],
    ]) {
      await dn4Last.getByRole('group', { name: item }).getByLabel(answer, { exact: true }).check();
    }
    await dn4Last.getByRole('region', { name: /Scores/ }).getByText('DN4 (10 items) : 4 / 10 — Positif (≥ 4/10)').waitFor();
    await form(page).getByRole('button', { name: "Terminer l'évaluation" }).click();

    // On the patient page: done, both instruments with their scores, waiting to be sent.
    await page.getByRole('heading', { name: PATIENT }).waitFor();
    await page.getByText(/Évaluation initiale faite le/).waitFor();
    const filled = page.getByRole('list', { name: 'Instruments remplis' });
    await filled.getByRole('listitem', { name: 'DN4 — douleur neuropathique' }).getByText(/4\/10 \(Positif/).waitFor();
    await filled.getByRole('listitem', { name: 'Échelle numérique (EN)' }).getByText("Sur l'appareil — en attente d'envoi").waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind IN ('visit', 'instrument_response')"), '0');

    await nurse.setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'visit'"), '1');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'instrument_response'"), '3');
    assert.equal(server.sql("SELECT json_extract(body, '$.scores[1].value') IS NULL FROM journal WHERE body LIKE '%\"hads\"%'"), '1', 'the incomplete subscale is stored unscored');

    // The GP, on her own phone, reads the evaluation.
    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    await openPatient(gp.page);
    const gpList = gp.page.getByRole('list', { name: 'Instruments remplis' });
    await gpList.getByRole('listitem', { name: 'DN4 — douleur neuropathique' }).getByText(/4\/10 \(Positif/).waitFor({ timeout: 20_000 });
    await gpList.getByRole('listitem', { name: 'Échelle numérique (EN)' }).getByText(/6\/10/).waitFor();
    await gp.page.getByText(/Évaluation initiale faite le/).waitFor();

    // The nurse corrects a score: a new response amends the first, both stay.
    const mine = page.getByRole('list', { name: 'Instruments remplis' });
    await mine.getByRole('button', { name: 'Corriger « Échelle numérique (EN) »' }).click();
    const correction = page.getByRole('form', { name: 'Correction' });
    assert.equal(await correction.getByRole('group', { name: 'Douleur en ce moment' }).getByRole('radio', { name: '6', exact: true }).isChecked(), true, 'the form starts from the answers');
    await correction.getByRole('group', { name: 'Douleur en ce moment' }).getByRole('radio', { name: '7', exact: true }).check();
    await correction.getByRole('button', { name: 'Enregistrer la correction' }).click();
    const enCards = mine.getByRole('listitem', { name: 'Échelle numérique (EN)' });
    await enCards.filter({ hasText: 'Correction de la saisie du' }).getByText(/Douleur actuelle 7\/10/).waitFor();
    await enCards.filter({ hasText: /Corrigé le/ }).getByText(/Douleur actuelle 6\/10/).waitFor();
    await page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'instrument_response' AND amends IS NOT NULL"), '1');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'instrument_response'"), '4', 'nothing overwritten');
  } finally {
    await nurse.context.close();
    await gp.context.close();
  }
});
