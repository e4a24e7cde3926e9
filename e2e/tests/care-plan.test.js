// The nurse and the physiotherapist edit the same care-plan item offline;
// back online both converge, the owner sees the conflict and settles it in
// one tap, and the history shows every version.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn } from './harness.js';

const PATIENT = 'LEFÈVRE Jeanne';
const ITEM = 'Kinésithérapie';
let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

async function openPatient(page) {
  await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
  await page.getByRole('heading', { name: PATIENT }).waitFor();
}

async function expectPending(page, n) {
  await page.getByRole('status').filter({ hasText: 'en attente' })
    .getByText(`${n} en attente`, { exact: true }).waitFor({ timeout: 20_000 });
}

const card = (page) => page.getByRole('list', { name: 'Actions du plan' }).getByRole('listitem', { name: ITEM });

async function edit(page, fields) {
  await card(page).getByRole('button', { name: `Modifier « ${ITEM} »` }).click();
  const form = card(page).getByRole('form', { name: "Modifier l'action" });
  for (const [label, value] of Object.entries(fields)) {
    const field = form.getByLabel(label, { exact: true });
    if (label === 'Statut' || label === 'Responsable') await field.selectOption({ label: value });
    else await field.fill(value);
  }
  await form.getByRole('button', { name: 'Enregistrer les modifications' }).click();
}

async function sync(page) {
  await page.getByRole('button', { name: 'Synchroniser' }).click();
  await expectPending(page, 0);
}

test('two people edit one item offline; the owner settles the conflict; history keeps every version', async () => {
  const nurse = await phone();
  const physio = await phone();
  try {
    // Claire adds an item owned by Léa, the physiotherapist.
    await signIn(nurse.page, server, 'claire', 'demo-claire');
    await openPatient(nurse.page);
    await nurse.page.getByRole('button', { name: 'Ajouter une action' }).click();
    const form = nurse.page.getByRole('form', { name: 'Nouvelle action du plan' });
    await form.getByLabel('Action', { exact: true }).fill(ITEM);
    await form.getByLabel('Responsable').selectOption({ label: 'Léa Robert (Masseur-kinésithérapeute)' });
    await form.getByLabel('Fréquence').fill('2 fois par semaine');
    await form.getByRole('button', { name: "Ajouter l'action" }).click();
    await card(nurse.page).getByText('Envoyée').waitFor({ timeout: 20_000 });
    await expectPending(nurse.page, 0);

    await signIn(physio.page, server, 'lea', 'demo-lea');
    await openPatient(physio.page);
    await card(physio.page).getByText('Responsable : Léa Robert').waitFor();

    // Both offline: the same field (frequency) and different fields.
    await nurse.setOnline(false);
    await physio.setOnline(false);
    await edit(nurse.page, { 'Fréquence': '1 fois par semaine', 'Notes': 'Douleur au réveil' });
    await edit(physio.page, { 'Fréquence': '3 fois par semaine', 'Statut': 'En cours' });
    await expectPending(nurse.page, 1);
    await expectPending(physio.page, 1);
    await card(nurse.page).getByText("Modifiée sur l'appareil — en attente d'envoi").waitFor();
    assert.equal(server.sql('SELECT count(*) FROM item_versions'), '1');

    // The nurse reaches the server first; then the physiotherapist (the owner).
    await nurse.setOnline(true);
    await expectPending(nurse.page, 0);
    await physio.setOnline(true);
    await expectPending(physio.page, 0);
    await sync(nurse.page);

    // Both converge: the owner's frequency stands, the other edits merged.
    for (const { page } of [nurse, physio]) {
      const c = card(page);
      await c.getByText('Fréquence : 3 fois par semaine').waitFor();
      await c.getByText('Notes : Douleur au réveil').waitFor();
      await c.getByText('Statut : En cours').waitFor();
      await c.getByRole('status').filter({ hasText: 'En conflit' }).waitFor();
      await c.getByText(/Autre valeur : « 1 fois par semaine » — Claire Martin/).waitFor();
    }
    // Only the owner may settle it.
    assert.equal(await card(nurse.page).getByRole('button', { name: /Choisir/ }).count(), 0);
    await card(physio.page).getByRole('button', { name: 'Choisir « 1 fois par semaine »' }).click();
    await expectPending(physio.page, 0);
    await card(physio.page).getByText('Fréquence : 1 fois par semaine').waitFor();
    await card(physio.page).getByText('En conflit', { exact: true }).waitFor({ state: 'detached' });
    await sync(nurse.page);
    await card(nurse.page).getByText('Fréquence : 1 fois par semaine').waitFor();
    await card(nurse.page).getByText('En conflit', { exact: true }).waitFor({ state: 'detached' });

    // The history: creation, the nurse's edit, the owner's edit (with the conflict), the settlement.
    await card(nurse.page).getByRole('button', { name: `Historique de « ${ITEM} »` }).click();
    const history = card(nurse.page).getByRole('list', { name: "Historique de l'action" }).getByRole('listitem');
    await history.nth(3).waitFor();
    const entries = await history.allTextContents();
    assert.equal(entries.length, 4, entries.join('\n'));
    assert.match(entries[0], /Version 1 .* Claire Martin/);
    assert.match(entries[1], /Version 2 .* Claire Martin.*Fréquence : 1 fois par semaine/);
    assert.match(entries[2], /Version 3 .* Léa Robert.*Fréquence : 3 fois par semaine.*en conflit : Fréquence/);
    assert.match(entries[3], /Version 4 .* Léa Robert.*conflit réglé/);
    assert.doesNotMatch(entries[0], /Notes : —/, 'no blank field listed at creation');
    const toggle = card(nurse.page).getByRole('button', { name: `Historique de « ${ITEM} »` });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await toggle.click();
    await card(nurse.page).getByRole('list', { name: "Historique de l'action" }).waitFor({ state: 'detached' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    // Without network: what the phone knows of each field's last change.
    await nurse.setOnline(false);
    await toggle.click();
    await card(nurse.page).getByText("Hors ligne : l'historique complet s'affichera avec le réseau.").waitFor();
    await card(nurse.page).getByRole('list', { name: "Historique de l'action" })
      .getByText(/^Fréquence : 1 fois par semaine — Léa Robert, /).waitFor();
    await nurse.setOnline(true);
    assert.equal(server.sql('SELECT count(*) FROM item_versions'), '4');
  } finally {
    await nurse.context.close();
    await physio.context.close();
  }
});
