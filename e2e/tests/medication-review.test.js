// The pharmacist's medication review at 360 × 740, by role and label: at the
// pharmacy counter with no signal, the pharmacist writes Jeanne's review —
// her medicines, what she found, two recommendations to the GP; once it has
// left, the GP answers each (one accepted, one refused with its reason: a
// refusal without one is refused), and the pharmacist reads his answers
// under her recommendations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn } from './harness.js';

let server;

before(async () => {
  server = await Server.start();
  server.colleague({ username: 'ines', name: 'Inès Morel', profession: 'pharmacist', password: 'officine-du-centre', patient: 'Lefèvre' });
});
after(async () => { await server?.stop(); });

test('offline, the pharmacist writes a medication review; the GP answers each recommendation; she reads the answers', async () => {
  const pharmacist = await phone();
  const gp = await phone();
  try {
    await signIn(pharmacist.page, server, 'ines', 'officine-du-centre');
    await pharmacist.page.getByRole('link', { name: /LEFÈVRE Jeanne/ }).click();
    await pharmacist.page.getByRole('heading', { name: 'Cahier de liaison' }).waitFor();
    await pharmacist.setOnline(false);

    const form = pharmacist.page.getByRole('form', { name: 'Nouvelle entrée du cahier de liaison' });
    await form.getByRole('group', { name: "Type d'entrée" }).getByLabel('Bilan de médication').check();
    // No medicines, no recommendation: said, nothing saved.
    await form.getByRole('button', { name: 'Écrire dans le cahier' }).click();
    await form.getByText('De 1 à', { exact: false }).first().waitFor();
    await form.getByLabel(/^Médicaments/).fill('Paracétamol 1 g, 3 fois par jour\nTramadol 50 mg, le soir\nZolpidem 10 mg, au coucher');
    await form.getByLabel('Constats').fill('Somnolence le matin, deux chutes ce mois-ci.');
    await form.getByLabel(/^Recommandations au médecin/).fill('Arrêt progressif du zolpidem\nTramadol à réévaluer à 4 semaines');
    await form.getByRole('group', { name: /Adressé à/ }).getByLabel(/Dr Paul Durand/).check();
    await form.getByRole('button', { name: 'Écrire dans le cahier' }).click();
    await form.getByText("Entrée enregistrée sur l'appareil.").waitFor();
    const review = pharmacist.page.getByRole('list', { name: 'Entrées du cahier de liaison' })
      .getByRole('listitem', { name: 'Bilan de médication de Inès Morel' });
    await review.getByText("Sur l'appareil uniquement — en attente d'envoi").waitFor();
    await review.getByText('Médicaments : Paracétamol 1 g, 3 fois par jour ; Tramadol 50 mg, le soir ; Zolpidem 10 mg, au coucher').waitFor();
    assert.equal(await review.getByText('Sans réponse du médecin').count(), 2);
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'notebook_entry'"), '0');

    await pharmacist.setOnline(true);
    await pharmacist.page.getByRole('button', { name: 'Synchroniser' }).click();
    await pharmacist.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'notebook_entry'"), '1');

    // The GP, from his today screen, answers each recommendation.
    await signIn(gp.page, server, 'dr.durand', 'demo-durand');
    await gp.page.getByRole('link', { name: "Aujourd'hui" }).click();
    await gp.page.getByRole('list', { name: 'Messages non lus du cahier de liaison' })
      .getByRole('link', { name: /LEFÈVRE Jeanne.*Inès Morel/ }).click();
    const received = gp.page.getByRole('list', { name: 'Entrées du cahier de liaison' })
      .getByRole('listitem', { name: 'Bilan de médication de Inès Morel' });
    await received.getByRole('button', { name: 'Répondre aux recommandations' }).click();
    const answers = gp.page.getByRole('form', { name: 'Répondre aux recommandations de Inès Morel' });
    const first = answers.getByRole('group', { name: 'Recommandation 1 : Arrêt progressif du zolpidem' });
    const second = answers.getByRole('group', { name: 'Recommandation 2 : Tramadol à réévaluer à 4 semaines' });
    await first.getByLabel('Acceptée').check();
    // A refusal without its reason, and nothing said for one: refused.
    await answers.getByRole('button', { name: 'Enregistrer' }).click();
    await answers.getByText('Recommandation 2 : choisissez une réponse.').waitFor();
    await second.getByLabel('Refusée').check();
    await answers.getByRole('button', { name: 'Enregistrer' }).click();
    await answers.getByText('Un refus donne sa raison.').waitFor();
    await second.getByLabel('Raison (recommandation 2)').fill('Douleur non contrôlée sans lui, revu en janvier');
    await answers.getByRole('button', { name: 'Enregistrer' }).click();
    await received.getByText('Acceptée par Dr Paul Durand').waitFor();
    await received.getByText('Refusée par Dr Paul Durand — Douleur non contrôlée sans lui, revu en janvier').waitFor();
    await gp.page.getByRole('status').getByText('0 en attente', { exact: true }).waitFor();
    assert.equal(server.sql("SELECT count(*) FROM journal WHERE kind = 'notebook_entry'"), '2');

    // The pharmacist reads his answers under her recommendations.
    await pharmacist.page.getByRole('button', { name: 'Synchroniser' }).click();
    await review.getByText('Acceptée par Dr Paul Durand').waitFor();
    await review.getByText('Refusée par Dr Paul Durand — Douleur non contrôlée sans lui, revu en janvier').waitFor();
    await pharmacist.page.getByText('1 message(s) pour vous non lu(s)').waitFor();
  } finally {
    await pharmacist.context.close();
    await gp.context.close();
  }
});
