// The GP includes patients in the chronic-pain pathway from her phone,
// offline: one is included (the rules shown item by item), another is
// refused with the reason in French. Back online the server holds the new
// patient with the GP in the care team; nobody else sees them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, unlock, fillIdentity, answerCriteria } from './harness.js';

let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

/** Waits for a field to hold a value (prefilled from the device store). */
async function expectValue(field, value) {
  for (let i = 0; i < 50 && (await field.inputValue()) !== value; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await field.inputValue(), value);
}

test('offline, the GP includes an eligible patient and is refused an ineligible one; back online the server has the first only', async () => {
  const gp = await phone();
  const physio = await phone();
  const nurse = await phone();
  try {
    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    // Her caseload (and so her colleagues) has arrived: then the signal goes.
    await gp.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).waitFor();
    await gp.setOnline(false);
    const page = gp.page;

    // Refused: 14 years old on the inclusion day, and an exclusion answered yes.
    await page.getByRole('link', { name: 'Inclure un patient' }).click();
    let form = await fillIdentity(page, { family: 'Mercier', given: 'Théo', birth: '2012-06-01', sex: 'Masculin' });
    await answerCriteria(form, ['Douleurs chroniques', 'cancer']);
    await form.getByLabel("Date d'inclusion").fill('2026-11-20');
    await form.getByLabel("Motif d'inclusion").fill('Lombalgie');
    const rules = page.getByRole('list', { name: 'Règles du parcours' });
    await rules.getByText(/✗/).first().waitFor();
    await page.getByRole('status').filter({ hasText: "14 ans le jour de l'inclusion — non éligible" }).waitFor();
    await form.getByRole('button', { name: 'Inclure le patient' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'Patient non inclus' });
    await refusal.waitFor();
    const reasons = await refusal.getByRole('listitem').allInnerTexts();
    assert.equal(reasons.length, 2, `two reasons: ${reasons.join(' | ')}`);
    assert.ok(reasons.some((r) => /15 ans/.test(r)), `the age is a reason: ${reasons}`);
    assert.ok(reasons.some((r) => /cancer/i.test(r)), `the exclusion is a reason: ${reasons}`);
    assert.equal(await page.getByRole('heading', { name: 'Inclure un patient' }).count(), 1, 'still on the form');

    // Included: fifteen years old that very day.
    await page.goto(`${server.url}/inclusion`).catch(() => {});
    await unlock(page);
    await page.getByRole('heading', { name: 'Inclure un patient' }).waitFor();
    form = await fillIdentity(page, { family: 'Vidal', given: 'Inès', birth: '2011-11-20', sex: 'Féminin' });
    await answerCriteria(form, ['Douleurs chroniques']);
    await form.getByRole('group', { name: 'Équipe de soins' }).getByLabel('Claire Martin (Infirmière ressource douleur)').check();
    await form.getByLabel("Date d'inclusion").fill('2026-11-20');
    await form.getByLabel("Motif d'inclusion").fill('Douleurs diffuses depuis 8 mois');
    await page.getByRole('status').filter({ hasText: "15 ans le jour de l'inclusion — éligible" }).waitFor();
    // The national identifier: a wrong key is explained before anything is saved.
    await form.getByLabel('Matricule INS (NIR, 15 chiffres)').fill('2 11 11 46 102 005 99');
    await form.getByRole('group', { name: "Statut de l'identité (INS)" }).getByLabel('Qualifiée').check();
    await form.getByRole('button', { name: 'Inclure le patient' }).click();
    await form.getByRole('alert').filter({ hasText: 'Matricule INS invalide' }).waitFor();
    await form.getByLabel('Matricule INS (NIR, 15 chiffres)').fill('');
    await form.getByRole('group', { name: "Statut de l'identité (INS)" }).getByLabel('Provisoire').check();
    await form.getByRole('button', { name: 'Inclure le patient' }).click();
    await page.getByRole('heading', { name: 'VIDAL Inès' }).waitFor();

    // Still offline, the plan starts: the new team is already known by name.
    await page.getByRole('button', { name: 'Ajouter une action' }).click();
    const item = page.getByRole('form', { name: 'Nouvelle action du plan' });
    await item.getByLabel('Action', { exact: true }).fill('Éducation thérapeutique');
    await item.getByLabel('Responsable').selectOption({ label: 'Claire Martin (Infirmière ressource douleur)' });
    await item.getByRole('button', { name: "Ajouter l'action" }).click();
    await page.getByRole('list', { name: 'Actions du plan' }).getByRole('listitem', { name: 'Éducation thérapeutique' })
      .getByText('Responsable : Claire Martin').waitFor();

    // On the caseload at once, offline, and waiting to be sent.
    await page.getByRole('link', { name: /Mes patients/ }).first().click();
    await page.getByRole('link', { name: /VIDAL Inès/ }).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM patients WHERE family_name = 'Vidal'"), '0', 'nothing left the phone yet');

    await gp.setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM patients WHERE family_name = 'Vidal'"), '1');
    assert.equal(server.sql("SELECT count(*) FROM patients WHERE family_name = 'Mercier'"), '0', 'the refused patient never left the phone');
    assert.equal(server.sql(
      `SELECT group_concat(a.username, ',') FROM (SELECT a.username FROM care_team_members m JOIN accounts a ON a.id = m.account_id
       JOIN patients p ON p.id = m.patient_id WHERE p.family_name = 'Vidal' ORDER BY a.username) a`), 'claire,dr.durand');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'enrollment'"), '1');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'care_plan_item'"), '1', 'the item made offline for the new patient arrived too');
    // Still on the caseload once the server's caseload replaced the device's.
    await page.reload();
    await unlock(page);
    await page.getByRole('link', { name: /VIDAL Inès/ }).waitFor();

    // The physiotherapist is not in this patient's team: she never sees them.
    await signIn(physio.page, server, 'lea', 'demo-lea');
    await physio.page.getByRole('button', { name: 'Synchroniser' }).click();
    await physio.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(await physio.page.getByRole('link', { name: /VIDAL/ }).count(), 0);

    // The pain nurse, in the team, records the patient's consent: the pathway starts.
    await signIn(nurse.page, server, 'claire', 'demo-claire');
    await nurse.page.getByRole('link', { name: /VIDAL Inès/ }).click();
    await nurse.page.getByText(/Inclus·e le 20\/11\/2026 — Douleurs diffuses depuis 8 mois/).waitFor();
    await nurse.page.getByText(/Le parcours commence avec le consentement/).waitFor();
    const consent = nurse.page.getByRole('form', { name: 'Consentement' });
    await consent.getByLabel('Date du consentement').fill('2026-11-21');
    await consent.getByLabel('Début du parcours').fill('2026-11-21');
    // Beyond 18 months: refused on the phone, in French, before anything is saved.
    await consent.getByLabel(/Fin prévue/).fill('2028-11-21');
    await consent.getByRole('button', { name: 'Enregistrer le consentement' }).click();
    await consent.getByRole('alert').getByText(/mois/).waitFor();
    await consent.getByLabel(/Fin prévue/).fill('2027-11-21');
    await consent.getByRole('button', { name: 'Enregistrer le consentement' }).click();
    await nurse.page.getByText(/Consentement recueilli le 21\/11\/2026 \(contrat version 2026-01\) — parcours du 21\/11\/2026 au 21\/11\/2027/).waitFor();
    await nurse.page.getByRole('link', { name: "Commencer l'évaluation initiale" }).waitFor();
    await nurse.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'consent'"), '1');
    assert.equal(server.sql("SELECT json_extract(body, '$.identity.ins.status') FROM journal WHERE kind = 'enrollment'"), 'provisional');

    // The patient moves away: the pathway ends with its reason; nothing is deleted.
    await nurse.page.getByRole('button', { name: 'Sortie du parcours' }).click();
    const exit = nurse.page.getByRole('form', { name: 'Sortie du parcours' });
    await exit.getByRole('button', { name: 'Enregistrer la sortie' }).click();
    await exit.getByRole('alert').filter({ hasText: 'Motif de sortie inconnu' }).waitFor();
    await exit.getByLabel('Motif').selectOption({ label: 'Déménagement' });
    await exit.getByRole('button', { name: 'Enregistrer la sortie' }).click();
    await nurse.page.getByRole('note').filter({ hasText: /Sorti·e du parcours le .* : Déménagement/ }).waitFor();
    await nurse.page.getByText(/Consentement recueilli le 21\/11\/2026/).waitFor();
    await nurse.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind IN ('enrollment', 'consent', 'exit')"), '3');

    // Back a year later: the pain nurse includes her again, for the GP, under the same record.
    await nurse.page.getByRole('link', { name: 'Inclure dans le parcours' }).click();
    const again = nurse.page.getByRole('form', { name: 'Inclusion' });
    await expectValue(again.getByLabel('Nom de naissance'), 'Vidal');
    await again.getByRole('group', { name: 'Sexe' }).getByLabel('Féminin').check();
    await answerCriteria(again, ['Douleurs chroniques']);
    await again.getByLabel('Médecin traitant (vous incluez en son nom)').selectOption({ label: 'Dr Paul Durand' });
    await again.getByLabel("Motif d'inclusion").fill('Reprise des douleurs');
    await again.getByRole('button', { name: 'Inclure le patient' }).click();
    await nurse.page.getByRole('heading', { name: 'VIDAL Inès' }).waitFor();
    await nurse.page.getByText(/Inclus·e le .* — Reprise des douleurs/).waitFor();
    await nurse.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'enrollment'"), '2');
    assert.equal(server.sql("SELECT count(DISTINCT patient_id) FROM journal WHERE kind = 'enrollment'"), '1', 'one patient, two inclusions');
    assert.equal(server.sql("SELECT count(*) FROM patients WHERE family_name = 'Vidal'"), '1');
  } finally {
    await nurse.context.close();
    await gp.context.close();
    await physio.context.close();
  }
});

test('the GP includes an adult in the addiction microstructure, offline; a minor is refused; the evaluation is the microstructure\'s', async () => {
  const gp = await phone();
  try {
    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    await gp.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).waitFor();
    await gp.setOnline(false);
    const page = gp.page;
    await page.getByRole('link', { name: 'Inclure un patient' }).click();
    await page.getByRole('navigation', { name: 'Parcours' }).getByRole('link', { name: 'Microstructure addictions' }).click();
    await page.getByRole('link', { name: 'Microstructure addictions', current: 'page' }).waitFor();
    const answer = async (form) => {
      const groups = form.getByRole('group', { name: /Critère d/ });
      assert.equal(await groups.count(), 3, "the microstructure's own criteria");
      for (let i = 0; i < 3; i++) {
        const group = groups.nth(i);
        const inclusion = (await group.locator('legend').innerText()).includes("Critère d'inclusion");
        await group.getByLabel(inclusion ? 'Oui' : 'Non', { exact: true }).check();
      }
    };
    // Seventeen on the inclusion day: refused, the age said.
    let form = await fillIdentity(page, { family: 'Lemoine', given: 'Kevin', birth: '2009-11-21', sex: 'Masculin' });
    await answer(form);
    await form.getByLabel("Date d'inclusion").fill('2026-11-20');
    await form.getByLabel("Motif d'inclusion").fill('Consommation de cannabis quotidienne');
    await form.getByRole('button', { name: 'Inclure le patient' }).click();
    await page.getByRole('alert').filter({ hasText: 'Patient non inclus' }).getByText(/18 ans/).waitFor();

    await page.goto(`${server.url}/inclusion?parcours=addiction_microstructure`).catch(() => {});
    await unlock(page);
    form = await fillIdentity(page, { family: 'Roussel', given: 'Marc', birth: '1988-04-02', sex: 'Masculin' });
    await answer(form);
    await form.getByLabel("Date d'inclusion").fill('2026-11-20');
    await form.getByLabel("Motif d'inclusion").fill('Traitement de substitution par buprénorphine');
    await form.getByRole('button', { name: 'Inclure le patient' }).click();
    await page.getByRole('heading', { name: 'ROUSSEL Marc' }).waitFor();

    await gp.setOnline(true);
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(server.sql(
      "SELECT count(*) FROM journal j JOIN patients p ON p.id = j.patient_id WHERE j.kind = 'enrollment' AND p.family_name = 'Roussel' AND j.body LIKE '%\"programme_id\":\"addiction_microstructure\"%'"), '1');
    assert.equal(server.sql("SELECT count(*) FROM patients WHERE family_name = 'Lemoine'"), '0');
    // Its evaluation is the microstructure's: its instruments, its history.
    await page.goto(`${server.url}/patients/${server.sql("SELECT id FROM patients WHERE family_name = 'Roussel'")}/evaluation`);
    await unlock(page);
    await page.getByText('ROUSSEL Marc · Microstructure addictions').waitFor();
    await page.getByLabel(/Consommations et conduites/).waitFor();
  } finally {
    await gp.context.close();
  }
});
