// The pathway's screens on a phone (headless Chromium, 360 × 740), with one
// patient followed for two years: a daily pain score, a home visit every
// two weeks with the numeric scale filled in it, the DN4 every quarter.
// Measures, printing JSON lines and asserting nothing:
//  - opening that patient's page (pathway, plan, assessments, timeline),
//    from the caseload (app loaded) and by a cold reload of the page;
//  - an offline reload of the "Aujourd'hui" screen (a lazy module served by
//    the service worker, the day computed from IndexedDB).
//   node bench/pathway.js [runs]   (PARCOURS_SERVER_BIN, PARCOURS_DIST as for the tests)
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, phone, signIn, unlock, waitForServiceWorker, ROOT } from '../tests/harness.js';
import { apiSession, push } from './common.js';

const runs = Number(process.argv[2] || 15);
const DAY = 86_400_000;
const PATIENT = 'LEFÈVRE Jeanne';
const instrument = (id) => JSON.parse(readFileSync(path.join(ROOT, 'domain', 'instruments', `${id}.json`), 'utf8'));
const EN = instrument('en');
const DN4 = instrument('dn4');

/** The scores as the domain computes them, for the rules these two use (value, sum). */
function score(ins, answers) {
  return ins.scores.map((def) => {
    const items = def.rule.value ? [def.rule.value] : def.rule.sum;
    const points = items.filter((i) => i in answers).map((i) => Number(answers[i]));
    const needed = def.min_answered ?? items.length;
    const complete = points.length >= needed && points.length > 0;
    const value = points.reduce((a, b) => a + b, 0);
    const band = complete ? [...def.bands].reverse().find((b) => value >= b.from)?.label ?? null : null;
    return { id: def.id, value: complete ? value : null, answered: points.length, needed, band };
  });
}

function records(nurse, patient, now) {
  const base = (kind, at) => ({
    kind, id: randomUUID(), patient_id: patient, author_id: nurse.accountId, device_id: nurse.deviceId,
    recorded_at: at, amends: null,
  });
  const out = [];
  for (let d = 730; d >= 1; d--) {
    const at = now - d * DAY;
    const pain = 3 + ((d * 7) % 6);
    out.push({ ...base('pain_assessment', at), mode: 'interview', pain_now: pain, pain_average_24h: Math.max(0, pain - 1),
      pain_worst_24h: Math.min(10, pain + 2), location: 'Lombaires', note: 'Relevé quotidien' });
    if (d % 14 === 0) {
      const visit = { ...base('visit', at), visit_type: 'home', started_at: at - 45 * 60_000, duration_minutes: 45,
        place: 'Domicile', with: [], actions: ['Suivi', 'Éducation thérapeutique'], notes: 'Visite de suivi à domicile, marche 20 minutes sans pause.', evaluation: null };
      out.push(visit);
      const answers = { pain_now: pain, pain_average_24h: Math.max(0, pain - 1), pain_worst_24h: Math.min(10, pain + 2) };
      out.push({ ...base('instrument_response', at), instrument_id: 'en', instrument_version: EN.version, language: EN.language,
        mode: 'interview', visit_id: visit.id, answers, scores: score(EN, answers) });
      if (d % 91 === 0) {
        const yes = Object.fromEntries(DN4.items.slice(0, 7).map((it, k) => [it.id, (d + k) % 3 === 0]));
        out.push({ ...base('instrument_response', at), instrument_id: 'dn4', instrument_version: DN4.version, language: DN4.language,
          mode: 'interview', visit_id: visit.id, answers: yes, scores: score(DN4, yes) });
      }
    }
  }
  return out;
}

const pct = (arr, p) => [...arr].sort((a, b) => a - b)[Math.min(arr.length - 1, Math.floor((p / 100) * arr.length))];
const summary = (bench, samples, extra = {}) => console.log(JSON.stringify({
  bench, runs: samples.length, median: Math.round(pct(samples, 50)), p95: Math.round(pct(samples, 95)),
  max: Math.round(Math.max(...samples)), ...extra,
}));

const server = await Server.start();
const { context, page } = await phone();
try {
  const nurse = await apiSession(server, 'claire', 'demo-claire');
  const caseload = await (await fetch(`${server.url}/api/caseload`, { headers: { cookie: nurse.cookie } })).json();
  const patient = caseload.find((p) => p.family_name === 'Lefèvre').id;
  const all = records(nurse, patient, Date.now());
  for (let i = 0; i < all.length; i += 400) await push(server, nurse, all.slice(i, i + 400), 4);

  await signIn(page, server, 'claire', 'demo-claire');
  await waitForServiceWorker(page);
  await page.getByText(/Dernière synchronisation/).waitFor({ timeout: 120_000 });
  const link = page.getByRole('link', { name: new RegExp(PATIENT) });
  const opened = async () => {
    await page.getByRole('list', { name: 'Chronologie du patient' }).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: /^Évaluations \(730\)$/ }).waitFor({ timeout: 60_000 });
  };

  // From the caseload, the app loaded: the tap to the whole page.
  const warm = [];
  for (let i = 0; i < runs + 2; i++) {
    await page.goto(server.url);
    await unlock(page);
    await link.waitFor();
    const t0 = performance.now();
    await link.click();
    await opened();
    if (i >= 2) warm.push(performance.now() - t0);
  }
  summary('open_patient_2_years_from_caseload_ms', warm, { records: all.length });

  // A cold reload of the patient's page: wasm, its lazy module, then the data.
  const cold = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    await page.reload();
    await unlock(page);
    await opened();
    if (i >= 2) cold.push(performance.now() - t0);
  }
  summary('open_patient_2_years_reload_ms', cold, { records: all.length });

  // Offline: reload of the today screen.
  await page.goto(`${server.url}/aujourdhui`);
  await unlock(page);
  await page.getByRole('heading', { name: /^Aujourd'hui, / }).waitFor();
  await context.setOffline(true);
  const today = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    await page.reload();
    await unlock(page);
    await page.getByRole('heading', { name: 'Mes visites du jour' }).waitFor();
    if (i >= 2) today.push(performance.now() - t0);
  }
  summary('offline_reload_to_today_ms', today);
} finally {
  await context.close();
  await server.stop();
}
