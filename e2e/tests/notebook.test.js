// The liaison notebook at 360 × 740, by role and label: at Jeanne's home
// with no signal, the nurse writes that she fell, addressed to the GP; once
// it has left, the GP sees it unread on his caseload and his today screen,
// opens it and marks it read; the nurse then sees who read it and when.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, unlock } from './harness.js';

let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

test('offline, the nurse writes to the GP in the notebook; he sees it unread, reads it, and she sees it read', async () => {
  const nurse = await phone();
  const gp = await phone();
  try {
    await signIn(nurse.page, server, 'claire', 'demo-claire');
    await nurse.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await nurse.page.getByRole('heading', { name: 'Cahier de liaison' }).waitFor();
    await nurse.setOnline(false);

    const form = nurse.page.getByRole('form', { name: 'Nouvelle entrée du cahier de liaison' });
    // A request without anyone to ask: refused before anything is saved.
    await form.getByRole('group', { name: "Type d'entrée" }).getByLabel('Demande à un collègue').check();
    await form.getByLabel('Message').fill('Pouvez-vous passer voir Mme Lefèvre ?');
    await form.getByRole('button', { name: 'Écrire dans le cahier' }).click();
    await form.getByText("Une demande s'adresse à au moins un collègue.").waitFor();
    await form.getByRole('group', { name: "Type d'entrée" }).getByLabel('Chute').check();
    await form.getByLabel('Message').fill('Chute ce matin dans la salle de bains, pas de douleur nouvelle.');
    await form.getByRole('group', { name: /Adressé à/ }).getByLabel(/Dr Paul Durand/).check();
    await form.getByRole('button', { name: 'Écrire dans le cahier' }).click();
    await form.getByText("Entrée enregistrée sur l'appareil.").waitFor();
    const entries = nurse.page.getByRole('list', { name: 'Entrées du cahier de liaison' });
    const fall = entries.getByRole('listitem', { name: 'Chute de Claire Martin' });
    await fall.getByText("Sur l'appareil uniquement — en attente d'envoi").waitFor();
    await fall.getByText('Pour : Dr Paul Durand').waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'notebook_entry'"), '0');

    // Back in signal: it leaves.
    await nurse.setOnline(true);
    await nurse.page.getByRole('button', { name: 'Synchroniser' }).click();
    await nurse.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'notebook_entry'"), '1');

    // The GP: unread on his caseload and on his today screen.
    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    await gp.page.getByRole('link', { name: /LEFÈVRE Jeanne.*1 message\(s\) non lu\(s\)/ }).waitFor();
    await gp.page.getByRole('link', { name: "Aujourd'hui" }).click();
    const inbox = gp.page.getByRole('list', { name: 'Messages non lus du cahier de liaison' });
    await inbox.getByRole('link', { name: /LEFÈVRE Jeanne.*Claire Martin : Chute ce matin/ }).click();
    const entry = gp.page.getByRole('list', { name: 'Entrées du cahier de liaison' })
      .getByRole('listitem', { name: 'Chute de Claire Martin' });
    await entry.getByText('Non lu').waitFor();
    await gp.page.getByText('1 message(s) pour vous non lu(s)').waitFor();
    await entry.getByRole('button', { name: 'Marquer comme lu' }).click();
    await entry.getByText(/^Lu par Dr Paul Durand le /).waitFor();
    assert.equal(await entry.getByText('Non lu').count(), 0);
    await gp.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'notebook_read'"), '1');
    // Read: gone from his today screen and his caseload.
    await gp.page.goto(`${server.url}/aujourdhui`);
    await unlock(gp.page);
    await gp.page.getByRole('heading', { name: 'Points d\'étape' }).waitFor();
    assert.equal(await gp.page.getByRole('list', { name: 'Messages non lus du cahier de liaison' }).count(), 0);

    // He answers her, from the entry.
    await gp.page.goto(`${server.url}/patients/${server.sql("SELECT id FROM patients WHERE family_name = 'Lefèvre'")}`);
    await unlock(gp.page);
    await entry.getByRole('button', { name: 'Répondre' }).click();
    const reply = gp.page.getByRole('form', { name: 'Répondre à Claire Martin' });
    await reply.getByLabel('Message').fill('Je passe la voir demain matin.');
    await reply.getByRole('button', { name: 'Enregistrer' }).click();
    await gp.page.getByRole('listitem', { name: 'Information de Dr Paul Durand' })
      .getByText(/^En réponse à Claire Martin : « Chute ce matin/).waitFor();

    // The nurse sees who read it, and his answer waiting for her.
    await nurse.page.getByRole('button', { name: 'Synchroniser' }).click();
    await fall.getByText(/^Lu par Dr Paul Durand le /).waitFor();
    await gp.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor();
    await nurse.page.getByRole('button', { name: 'Synchroniser' }).click();
    await nurse.page.getByText('1 message(s) pour vous non lu(s)').waitFor();
  } finally {
    await nurse.context.close();
    await gp.context.close();
  }
});

test("the psychologist's note reaches the GP and nobody else: the social worker sees nothing of it, on screen or through the API", async () => {
  // A server of its own: an empty notebook to begin with.
  const server = await Server.start();
  for (const [username, name, profession] of [
    ['ines', 'Inès Moreau', 'psychologist'],
    ['paul', 'Paul Garnier', 'social_worker'],
  ]) {
    server.colleague({ username, name, profession, password: 'un mot de passe long', patient: 'Lefèvre' });
  }
  const psychologist = await phone();
  const social = await phone();
  const gp = await phone();
  try {
    // Offline at the patient's home, the psychologist writes her note.
    await signIn(psychologist.page, server, 'ines', 'un mot de passe long');
    await psychologist.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await psychologist.page.getByRole('heading', { name: 'Cahier de liaison' }).waitFor();
    await psychologist.setOnline(false);
    const form = psychologist.page.getByRole('form', { name: 'Nouvelle entrée du cahier de liaison' });
    await form.getByRole('group', { name: "Type d'entrée" }).getByLabel('Note psychologique').check();
    await form.getByLabel('Message').fill('Deuil récent, idées noires évoquées : suivi rapproché.');
    await form.getByRole('button', { name: 'Écrire dans le cahier' }).click();
    await form.getByText("Entrée enregistrée sur l'appareil.").waitFor();
    await psychologist.setOnline(true);
    await psychologist.page.getByRole('button', { name: 'Synchroniser' }).click();
    await psychologist.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor();
    assert.equal(server.sql("SELECT readers FROM journal WHERE kind = 'notebook_entry'"), ',psychologist,general_practitioner,');

    // The GP reads it.
    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    await gp.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await gp.page.getByRole('listitem', { name: 'Note psychologique de Inès Moreau' }).getByText(/Deuil récent/).waitFor();

    // The social worker: nothing on screen, nothing offered, nothing through the API.
    await signIn(social.page, server, 'paul', 'un mot de passe long');
    await social.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await social.page.getByRole('heading', { name: 'Cahier de liaison' }).waitFor();
    await social.page.getByText('Le cahier est vide.').waitFor();
    const kinds = social.page.getByRole('form', { name: 'Nouvelle entrée du cahier de liaison' }).getByRole('group', { name: "Type d'entrée" });
    await kinds.getByLabel('Observation').waitFor();
    assert.equal(await kinds.getByLabel('Note psychologique').count(), 0);
    // The phone stores what the pull sends, sealed (device-lock.test.js
    // reads the stores): the pull is where a restricted note could leak.
    const pull = await social.page.evaluate(async () => (await fetch('/api/sync/pull?protocol=4')).text());
    assert.ok(Array.isArray(JSON.parse(pull).records), 'the pull answered');
    assert.ok(!pull.includes('Deuil récent'), 'the API never sends it');
  } finally {
    await psychologist.context.close();
    await social.context.close();
    await gp.context.close();
    await server.stop();
  }
});
