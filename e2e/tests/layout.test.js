// What a nurse's finger meets (issue 12): the page does not move when a sync
// starts or ends, online or not; the pending count stays in view; with the
// phone's text at 200 % on a 320 px screen nothing overflows, and the header
// says who is signed in, whole, beside a button it does not run under.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, phone, signIn, unlock, recordAssessment } from './harness.js';
import { apiSession, includeNewPatients, assessment, push } from '../bench/common.js';

const PATIENT = 'LEFÈVRE Jeanne';
let server;

before(async () => { server = await Server.start(); });
after(async () => { await server?.stop(); });

/** Where the heading and the first card are, each time the sync line changes. */
async function watchPositions(page) {
  await page.evaluate(() => {
    window.__positions = [];
    const sample = () => {
      const card = document.querySelector('main li');
      window.__positions.push({
        state: document.querySelector('.sync .state')?.textContent ?? '',
        heading: document.querySelector('main h1').getBoundingClientRect().top,
        card: card ? card.getBoundingClientRect().top : null,
        bar: document.querySelector('.sync').getBoundingClientRect().height,
      });
    };
    new MutationObserver(sample).observe(document.querySelector('.sync'), { subtree: true, childList: true, characterData: true });
    sample();
  });
}

test('a sync, online or offline, moves nothing on the page, and the pending count stays in view', async () => {
  const { page, context, setOnline } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await page.getByRole('link', { name: new RegExp(PATIENT) }).waitFor();
    await page.getByText(/Dernière synchronisation/).waitFor();
    await page.getByText('Synchronisation…').waitFor({ state: 'hidden' });
    await watchPositions(page);
    const syncButton = page.getByRole('button', { name: 'Synchroniser' });
    await syncButton.click();
    await page.waitForFunction(() => window.__positions.some((p) => p.state === 'Synchronisation…'));
    await page.getByText('Synchronisation…').waitFor({ state: 'hidden' });
    // Offline, the longest status there is.
    await setOnline(false);
    await syncButton.click();
    await page.getByRole('status').getByText(/Hors ligne/).waitFor();
    await setOnline(true);
    await syncButton.click();
    await page.getByRole('status').getByText(/Hors ligne/).waitFor({ state: 'hidden', timeout: 20_000 });
    const positions = await page.evaluate(() => window.__positions);
    const states = new Set(positions.map((p) => p.state));
    assert.ok(states.has('Synchronisation…') && [...states].some((s) => s.startsWith('Hors ligne')), [...states].join(' | '));
    for (const key of ['heading', 'card', 'bar']) {
      const seen = new Set(positions.map((p) => Math.round(p[key] * 2) / 2));
      assert.equal(seen.size, 1, `${key} moved: ${JSON.stringify(positions)}`);
    }

    // On a long page, the count is still on screen at the bottom.
    await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
    await page.getByRole('heading', { name: PATIENT }).waitFor();
    // Her most frequent action is on the first screen, not below the plan.
    const form = await page.getByRole('heading', { name: 'Nouvelle évaluation de la douleur' }).boundingBox();
    assert.ok(form.y + form.height <= 740, `the pain form starts ${Math.round(form.y)} px down`);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const pending = page.getByRole('status').getByText(/en attente/);
    const box = await pending.boundingBox();
    const height = await page.evaluate(() => window.innerHeight);
    assert.ok(box && box.y >= 0 && box.y + box.height <= height, `the count scrolled away: ${JSON.stringify(box)}`);
  } finally {
    await context.close();
  }
});

/** Nothing wider than the screen, and no text cut inside its own box. */
async function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    // Page coordinates: a page too wide may also have scrolled sideways.
    const right = (e) => e.getBoundingClientRect().right + window.scrollX;
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => e.getClientRects().length > 0 && right(e) > width + 0.5)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} « ${e.textContent.trim().slice(0, 30)} » (${Math.round(right(e))} px)`);
    // Text running out of its box (a word too long to wrap) shows only in
    // the text's own rectangles.
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      const r = range.getBoundingClientRect();
      // Text cut on purpose (the sync band's ellipsis) stays inside its box.
      const clipped = getComputedStyle(node.parentElement).overflowX !== 'visible';
      if (!clipped && r.width > 0 && r.right + window.scrollX > width + 0.5) {
        wide.push(`text « ${node.textContent.trim().slice(0, 30)} » in ${node.parentElement.tagName.toLowerCase()}.${node.parentElement.className} (${Math.round(r.right + window.scrollX)} px)`);
      }
    }
    return { width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 8) };
  });
}

function apart(a, b) {
  return a.x + a.width <= b.x + 0.5 || b.x + b.width <= a.x + 0.5 || a.y + a.height <= b.y + 0.5 || b.y + b.height <= a.y + 0.5;
}

test('a patient arriving with a sync takes no card\'s place: the newcomer comes last, and in order at the next visit', async () => {
  const { page, context } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    const cards = page.getByRole('list', { name: 'Patients' }).getByRole('listitem');
    await page.getByRole('link', { name: /MOREAU/ }).waitFor();
    await page.getByText('Synchronisation…').waitFor({ state: 'hidden' });
    const before = await cards.allInnerTexts();
    const tops = async () => Promise.all((await cards.all()).map(async (c) => (await c.boundingBox()).y));
    const topsBefore = await tops();

    // The GP includes a patient whose name comes first in the list.
    const gp = await apiSession(server, 'dr.durand', 'demo-durand');
    const claire = await apiSession(server, 'claire', 'demo-claire');
    await includeNewPatients(server, gp, claire, 1, 'AUBERT');
    await page.getByRole('button', { name: 'Synchroniser' }).click();
    await page.getByRole('link', { name: /AUBERT000/ }).waitFor();
    const after = await cards.allInnerTexts();
    assert.deepEqual(after.slice(0, before.length), before, 'the cards on screen kept their places');
    assert.match(after[before.length], /AUBERT000/, 'the newcomer is last');
    assert.deepEqual((await tops()).slice(0, before.length), topsBefore, 'no card moved');

    // Back on the page later, the list is in order again.
    await page.getByRole('link', { name: /MOREAU/ }).click();
    await page.getByRole('link', { name: '← Mes patients' }).click();
    await page.getByRole('heading', { name: 'Mes patients', level: 1 }).waitFor();
    await page.getByRole('link', { name: /AUBERT000/ }).waitFor();
    assert.match((await cards.allInnerTexts())[0], /AUBERT000/);
  } finally {
    await context.close();
  }
});

/** Marks what the page shows now; after a sync, says how much of it is still the same elements. */
async function keptAfterSync(page, selector) {
  const marked = await page.evaluate((sel) => {
    window.__kept = [...document.querySelectorAll(sel)];
    return window.__kept.length;
  }, selector);
  assert.ok(marked > 0, `nothing matches ${selector}`);
  const done = page.waitForResponse((r) => r.url().includes('/api/sync/checksum'));
  await page.getByRole('button', { name: 'Synchroniser' }).click();
  await done;
  // The screens read the device again once the sync has ended.
  await page.waitForTimeout(500);
  return page.evaluate(() => window.__kept.filter((el) => el.isConnected).length / window.__kept.length);
}

test('a sync or a save folds nothing the nurse unfolded, and a sync with nothing new keeps the page\'s elements', async () => {
  const { page, context } = await phone();
  try {
    // Two pages of assessments for one patient.
    const claire = await apiSession(server, 'claire', 'demo-claire');
    const lefevre = server.sql("SELECT id FROM patients WHERE family_name = 'Lefèvre'");
    await push(server, claire, Array.from({ length: 25 }, (_, i) => ({ ...assessment(claire, i), patient_id: lefevre })));

    await signIn(page, server, 'claire', 'demo-claire');
    await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
    const list = page.getByRole('list', { name: 'Évaluations de la douleur' }).getByRole('listitem');
    await page.getByRole('button', { name: /Afficher plus \(20 sur 25\)/ }).click();
    await list.nth(24).waitFor();

    // Her own save, then a sync, draw the list again: it stays unfolded.
    await recordAssessment(page, { now: 4, average: 3, worst: 6, note: 'Après avoir déplié' });
    await page.getByRole('list', { name: 'Évaluations de la douleur' }).getByText('Après avoir déplié').waitFor();
    await page.getByText('0 en attente', { exact: true }).waitFor();
    assert.equal(await list.count(), 26, 'the list folded back to its first page');
    await page.getByText('Synchronisation…').waitFor({ state: 'hidden' });
    assert.equal(await keptAfterSync(page, 'main h1, ul.assessments li'), 1, "the patient's heading and assessments were drawn anew");
    assert.equal(await list.count(), 26);

    await page.goto(`${server.url}/aujourdhui`);
    await unlock(page);
    await page.getByRole('heading', { name: 'Points d\'étape' }).waitFor();
    await page.getByText('Synchronisation…').waitFor({ state: 'hidden' });
    assert.equal(await keptAfterSync(page, 'main h2, main li'), 1, "today's sections were drawn anew");
  } finally {
    await context.close();
  }
});

test('text at 200 % on a 320 px screen: nothing overflows, the header is whole and readable', async () => {
  const { page, context } = await phone();
  try {
    await signIn(page, server, 'claire', 'demo-claire');
    await page.setViewportSize({ width: 320, height: 740 });
    // The phone's text size setting: the page's default font size doubled.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Page.setFontSizes', { fontSizes: { standard: 32, fixed: 26 } });
    await page.reload();
    await unlock(page);
    await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
    await page.getByText(/Dernière synchronisation/).waitFor();
    const rootSize = await page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
    assert.equal(rootSize, '32px', 'the text is at 200 %');

    const banner = page.getByRole('banner');
    const name = banner.getByText('Claire Martin', { exact: true });
    const role = banner.getByText(/Infirmière/);
    const signOut = banner.getByRole('button', { name: 'Se déconnecter' });
    for (const [what, el] of [['name', name], ['profession', role]]) {
      const cut = await el.evaluate((e) => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1);
      assert.equal(cut, false, `the ${what} is cut`);
      assert.ok(apart(await el.boundingBox(), await signOut.boundingBox()), `the ${what} runs under "Se déconnecter"`);
    }
    const last = page.getByText(/Dernière synchronisation/);
    assert.ok(apart(await last.boundingBox(), await page.getByRole('button', { name: 'Synchroniser' }).boundingBox()),
      '"Dernière synchronisation" hides under "Synchroniser"');

    for (const where of ['caseload', 'patient']) {
      if (where === 'patient') {
        await page.getByRole('link', { name: new RegExp(PATIENT) }).click();
        await page.getByRole('heading', { name: PATIENT }).waitFor();
        await page.getByRole('group', { name: 'Douleur actuelle (0 à 10)' }).waitFor();
        // The visit form's team, drawn a moment later, holds the longest word.
        await page.getByRole('checkbox', { name: /Léa Robert/ }).first().waitFor();
      }
      const o = await overflow(page);
      assert.ok(o.scrollWidth <= o.width, `${where}: ${o.scrollWidth} px wide on a ${o.width} px screen: ${o.wide.join(', ')}`);
    }
  } finally {
    await context.close();
  }
});
