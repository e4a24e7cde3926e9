// The audit trail at 360 × 740, by role and label: the CPTS's support
// coordinator finds who opened Jeanne's file, narrows to one person, and
// exports what she sees as CSV; a nurse has no such screen, and the server
// refuses her if she types its address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Server, phone, signIn, unlock } from './harness.js';

let server;

before(async () => {
  server = await Server.start();
  server.cli(['account', 'create', '--username', 'camille', '--name', 'Camille Petit', '--profession', 'support_coordinator', '--operator', 'e2e'], 'coordination-cpts\n');
});
after(async () => { await server?.stop(); });

test('a support coordinator reads who opened a file, filters, and exports it; a nurse cannot', async () => {
  const nurse = await phone();
  const coordinator = await phone();
  try {
    // The nurse's phone reads her caseload: a row per patient.
    await signIn(nurse.page, server, 'claire', 'demo-claire');
    assert.equal(await nurse.page.getByRole('link', { name: "Journal d'audit" }).count(), 0);
    await nurse.page.goto(`${server.url}/audit`);
    await unlock(nurse.page);
    await nurse.page.getByRole('alert').getByText("Le journal d'audit est réservé aux coordinateurs d'appui de la CPTS.").waitFor();

    await signIn(coordinator.page, server, 'camille', 'coordination-cpts');
    const page = coordinator.page;
    await page.getByRole('link', { name: "Journal d'audit" }).click();
    await page.getByRole('heading', { name: "Journal d'audit" }).waitFor();
    await page.getByLabel('Patient', { exact: true }).selectOption({ label: 'LEFÈVRE Jeanne' });
    const rows = page.getByRole('list', { name: "Lignes du journal d'audit" });
    await rows.getByRole('listitem', { name: 'Lecture de la liste de patients — Claire Martin' }).first().waitFor();
    // Only Jeanne's rows.
    for (const text of await rows.getByRole('listitem').allInnerTexts()) {
      assert.ok(text.includes('LEFÈVRE Jeanne'), text);
    }
    // Narrowed to one person: the GP never opened anything.
    await page.getByLabel('Personne', { exact: true }).selectOption({ label: 'Dr Paul Durand' });
    await page.getByText('Aucune ligne pour ces filtres.').waitFor();
    await page.getByLabel('Personne', { exact: true }).selectOption({ label: 'Claire Martin' });
    await rows.getByRole('listitem').first().waitFor();

    // Exported as she sees it.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Exporter en CSV' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.replace(/^\uFEFF/, '').trim().split(/\r?\n/);
    assert.match(lines[0], /^n°;quand \(UTC, ms\);qui;/);
    assert.ok(lines.length > 1);
    assert.ok(lines.slice(1).every((l) => l.includes('Claire Martin') && l.includes('LEFÈVRE Jeanne')), csv);

    // Her readings are in the trail too.
    assert.ok(Number(server.sql("SELECT count(*) FROM audit_events WHERE action = 'read_audit'")) >= 4);
  } finally {
    await nurse.context.close();
    await coordinator.context.close();
  }
});
