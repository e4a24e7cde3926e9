// The page's loader, served from /pkg/ under a content-hashed name so the
// page carries no inline script (its Content-Security-Policy allows none).
// The build replaces the @…@ names.
// Two builds of the app: the professionals' and the patient's own (their
// screens only, a smaller download). Who is signed in on this device —
// or, for nobody, a patient's address — picks one; the other is not
// downloaded before the first screen (the service worker precaches it
// afterwards, for offline use).
const PROFESSIONAL = ['/pkg/@JS@', '/pkg/@WASM@'];
const PATIENT = ['/pkg/@PATIENT_JS@', '/pkg/@PATIENT_WASM@'];
let me = null;
try { me = JSON.parse(localStorage.getItem('parcours.me')); } catch (_) { /* unreadable: nobody */ }
const path = location.pathname;
const patient = me ? Boolean(me.patient_id) : (path === '/activer' || path.startsWith('/journal'));
const [js, wasm] = patient ? PATIENT : PROFESSIONAL;
// The module downloads while its glue loads.
const module = fetch(wasm);
const { default: init } = await import(js);
await init({ module_or_path: module });
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js');
}
