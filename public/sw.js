// Parcours service worker. The build replaces @VERSION@ (a hash of the app's
// files) and @PRECACHE@ (the list of the app shell's files), so every build
// is a new worker with its own cache, and old caches are dropped.
//
// - the page (navigations): network first, the precached shell when there is
//   no answer within a few seconds — so the app opens with no network at all.
//   Only the shell precached at install is ever the offline page: whatever
//   URL was opened online (a manifest, a file) never replaces it;
// - hashed files under /pkg/ and the other shell files: cache first;
// - the API: never touched here; the app keeps its data in IndexedDB.
'use strict';

const VERSION = '@VERSION@';
const CACHE = `parcours-shell-${VERSION}`;
const PRECACHE = @PRECACHE@;
const NETWORK_TIMEOUT_MS = 3000;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith('parcours-shell-') && k !== CACHE).map((k) => caches.delete(k)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/healthz') return;
  if (request.mode === 'navigate') {
    event.respondWith(page(request));
    return;
  }
  event.respondWith(shellFile(request));
});

// Every route of the app is the same page: the app's router draws the rest.
async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.ok) return response;
    return (await cache.match('/')) || response;
  } catch (_) {
    const cached = await cache.match('/');
    if (cached) return cached;
    return new Response('<!doctype html><html lang="fr"><title>Parcours</title><p>Hors ligne.</p></html>', {
      status: 503,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
    });
  }
}

async function shellFile(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && new URL(request.url).pathname.startsWith('/pkg/')) {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}
