// What every e2e scenario needs: the real server binary on a free port with
// its own data folder, and Debian's Chromium at a phone's size.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const SERVER_BIN = process.env.PARCOURS_SERVER_BIN || path.join(ROOT, 'target', 'release', 'parcours-server');
export const DIST = process.env.PARCOURS_DIST || path.join(ROOT, 'dist');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const PHONE = { width: 360, height: 740 };

// Flags that keep Chromium quiet on a closed network.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A Parcours server process with its own SQLite file; stop() and start() keep the data. */
export class Server {
  /** `wording`: the deployment holds the licensed instruments' wording (the test files in fixtures/wording). */
  static async start({ wording = false } = {}) {
    const s = new Server();
    s.wording = wording;
    s.dir = mkdtempSync(path.join(tmpdir(), 'parcours-e2e-'));
    s.port = await freePort();
    s.dbPath = path.join(s.dir, 'parcours.db');
    await s.start();
    return s;
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  async start() {
    this.proc = spawn(SERVER_BIN, [
      'serve', '--demo', '--addr', `127.0.0.1:${this.port}`, '--dist', DIST,
      '--database-url', `sqlite://${this.dbPath}`,
      ...(this.wording ? ['--wording-dir', path.join(here, '..', 'fixtures', 'wording')] : []),
    ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
    this.output = '';
    this.proc.stdout.on('data', (d) => { this.output += d; });
    this.proc.stderr.on('data', (d) => { this.output += d; });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`server exited: ${this.output}`);
      try {
        const res = await fetch(`${this.url}/healthz`);
        if (res.ok) return;
      } catch (_) { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server did not start: ${this.output}`);
  }

  /** SIGKILL: no graceful shutdown, as in a crash. */
  async kill() {
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs an operator command of the server binary on this server's database. */
  cli(args, stdin = '') {
    return execFileSync(SERVER_BIN, ['--database-url', `sqlite://${this.dbPath}`, ...args], {
      encoding: 'utf8', input: stdin, env: { ...process.env, RUST_LOG: 'error' },
    }).trim();
  }

  /** A new account of this profession in a demo patient's care team (operator commands). */
  colleague({ username, name, profession, password, patient }) {
    this.cli(['account', 'create', '--username', username, '--name', name, '--profession', profession, '--operator', 'e2e'], `${password}\n`);
    const id = this.sql(`SELECT id FROM patients WHERE family_name = '${patient}'`);
    this.cli(['care-team', 'add', '--patient', id, '--username', username, '--operator', 'e2e']);
  }

  /** Reads the server's SQLite file directly, as an operator would. */
  sql(query) {
    return execFileSync('sqlite3', [this.dbPath, query], { encoding: 'utf8' }).trim();
  }

  /** Reads `query` again until `done(answer)` or 20 s; returns the last answer. */
  async until(query, done) {
    const deadline = Date.now() + 20_000;
    let answer = this.sql(query);
    while (!done(answer) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      answer = this.sql(query);
    }
    return answer;
  }
}

/**
 * The phone's network: an HTTP proxy every request of its browser goes
 * through, service worker included. `cut()` drops every connection and
 * refuses new ones, as leaving the signal does. Playwright's `setOffline`
 * alone is not enough: requests that pass through a service worker are not
 * always covered by it (microsoft/playwright#2311), and one such request once
 * reached the server of a phone that was meant to be offline.
 */
class Network {
  constructor() {
    this.up = true;
    this.sockets = new Set();
    this.proxy = createHttpServer((req, res) => {
      if (!this.up) { req.socket.destroy(); return; }
      let target;
      try { target = new URL(req.url); } catch (_) { res.writeHead(400).end(); return; }
      const headers = { ...req.headers };
      delete headers['proxy-connection'];
      const upstream = httpRequest({
        host: target.hostname, port: target.port, path: target.pathname + target.search,
        method: req.method, headers,
      }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      // The server is down or the connection was cut: the phone sees a network error.
      upstream.on('error', () => req.socket.destroy());
      req.pipe(upstream);
    });
    this.proxy.on('connection', (socket) => {
      if (!this.up) { socket.destroy(); return; }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen() {
    await new Promise((resolve) => this.proxy.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${this.proxy.address().port}`;
  }

  cut() {
    this.up = false;
    for (const socket of this.sockets) socket.destroy();
  }

  restore() { this.up = true; }

  close() {
    this.cut();
    return new Promise((resolve) => this.proxy.close(resolve));
  }
}

/**
 * A fresh browser profile (its own IndexedDB and service worker) at phone
 * size, behind its own network: `setOnline(false)` cuts it (and tells the page
 * it is offline), `setOnline(true)` brings it back; `setReachable(false)` cuts
 * only the connections, the page still online.
 */
export async function phone() {
  const dir = mkdtempSync(path.join(tmpdir(), 'parcours-chromium-'));
  const network = new Network();
  const proxy = await network.listen();
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    // `<-loopback>`: send even 127.0.0.1 through the proxy (Chromium bypasses it by default).
    args: [...CHROMIUM_ARGS, `--proxy-server=${proxy}`, '--proxy-bypass-list=<-loopback>'],
    viewport: PHONE,
    locale: 'fr-FR',
    hasTouch: true,
    isMobile: true,
  });
  // Whatever the Content-Security-Policy blocked, on any page of this phone:
  // the app must need nothing it forbids, so closing the phone fails the
  // test if anything was blocked.
  const blocked = [];
  context.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) blocked.push(message.text());
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15_000);
  context.close_ = context.close;
  context.close = async () => {
    await context.close_();
    await network.close();
    rmSync(dir, { recursive: true, force: true });
    if (blocked.length > 0) throw new Error(`blocked by the Content-Security-Policy:\n${blocked.join('\n')}`);
  };
  const setOnline = async (online) => {
    if (online) network.restore(); else network.cut();
    await context.setOffline(!online);
  };
  // The server in reach or not while the phone believes it has network (a
  // dead zone with bars): only the connections are cut, nothing in the
  // browser changes — no 'online' event, no emulation to apply.
  const setReachable = (up) => (up ? network.restore() : network.cut());
  return { context, page, setOnline, setReachable };
}

export async function signIn(page, server, username, password) {
  await page.goto(server.url);
  await page.getByLabel('Identifiant').fill(username);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await unlock(page);
  await page.getByRole('heading', { name: 'Mes patients' }).waitFor();
  // Every scenario may cut the network next: the app must be installed for
  // offline use first (the worker has precached every module), as a nurse's
  // phone is after its first visit.
  await waitForServiceWorker(page);
}

/** The PIN every test phone's person chooses. */
export const PIN = '482916';

/**
 * Gets past the lock screen as a person does: chooses the phone's PIN the
 * first time (typed twice), types it afterwards. Every page load starts
 * locked (the device key lives in memory only).
 */
export async function unlock(page, pin = PIN) {
  const choose = page.getByLabel('Nouveau code (6 chiffres)');
  const enter = page.getByLabel('Code de ce téléphone');
  await choose.or(enter).waitFor();
  if (await choose.isVisible()) {
    await choose.fill(pin);
    await page.getByLabel('Confirmez le code').fill(pin);
    await page.getByRole('button', { name: 'Enregistrer le code' }).click();
  } else {
    await enter.fill(pin);
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
  }
  await choose.or(enter).waitFor({ state: 'detached' });
}

/** Waits until the service worker controls the page, so a reload can be served offline. */
export async function waitForServiceWorker(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
}

/** A 0–10 score is tapped on its row of eleven targets, as a nurse does. */
export async function tapScore(scope, legend, value) {
  await scope.getByRole('group', { name: legend }).getByRole('radio', { name: String(value), exact: true }).check();
}

export async function recordAssessment(page, { now, average, worst, location = '', note = '' }) {
  await tapScore(page, 'Douleur actuelle (0 à 10)', now);
  await tapScore(page, 'Douleur moyenne sur 24 h (0 à 10)', average);
  await tapScore(page, 'Douleur maximale sur 24 h (0 à 10)', worst);
  await page.getByLabel('Localisation').fill(location);
  await page.getByLabel('Note').fill(note);
  await page.getByRole('button', { name: "Enregistrer l'évaluation" }).click();
  await page.getByText("Évaluation enregistrée sur l'appareil.").waitFor();
}

/** The inclusion form's identity part, as the GP fills it. */
export async function fillIdentity(page, { family, given, birth, sex }) {
  const form = page.getByRole('form', { name: 'Inclusion' });
  await form.getByLabel('Nom de naissance').fill(family);
  await form.getByLabel('Prénom').fill(given);
  await form.getByLabel('Date de naissance').fill(birth);
  await form.getByRole('group', { name: 'Sexe' }).getByLabel(sex).check();
  await form.getByLabel('Commune').fill('Figeac');
  return form;
}

/** Answers every criterion of the form: `yes` lists the ones answered "Oui". */
export async function answerCriteria(form, yes) {
  const groups = form.getByRole('group', { name: /Critère d/ });
  const count = await groups.count();
  assert.equal(count, 5, 'one group per criterion of the programme');
  for (let i = 0; i < count; i++) {
    const group = groups.nth(i);
    const label = await group.locator('legend').innerText();
    const answer = yes.some((y) => label.includes(y)) ? 'Oui' : 'Non';
    await group.getByLabel(answer, { exact: true }).check();
  }
}

/**
 * How many records this phone holds (of one patient, or all), read from
 * IndexedDB itself: those kept one by one (`records`) and those received in
 * packs (`packs`, their ids in `pack_ids`), each id once.
 */
export async function recordsHeld(page, patientId = null) {
  return page.evaluate(async (patient) => {
    const name = (await indexedDB.databases()).find((d) => d.name.startsWith('parcours-')).name;
    const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const ask = (request) => new Promise((res, rej) => { request.onsuccess = () => res(request.result); request.onerror = () => rej(request.error); });
    const tx = db.transaction(['records', 'packs', 'pack_ids']);
    const records = tx.objectStore('records');
    const packs = tx.objectStore('packs');
    const singles = await ask(patient ? records.index('by_patient').getAllKeys(patient) : records.getAllKeys());
    const packKeys = await ask(patient ? packs.index('by_patient').getAllKeys(patient) : packs.getAllKeys());
    const ids = new Set(singles);
    for (const key of packKeys) for (const id of (await ask(tx.objectStore('pack_ids').get(key))).ids) ids.add(id);
    db.close();
    return ids.size;
  }, patientId);
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on what the page shows now (WCAG 2.1 A and AA rules) and
 * fails on any serious or critical violation, naming the rule and where.
 * axe is evaluated through DevTools, which the page's
 * Content-Security-Policy does not govern: nothing is injected in the page.
 */
export async function expectAccessible(page, screen) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  assert.deepEqual(violations, [], `${screen}: ${violations.join('\n')}`);
}
