// A synthesis meeting at 360 × 740, by role and label: the GP prepares a
// meeting with two patients and the nurse attending; each attendee writes
// their view on both sheets offline; online again, the GP finalises both
// sheets in the meeting, with steps owned by members of each team — the
// steps appear in the patients' plans, for the physiotherapist too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, unlock } from './harness.js';

let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

const PATIENTS = ['LEFÈVRE Jeanne', 'MOREAU Henri'];

async function writeViews(page, words) {
  for (const patient of PATIENTS) {
    const sheet = page.getByRole('region', { name: `Fiche de ${patient}` });
    await sheet.getByLabel(`Mon point de vue — ${patient}`).fill(`${words} (${patient})`);
    await sheet.getByRole('button', { name: 'Enregistrer mon point de vue' }).click();
    await sheet.getByText(`${words} (${patient})`, { exact: false }).waitFor();
  }
}

async function finalise(page, patient, { decision, position, step, owner }) {
  const sheet = page.getByRole('region', { name: `Fiche de ${patient}` });
  await sheet.getByRole('button', { name: 'Finaliser la fiche' }).click();
  const form = sheet.getByRole('form', { name: 'Finaliser la fiche' });
  await form.getByLabel('Décision prise ensemble').fill(decision);
  // Without the patient's position: refused, saying so.
  await form.getByRole('button', { name: 'Finaliser', exact: true }).click();
  await form.getByText('Notez la position du patient (décision partagée).').waitFor();
  await form.getByLabel('Position du patient').fill(position);
  await form.getByRole('button', { name: 'Ajouter une étape' }).click();
  await form.getByLabel('Étape 1 : quoi').fill(step);
  const option = await form.getByLabel('Étape 1 : responsable').locator('option', { hasText: owner }).textContent();
  await form.getByLabel('Étape 1 : responsable').selectOption({ label: option });
  await form.getByLabel('Étape 1 : avant le').fill('2027-01-31');
  await form.getByRole('button', { name: 'Finaliser', exact: true }).click();
  try {
    await sheet.getByRole('list', { name: `Étapes pour ${patient}` }).getByText(step, { exact: false }).waitFor();
  } catch (e) {
    // What the sheet showed instead, for whoever reads the failure.
    throw new Error(`${e.message}\nthe sheet showed:\n${await sheet.innerText().catch(() => '(gone)')}`);
  }
}

/** Until the phone's sync has finished (its redraws would race the typing). */
async function settled(page) {
  await page.getByText('Synchronisation…').waitFor({ state: 'hidden' });
}

test('a meeting with two patients: views prepared offline, sheets finalised, steps in the plans', async () => {
  const gp = await phone();
  const nurse = await phone();
  const physio = await phone();
  try {
    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    await gp.page.getByRole('link', { name: 'Réunions de synthèse' }).click();
    await gp.page.getByRole('button', { name: 'Préparer une réunion' }).click();
    const form = gp.page.getByRole('form', { name: 'Nouvelle réunion de synthèse' });
    await form.getByLabel('Titre').fill('Concertation douleur de décembre');
    await form.getByLabel('Date').fill('2026-12-10');
    for (const patient of PATIENTS) await form.getByRole('group', { name: "Patients à l'ordre du jour" }).getByLabel(patient).check();
    const attendees = form.getByRole('group', { name: 'Participants' });
    await attendees.getByLabel(/^Dr Paul Durand/).check();
    await attendees.getByLabel(/^Claire Martin/).check();
    // Léa is in Jeanne's team, not Henri's: said before anything is saved.
    await attendees.getByLabel(/^Léa Robert/).check();
    await form.getByRole('button', { name: 'Créer la réunion' }).click();
    await form.getByText("Léa Robert n'est pas dans l'équipe de soins de MOREAU Henri.").waitFor();
    await attendees.getByLabel(/^Léa Robert/).uncheck();
    await form.getByRole('button', { name: 'Créer la réunion' }).click();
    await gp.page.getByRole('heading', { name: 'Concertation douleur de décembre' }).waitFor();
    await gp.page.getByText('0 en attente').waitFor();
    const meetingUrl = gp.page.url();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'meeting_sheet'"), '2');

    // Each attendee prepares their part, offline.
    await signIn(nurse.page, server, 'claire', 'demo-claire');
    await nurse.page.goto(meetingUrl);
    await unlock(nurse.page);
    await nurse.page.getByRole('heading', { name: 'Concertation douleur de décembre' }).waitFor();
    await nurse.setOnline(false);
    await gp.setOnline(false);
    await writeViews(nurse.page, 'Douleur mieux contrôlée, marche quotidienne');
    await writeViews(gp.page, 'Traitement bien toléré');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'meeting_contribution'"), '0');
    await nurse.setOnline(true);
    await gp.setOnline(true);
    await nurse.page.getByRole('button', { name: 'Synchroniser' }).click();
    await nurse.page.getByText('0 en attente').waitFor();
    await gp.page.getByRole('button', { name: 'Synchroniser' }).click();
    await gp.page.getByText('0 en attente').waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'meeting_contribution'"), '4');

    // In the meeting: the GP reads every view and finalises both sheets.
    await gp.page.getByRole('button', { name: 'Synchroniser' }).click();
    const jeanne = gp.page.getByRole('region', { name: 'Fiche de LEFÈVRE Jeanne' });
    await jeanne.getByText('Claire Martin : Douleur mieux contrôlée', { exact: false }).waitFor();
    await settled(gp.page);
    await finalise(gp.page, 'LEFÈVRE Jeanne', {
      decision: 'Poursuivre la kinésithérapie six semaines.', position: "D'accord ; préfère le matin.",
      step: 'Six séances de kinésithérapie', owner: 'Léa Robert',
    });
    await settled(gp.page);
    await finalise(gp.page, 'MOREAU Henri', {
      decision: 'Essai de TENS à domicile.', position: 'Souhaite essayer.',
      step: 'Mise en place du TENS', owner: 'Claire Martin',
    });
    await gp.page.getByRole('button', { name: 'Imprimer' }).waitFor();
    await gp.page.getByText('0 en attente').waitFor();
    // It prints: on paper the sheets and their decisions, not the buttons.
    await gp.page.emulateMedia({ media: 'print' });
    await jeanne.getByText('Décision : Poursuivre la kinésithérapie six semaines.', { exact: false }).waitFor();
    await gp.page.getByRole('region', { name: 'Fiche de MOREAU Henri' }).getByText('Position du patient : Souhaite essayer.').waitFor();
    for (const name of ['Imprimer', 'Synchroniser']) {
      assert.equal(await gp.page.getByRole('button', { name }).isVisible(), false, `${name} is not printed`);
    }
    await gp.page.emulateMedia({ media: 'screen' });
    await gp.page.getByRole('button', { name: 'Imprimer' }).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'meeting_report'"), '2');

    // The steps are the plans' items: the physiotherapist sees hers.
    await signIn(physio.page, server, 'lea', 'demo-lea');
    await physio.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await physio.page.getByRole('listitem', { name: 'Six séances de kinésithérapie' }).getByText('Responsable : Léa Robert').waitFor();
    await nurse.page.getByRole('button', { name: 'Synchroniser' }).click();
    const henri = nurse.page.getByRole('region', { name: 'Fiche de MOREAU Henri' });
    await henri.getByText('Position du patient : Souhaite essayer.').waitFor();

    // An attendee corrects a finalised sheet: a new report amends it, its
    // step stays (it is a plan item, changed in the plan).
    await settled(nurse.page);
    await henri.getByRole('button', { name: 'Corriger le compte rendu' }).click();
    const fix = henri.getByRole('form', { name: 'Corriger le compte rendu' });
    await fix.getByText('Mise en place du TENS').waitFor();
    await fix.getByLabel('Position du patient').fill('Souhaite essayer, plutôt le soir.');
    await fix.getByRole('button', { name: 'Enregistrer la correction' }).click();
    await henri.getByText('Position du patient : Souhaite essayer, plutôt le soir.').waitFor();
    await henri.getByText('Corrigé', { exact: true }).waitFor();
    await henri.getByRole('list', { name: 'Étapes pour MOREAU Henri' }).getByText('Mise en place du TENS', { exact: false }).waitFor();
    await nurse.page.getByText('0 en attente').waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'meeting_report' AND amends IS NOT NULL"), '1');
  } finally {
    await gp.context.close();
    await nurse.context.close();
    await physio.context.close();
  }
});
