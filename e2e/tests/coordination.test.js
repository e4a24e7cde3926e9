// Coordination support at 360 × 740, by role and label: the social worker
// of Jeanne's team asks for support, offline at her home; Sophie, a
// coordinator of the CPTS outside Jeanne's team, finds it in the queue,
// takes it — and only then has Jeanne's file — and, offline, writes the
// needs assessment and three steps with their owners; everything reaches
// the server, and the social worker sees the request followed up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn } from './harness.js';

let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

const STEPS = [
  ['Demande de téléassistance', 'Nadia Benali'],
  ['Bilan de la marche et des transferts', 'Léa Robert'],
  ['Réévaluation des traitements', 'Dr Paul Durand'],
];

test('a social worker asks offline; a coordinator outside the team takes it, assesses and plans three steps offline', async () => {
  server.colleague({ username: 'nadia', name: 'Nadia Benali', profession: 'social_worker', password: 'service-social-cpts', patient: 'Lefèvre' });
  const social = await phone();
  const coordinator = await phone();
  try {
    await signIn(social.page, server, 'nadia', 'service-social-cpts');
    await social.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    const section = social.page.getByRole('region', { name: 'Appui à la coordination' });
    await section.waitFor();
    await social.setOnline(false);
    await section.getByRole('button', { name: 'Demander un appui à la coordination' }).click();
    const form = section.getByRole('form', { name: "Demande d'appui à la coordination" });
    await form.getByLabel('Pourquoi la situation est complexe').fill('Vit seule, chutes répétées, refuse les aides à domicile.');
    await form.getByRole('group', { name: 'Urgence' }).getByLabel('Dans la semaine').check();
    await form.getByRole('group', { name: /Domaines en difficulté/ }).getByLabel('Logement').check();
    // Urgent, but without saying what: refused before anything is saved.
    await form.getByRole('button', { name: 'Envoyer la demande' }).click();
    await form.getByRole('alert').getByText('Dites ce qui ne peut pas attendre.').waitFor();
    await form.getByLabel('Ce qui ne peut pas attendre').fill('Plus de repas livrés depuis lundi.');
    await form.getByRole('button', { name: 'Envoyer la demande' }).click();
    const request = section.getByRole('article', { name: "Demande d'appui de Nadia Benali" });
    await request.getByText("Sur l'appareil uniquement — en attente d'envoi").waitFor();
    await request.getByText('Nouvelle — Dans la semaine').waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'coordination_request'"), '0');
    await social.setOnline(true);
    await social.page.getByRole('button', { name: 'Synchroniser' }).click();
    await social.page.getByText('0 en attente').waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'coordination_request'"), '1');

    // Sophie coordinates for the CPTS; Jeanne is not in her caseload.
    await signIn(coordinator.page, server, 'sophie', 'demo-sophie');
    const page = coordinator.page;
    assert.equal(await page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).count(), 0);
    await page.getByRole('link', { name: "Demandes d'appui à la coordination" }).click();
    const fresh = page.getByRole('region', { name: 'Nouvelles (1)' });
    const entry = fresh.getByRole('listitem', { name: 'Demande pour LEFÈVRE Jeanne' });
    await entry.getByText('demandée par Nadia Benali', { exact: false }).waitFor();
    await entry.getByText('Plus de repas livrés depuis lundi.', { exact: false }).waitFor();
    await entry.getByRole('button', { name: 'Prendre en charge' }).click();
    await page.getByRole('heading', { name: 'LEFÈVRE Jeanne' }).waitFor();
    const taken = page.getByRole('region', { name: 'Appui à la coordination' }).getByRole('article');
    await taken.getByText('En évaluation — Dans la semaine').waitFor();

    // At Jeanne's home, no signal: the needs, then three steps with owners.
    await coordinator.setOnline(false);
    await taken.getByRole('button', { name: 'Évaluer les besoins' }).click();
    const assessment = page.getByRole('form', { name: 'Évaluation des besoins' });
    await assessment.getByLabel('Patient contacté').check();
    await assessment.getByLabel('Médecin traitant contacté').check();
    await assessment.getByLabel('Existant — Logement').fill('Aide-ménagère 2 h par semaine');
    await assessment.getByLabel('Besoin — Logement').fill("Téléassistance, barres d'appui");
    await assessment.getByLabel('Besoin — Fonctionnel (autonomie)').fill('Bilan de la marche');
    await assessment.getByRole('button', { name: "Enregistrer l'évaluation" }).click();
    await taken.getByText('En suivi — Dans la semaine').waitFor();
    for (const [title, owner] of STEPS) {
      await page.getByRole('button', { name: 'Ajouter une action' }).click();
      const step = page.getByRole('form', { name: 'Nouvelle action du plan' });
      await step.getByLabel("Type d'action").selectOption({ label: 'Appui à la coordination' });
      await step.getByLabel('Action', { exact: true }).fill(title);
      const option = await step.getByLabel('Responsable').locator('option', { hasText: owner }).textContent();
      await step.getByLabel('Responsable').selectOption({ label: option });
      await step.getByLabel('Fin').fill('2026-12-31');
      await step.getByRole('button', { name: "Ajouter l'action" }).click();
      await page.getByRole('listitem', { name: title }).waitFor();
    }
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'needs_assessment'"), '0');

    // Still offline, she corrects her assessment (it starts from what she
    // wrote) and a check-in: each correction replaces the first on screen.
    await taken.getByRole('button', { name: "Corriger l'évaluation" }).click();
    const fix = page.getByRole('form', { name: "Corriger l'évaluation des besoins" });
    assert.equal(await fix.getByLabel('Besoin — Logement').inputValue(), "Téléassistance, barres d'appui");
    await fix.getByLabel('Existant — Logement').fill('Aide-ménagère 4 h par semaine');
    await fix.getByRole('button', { name: "Enregistrer l'évaluation" }).click();
    await taken.getByText('Logement — existant : Aide-ménagère 4 h par semaine', { exact: false }).waitFor();
    await taken.getByText(/^Corrigée le /).waitFor();
    assert.equal(await taken.getByText('Aide-ménagère 2 h', { exact: false }).count(), 0);
    await taken.getByRole('button', { name: 'Noter un point de suivi' }).click();
    const checkIn = page.getByRole('form', { name: 'Point de suivi' });
    await checkIn.getByLabel('Ce qui a été fait ou dit').fill('Appel à sa fille');
    await checkIn.getByRole('button', { name: 'Enregistrer', exact: true }).click();
    await taken.getByRole('button', { name: /^Corriger : .*Appel à sa fille/ }).click();
    const fixCheckIn = page.getByRole('form', { name: 'Corriger le point de suivi' });
    await fixCheckIn.getByLabel('Ce qui a été fait ou dit').fill('Appel à son fils');
    await fixCheckIn.getByRole('button', { name: 'Enregistrer', exact: true }).click();
    await taken.getByText(/Point de suivi : Appel à son fils/).waitFor();
    assert.equal(await taken.getByText('Appel à sa fille', { exact: false }).count(), 0);

    await coordinator.setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await page.getByText('0 en attente').waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'needs_assessment'"), '2');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'coordination_event' AND amends IS NOT NULL"), '1');
    assert.equal(
      server.sql("SELECT count(*) FROM journal WHERE kind = 'care_plan_item' AND body LIKE '%\"category\":\"coordination\"%'"),
      '3',
    );

    // The social worker sees it followed up, and the steps in the plan.
    await social.page.getByRole('button', { name: 'Synchroniser' }).click();
    await request.getByText('En suivi — Dans la semaine').waitFor();
    await request.getByText('Prise en charge par Sophie Bernard', { exact: false }).waitFor();
    await social.page.getByRole('listitem', { name: 'Demande de téléassistance' }).getByText('Responsable : Nadia Benali').waitFor();
  } finally {
    await social.context.close();
    await coordinator.context.close();
  }
});
