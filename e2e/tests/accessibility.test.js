// Every screen, as each person meets it, checked by axe-core against WCAG
// 2.1 A and AA (issue 12): no serious or critical violation. The screens are
// reached as people reach them (links, taps), with what they show filled in
// by the demo data and a few records.
import { test, before, after } from 'node:test';
import { Server, phone, signIn, unlock, expectAccessible, recordAssessment } from './harness.js';
import { apiSession, includePatient, patientSession } from '../bench/common.js';

const PATIENT = 'LEFÈVRE Jeanne';
let server;

before(async () => {
  server = await Server.start();
  server.cli(['account', 'create', '--username', 'camille', '--name', 'Camille Petit', '--profession', 'support_coordinator', '--operator', 'e2e'], 'coordination-cpts\n');
});
after(async () => { await server?.stop(); });

/** Opens an address of the app as a bookmark would, past the lock screen. */
async function open(page, address, heading) {
  await page.goto(`${server.url}${address}`);
  await unlock(page);
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

test("a nurse's screens, from the sign-in to the patient's file", async () => {
  const { page, context, setOnline } = await phone();
  try {
    await page.goto(server.url);
    await page.getByLabel('Identifiant').waitFor();
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('Identifiant').fill('claire');
    await page.getByLabel('Mot de passe').fill('demo-claire');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByLabel('Nouveau code (6 chiffres)').waitFor();
    await expectAccessible(page, 'choosing the PIN');
    await unlock(page);
    await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
    await page.getByRole('link', { name: new RegExp(PATIENT) }).waitFor();
    await expectAccessible(page, 'caseload');

    await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
    await page.getByRole('heading', { name: PATIENT, level: 1 }).waitFor();
    await recordAssessment(page, { now: 5, average: 4, worst: 7, note: 'Contrôle' });
    // The form with every problem said, too.
    await page.getByRole('button', { name: "Enregistrer l'évaluation" }).click();
    await page.getByRole('alert').filter({ hasText: 'Touchez une note de 0 à 10.' }).first().waitFor();
    await expectAccessible(page, "patient's file");

    const patientAddress = new URL(page.url()).pathname;
    await open(page, `${patientAddress}/evaluation`, 'Évaluation initiale');
    await expectAccessible(page, 'initial evaluation');
    await open(page, '/aujourdhui', /Aujourd'hui/);
    await expectAccessible(page, 'today');
    await open(page, '/inclusion', 'Inclure un patient');
    await expectAccessible(page, 'inclusion');
    await open(page, '/reunions', 'Réunions de synthèse');
    await expectAccessible(page, 'meetings');
    await open(page, `${patientAddress}/synthese`, /^Synthèse — /);
    await expectAccessible(page, 'review summary');
    // The lock screen, and the warning of a sign-out without network.
    await page.reload();
    await page.getByLabel('Code de ce téléphone').waitFor();
    await expectAccessible(page, 'lock screen');
    await unlock(page);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await setOnline(false);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByRole('alertdialog', { name: 'Se déconnecter ?' }).waitFor();
    await expectAccessible(page, 'sign-out warning');
    await setOnline(true);
  } finally {
    await context.close();
  }
});

test("a coordinator's screens and a patient's own app", async () => {
  const coordinator = await phone();
  try {
    await signIn(coordinator.page, server, 'camille', 'coordination-cpts');
    await expectAccessible(coordinator.page, "coordinator's home");
    await coordinator.page.getByRole('link', { name: "Demandes d'appui à la coordination" }).click();
    await coordinator.page.getByRole('heading', { name: "Demandes d'appui à la coordination", level: 1 }).waitFor();
    await expectAccessible(coordinator.page, 'coordination queue');
    await open(coordinator.page, '/audit', "Journal d'audit");
    await expectAccessible(coordinator.page, 'audit trail');
  } finally {
    await coordinator.context.close();
  }

  const gp = await apiSession(server, 'dr.durand', 'demo-durand');
  const jeanne = await includePatient(server, gp, 'Lefèvre');
  await patientSession(server, gp, jeanne, 'jeanne.l', 'mon jardin fleuri');
  const { page, context } = await phone();
  try {
    await page.goto(`${server.url}/activer`);
    await page.getByRole('heading', { name: 'Activer mon compte', level: 1 }).waitFor();
    await expectAccessible(page, 'activation');
    await page.goto(`${server.url}/connexion`);
    await page.getByLabel('Identifiant').fill('jeanne.l');
    await page.getByLabel('Mot de passe').fill('mon jardin fleuri');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await unlock(page);
    await page.getByRole('heading', { name: 'Mon journal de douleur', level: 1 }).waitFor();
    await expectAccessible(page, "patient's diary");
    await page.getByRole('link', { name: 'Remplir mon journal du jour' }).click();
    await page.getByRole('heading', { level: 1 }).waitFor();
    await expectAccessible(page, 'diary entry');
  } finally {
    await context.close();
  }
});
