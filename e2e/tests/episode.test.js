// Continuity across relapses: offline, the nurse notes that Jeanne broke off
// her follow-up; the pathway shows it as an episode (not an exit), the
// timeline too, and the GP sees it once it has left — with who last saw her.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Server, phone, signIn } from './harness.js';
import { apiSession, includePatient, push } from '../bench/common.js';

let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

test('a break in follow-up is an episode of the pathway, seen by the team, and the pathway goes on', async () => {
  const gpApi = await apiSession(server, 'dr.durand', 'demo-durand');
  const nurseApi = await apiSession(server, 'claire', 'demo-claire');
  const jeanne = await includePatient(server, gpApi, 'Lefèvre');
  // The nurse's last home visit (set-up through the API).
  const at = Date.now() - 20 * 86_400_000;
  await push(server, nurseApi, [{
    kind: 'visit', id: randomUUID(), patient_id: jeanne, author_id: nurseApi.accountId,
    device_id: nurseApi.deviceId, recorded_at: at, amends: null, visit_type: 'home', started_at: at,
    duration_minutes: 45, place: 'Domicile', with: [], actions: ['Suivi'], notes: '', evaluation: null,
  }], 4);

  const nurse = await phone();
  const gp = await phone();
  try {
    await signIn(nurse.page, server, 'claire', 'demo-claire');
    await nurse.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await nurse.page.getByText(/^Dernière visite : Claire Martin, le /).waitFor();
    await nurse.setOnline(false);
    await nurse.page.getByRole('button', { name: 'Rechute ou rupture du suivi' }).click();
    const form = nurse.page.getByRole('form', { name: 'Épisode du parcours' });
    await form.getByRole('group', { name: 'Quoi' }).getByLabel('Rupture du suivi').check();
    await form.getByLabel('Note').fill('Ne répond plus au téléphone depuis trois semaines.');
    await form.getByRole('button', { name: "Enregistrer l'épisode" }).click();
    const episodes = nurse.page.getByRole('list', { name: 'Épisodes du parcours' });
    await episodes.getByText(/^Rupture du suivi le /).waitFor();
    await episodes.getByText("(en attente d'envoi)").waitFor();
    // Not an exit: the pathway goes on, the exit stays possible.
    await nurse.page.getByRole('button', { name: 'Sortie du parcours' }).waitFor();
    await nurse.page.getByRole('list', { name: 'Chronologie du patient' }).getByText('Rupture du suivi').waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'episode'"), '0');

    await nurse.setOnline(true);
    await nurse.page.getByRole('button', { name: 'Synchroniser' }).click();
    await nurse.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'episode'"), '1');
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'exit'"), '0');

    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    await gp.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await gp.page.getByRole('list', { name: 'Épisodes du parcours' }).getByText(/Ne répond plus au téléphone/).waitFor();
    await gp.page.getByText(/^Dernière visite : Claire Martin, le /).waitFor();
  } finally {
    await nurse.context.close();
    await gp.context.close();
  }
});
