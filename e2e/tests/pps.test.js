// The personalised care plan built offline by the pain nurse: the plan
// (IRDP, the patient's expectations), an objective, three items owned by
// three professionals (a TENS order among them) and a review point. Back
// online the GP sees all of it and countersigns the TENS order from her
// own phone; then the physiotherapist and the nurse edit the same item
// offline, different fields: both edits survive. Outside the team, nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn } from './harness.js';

const PATIENT = 'LEFÈVRE Jeanne';
let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

async function openPatient(page) {
  await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
  await page.getByRole('heading', { name: PATIENT }).waitFor();
}

async function fill(form, fields) {
  for (const [label, value] of Object.entries(fields)) {
    const field = form.getByLabel(label, { exact: true });
    const tag = await field.evaluate((e) => e.tagName);
    if (tag === 'SELECT') await field.selectOption({ label: value });
    else await field.fill(value);
  }
}

async function settle(page) {
  await page.getByRole('button', { name: 'Synchroniser' }).click();
  await page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
}

const card = (page, list, name) => page.getByRole('list', { name: list }).getByRole('listitem', { name });

test('the nurse builds the plan offline; the GP countersigns the TENS order; two people edit one item offline and both edits survive', async () => {
  const nurse = await phone();
  const gp = await phone();
  const physio = await phone();
  const outsider = await phone();
  try {
    const page = nurse.page;
    await signIn(page, server, 'claire', 'demo-claire');
    await openPatient(page);
    await nurse.setOnline(false);

    // The plan itself.
    await page.getByRole('button', { name: 'Ouvrir le plan' }).click();
    let form = page.getByRole('form', { name: 'Le plan du patient' });
    await fill(form, {
      'Infirmière ressource douleur (IRDP)': 'Claire Martin (Infirmière ressource douleur)',
      'Attentes du patient, dans ses mots': 'Pouvoir garder mes petits-enfants le mercredi',
    });
    await form.getByRole('button', { name: 'Ouvrir le plan' }).click();
    await card(page, 'Le plan', 'Plan personnalisé de soins').getByText('Attentes du patient, dans ses mots : Pouvoir garder mes petits-enfants le mercredi').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Ouvrir le plan' }).count(), 0, 'one plan per patient');

    // A shared, measurable objective.
    await page.getByRole('button', { name: 'Ajouter un objectif' }).click();
    form = page.getByRole('form', { name: 'Nouvel objectif' });
    await fill(form, { 'Objectif': 'Douleur moyenne ≤ 4', 'Mesure': 'EN moyenne sur 24 h', 'Cible': '≤ 4', 'Échéance': '2027-03-01' });
    await form.getByRole('button', { name: 'Ajouter un objectif' }).click();
    await card(page, 'Objectifs', 'Douleur moyenne ≤ 4').getByText('Statut : En cours').waitFor();

    // Three items, three owners; the TENS order with its legal basis.
    const items = [
      { 'Type d\'action': 'TENS (neurostimulation transcutanée)', 'Action': 'TENS lombaire', 'Responsable': 'Claire Martin (Infirmière ressource douleur)', 'Base légale de la prescription': 'Prescription infirmière (art. L4311-1 CSP)' },
      { 'Type d\'action': 'Kinésithérapie', 'Action': 'Kinésithérapie', 'Responsable': 'Léa Robert (Masseur-kinésithérapeute)', 'Fréquence': '2 fois par semaine' },
      { 'Type d\'action': 'Autre', 'Action': 'Adaptation du traitement antalgique', 'Responsable': 'Dr Paul Durand (Médecin traitant)' },
    ];
    for (const item of items) {
      await page.getByRole('button', { name: 'Ajouter une action' }).click();
      form = page.getByRole('form', { name: 'Nouvelle action du plan' });
      await fill(form, item);
      await form.getByRole('button', { name: "Ajouter l'action" }).click();
      await card(page, 'Actions du plan', item.Action).waitFor();
    }
    await card(page, 'Actions du plan', 'TENS lombaire').getByText('En attente du contreseing (Médecin traitant)').waitFor();
    // Who pays comes from the programme's kind of item.
    await card(page, 'Actions du plan', 'Kinésithérapie').getByText('Financement : Assurance maladie').waitFor();

    // A review point.
    await page.getByRole('button', { name: "Ajouter un point d'étape" }).click();
    form = page.getByRole('form', { name: "Nouveau point d'étape" });
    // The types of the patient's programme (the pain pathway), not another's.
    const types = await form.getByLabel('Type', { exact: true }).locator('option').allTextContents();
    assert.ok(types.includes("Bilan de fin de parcours"), types.join(' | '));
    assert.ok(!types.includes('Réunion de synthèse de la microstructure'), types.join(' | '));
    await fill(form, { 'Type': "Point d'étape avec l'IRDP", 'Prévu le': '2026-12-21' });
    await form.getByRole('button', { name: "Ajouter un point d'étape" }).click();
    await card(page, "Points d'étape", "Point d'étape avec l'IRDP — 21/12/2026").waitFor();

    await page.getByRole('status').getByText('6 en attente', { exact: true }).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind IN ('care_plan', 'objective', 'review', 'care_plan_item')"), '0', 'nothing left the phone yet');
    await nurse.setOnline(true);
    await settle(page);
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'care_plan_item'"), '3');

    // The GP sees all of it and countersigns the TENS order from her phone.
    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    await openPatient(gp.page);
    await card(gp.page, 'Objectifs', 'Douleur moyenne ≤ 4').waitFor();
    await card(gp.page, "Points d'étape", "Point d'étape avec l'IRDP — 21/12/2026").waitFor();
    await card(gp.page, 'Le plan', 'Plan personnalisé de soins').getByText('Infirmière ressource douleur (IRDP) : Claire Martin').waitFor();
    const tens = card(gp.page, 'Actions du plan', 'TENS lombaire');
    await tens.getByText('Base légale : Prescription infirmière (art. L4311-1 CSP)').waitFor();
    await tens.getByRole('button', { name: 'Contresigner la prescription' }).click();
    await tens.getByText(/Contresigné par Dr Paul Durand le/).waitFor();
    await settle(gp.page);
    await settle(page);
    await card(page, 'Actions du plan', 'TENS lombaire').getByText(/Contresigné par Dr Paul Durand le/).waitFor();
    assert.equal(await card(page, 'Actions du plan', 'TENS lombaire').getByRole('button', { name: 'Contresigner la prescription' }).count(), 0, 'only the GP countersigns');

    // Printed for the patient and the GP: the plan alone, no buttons or forms.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.getByRole('heading', { name: 'Plan personnalisé de soins (PPS)' }).isVisible(), true);
    assert.equal(await card(page, 'Actions du plan', 'TENS lombaire').isVisible(), true);
    assert.equal(await page.getByRole('button', { name: 'Imprimer le plan' }).isVisible(), false);
    assert.equal(await page.getByRole('heading', { name: 'Nouvelle évaluation de la douleur' }).isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Synchroniser' }).isVisible(), false);
    await page.emulateMedia({ media: 'screen' });

    // The physiotherapist and the nurse edit the physiotherapy item offline.
    await signIn(physio.page, server, 'lea', 'demo-lea');
    await openPatient(physio.page);
    await physio.setOnline(false);
    await nurse.setOnline(false);
    const edit = async (p, fields) => {
      const c = card(p, 'Actions du plan', 'Kinésithérapie');
      await c.getByRole('button', { name: 'Modifier « Kinésithérapie »' }).click();
      const f = c.getByRole('form', { name: "Modifier l'action" });
      await fill(f, fields);
      await f.getByRole('button', { name: 'Enregistrer les modifications' }).click();
    };
    await edit(physio.page, { 'Fréquence': '3 fois par semaine' });
    await edit(page, { 'Notes': 'Séances le matin, douleur moins forte' });
    await physio.setOnline(true);
    await settle(physio.page);
    await nurse.setOnline(true);
    await settle(page);
    await settle(physio.page);
    for (const p of [page, physio.page]) {
      const c = card(p, 'Actions du plan', 'Kinésithérapie');
      await c.getByText('Fréquence : 3 fois par semaine').waitFor();
      await c.getByText('Notes : Séances le matin, douleur moins forte').waitFor();
      assert.equal(await c.getByText('En conflit').count(), 0, 'different fields do not conflict');
    }

    // Sophie is not in this patient's team: she sees nothing of it.
    await signIn(outsider.page, server, 'sophie', 'demo-sophie');
    await settle(outsider.page);
    assert.equal(await outsider.page.getByRole('link', { name: new RegExp(PATIENT) }).count(), 0);
  } finally {
    for (const p of [nurse, gp, physio, outsider]) await p.context.close();
  }
});
