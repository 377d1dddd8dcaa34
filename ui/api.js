// The only door to the Rust side: one function per #[tauri::command], plus `listen` for the
// events Rust pushes (the clipboard countdown).
// Every failure arrives as {code, message, field?, retry_after?} (keyward-core's ErrorBody); its
// message is put in the window's words here (format.js peopleText), once for every caller.
import { peopleText } from './format.js';

function internals() {
  return window.__TAURI_INTERNALS__;
}

// Commands called once so far: their first call is marked for the startup benchmark.
const called = new Set();

// Calls sent before their caller asks for them (`prefetch`), by command and arguments: the first
// identical call takes the answer already on its way. Dropped at the first draw, so a later call
// never gets a startup answer.
const prefetched = new Map();

/**
 * Sends `command` now, for a caller that asks for exactly it soon: the first page of keys, while
 * the rest of the UI's code is still loading.
 */
export function prefetch(command, args) {
  if (!internals()) return;
  const answer = invoke(command, args);
  answer.catch(() => {}); // the caller that takes it sees the error
  prefetched.set(`${command} ${JSON.stringify(args)}`, answer);
}

function invoke(command, args) {
  if (!internals()) {
    return Promise.reject({ code: 'unexpected', message: 'Keyward must be opened as the desktop app.' });
  }
  if (prefetched.size > 0) {
    const key = `${command} ${JSON.stringify(args)}`;
    const early = prefetched.get(key);
    if (early) {
      prefetched.delete(key);
      return early;
    }
  }
  const first = !called.has(command);
  if (first) {
    called.add(command);
    performance.mark(`ipc ${command} sent`);
  }
  const answer = internals().invoke(command, args);
  if (first) answer.finally(() => performance.mark(`ipc ${command} answered`)).catch(() => {});
  return answer.catch((error) => {
    const body = asErrorBody(error);
    throw { ...body, message: peopleText(body.message) };
  });
}

function asErrorBody(error) {
  if (error && typeof error === 'object' && typeof error.code === 'string') return error;
  const text = String(error?.message ?? error);
  // Tauri refuses an argument it cannot decode with a bare string (`invalid args `job` for
  // command `revoke_keys`: invalid type: string "x", expected u64`): shown as the argument's own
  // invalid_input, without the value that was sent (it may be a pasted secret).
  const args = /^invalid args `([^`]+)` for command `[^`]+`: (.*)$/s.exec(text);
  if (args) {
    const why = args[2].replace(/"[^"]*"/g, '…').replace(/[\u0000-\u001f]/g, '');
    return { code: 'invalid_input', field: args[1], message: why };
  }
  return { code: 'unexpected', message: text };
}

// What the window's first paint does not need waits until the first page of keys is drawn
// (app.js calls firstDrawDone): before it, each call is one more IPC request for the app's main
// thread, competing with app_info and list_keys on a busy machine.
let drawn;
const firstDraw = new Promise((resolve) => {
  drawn = resolve;
});
export function firstDrawDone() {
  prefetched.clear();
  drawn();
}
/** Resolves once the first page of keys is drawn (or the window is shown without it). */
export const afterFirstDraw = () => firstDraw;

/**
 * Calls `handler(payload)` for each `event` Rust emits (from the first draw on: no event the
 * window listens to is sent before it); resolves to a function that stops it.
 */
export async function listen(event, handler) {
  if (!internals()) return () => {};
  await firstDraw;
  const callback = internals().transformCallback((message) => handler(message.payload));
  const eventId = await invoke('plugin:event|listen', { event, target: { kind: 'Any' }, handler: callback });
  return () => invoke('plugin:event|unlisten', { event, eventId });
}

export const appInfo = () => invoke('app_info', {});
// The window's first call, sent as soon as the UI's code starts running (app.js, which asks for
// it, runs last).
prefetch('app_info', {});

// Keys
/** Resolves to a page {items, page, limit, total, has_more, marks_error}; each item is a key with
 * `saved_in_keychain` (from the saved-secret index, joined in Rust: no second call). */
export const listKeys = (query) => invoke('list_keys', { query });
export const getKey = (id) => invoke('get_key', { id });
/** The next listing reads the server again (a remote backend keeps a short-lived snapshot). */
export const refreshKeys = () => invoke('refresh_keys', {});
/**
 * Resolves to {key, secret, saved_to_keychain, keychain_error}: the only response that carries a
 * secret. Copy and save act on the copy Rust holds, so the secret never travels back.
 */
export const createKey = (request, saveToKeychain) => invoke('create_key', { request, saveToKeychain });
/**
 * Changes a key: `change` is {name?, description?, expires?, scopes?} (only what
 * `capabilities.updates` allows; a blank description clears it; `expires` as the create form
 * takes it). Resolves to the key as it now is (its keychain mark has not changed).
 */
export const updateKey = (id, change) => invoke('update_key', { id, change });
// Rotation: {created: <the create response, shown once>, old_key_id, old_key_revoked,
// revoke_scheduled_at, old_key_error}. `grace` is 'now', '1h', '24h', '7d' or '30d'.
export const rotateKey = (id, grace) => invoke('rotate_key', { id, grace });
export const listScheduledRevokes = () => invoke('list_scheduled_revokes');
export const cancelScheduledRevoke = (id) => invoke('cancel_scheduled_revoke', { id });
export const verifyKey = (secret) => invoke('verify_key', { secret });
/** The distinct owners of the active profile's keys, as "org:acme" / "user:u_1". */
export const listOwners = () => invoke('list_owners', {});

// Revoking one key or many. `selection` is {ids: [..]} or {query: ListQuery} (every matching key).
/** Resolves to {count, single_name, recently_used, names}: what `selection` would revoke. */
export const revokePreview = (selection) => invoke('revoke_preview', { selection });
/**
 * `expectedCount`: the number of keys the dialog showed and the user confirmed; if the selection
 * no longer has that many when Rust resolves it, nothing is revoked (error code `conflict`). A
 * `{query}` selection without it is refused.
 * Resolves to {outcomes: [{id, status, key?, error?, attempts, already_revoked, forgotten?,
 * forget_error?}], revoked, failed, untouched, already_revoked, forgotten, keychain_error,
 * activity_error}; meanwhile Rust emits `revoke-progress` events
 * ({job, total, done, revoked, failed, last}) tagged with `job`, a number the caller picks.
 */
export const revokeKeys = (selection, expectedCount, reason, forgetSaved, job, names) =>
  invoke('revoke_keys', { selection, expectedCount, reason, forgetSaved, job, names });
/** Stops the run `job`: keys not started yet end untouched. */
export const cancelRevoke = (job) => invoke('cancel_revoke', { job });

// Across profiles, and Keyward's own activity log.
/** Resolves to {days, profiles: [{profile, backend, keys, error}]}: every profile, each with its keys or its error. */
export const expiringSoon = (days) => invoke('expiring_soon', { days });
/** `query`: {search, limit, offset}; resolves to {entries, total}. */
export const auditLog = (query) => invoke('audit_log', { query });
/** Writes the (searched) log to the Downloads folder; resolves to {path, count}. */
export const exportAudit = (format, search) => invoke('export_audit', { format, search });

/** Copies a key's id (not a secret) to the clipboard, in Rust. */
export const copyKeyId = (id) => invoke('copy_key_id', { id });

// Profiles
export const listProfiles = () => invoke('list_profiles', {});
export const switchProfile = (name) => invoke('switch_profile', { name });
export const profileForm = (name) => invoke('profile_form', { name });
/** The credential (if any) goes to the keychain; it is never sent back. */
export const saveProfile = (spec, replace, credential) => invoke('save_profile', { spec, replace, credential });
export const forgetCredential = (name) => invoke('forget_credential', { name });
export const removeProfile = (name) => invoke('remove_profile', { name });
export const setDefaultProfile = (name) => invoke('set_default_profile', { name });
export const signIn = (name) => invoke('sign_in', { name });

// Secrets: none of these sends or returns a secret.
export const copyNewSecret = (keyId) => invoke('copy_new_secret', { keyId });
export const saveNewSecret = (keyId) => invoke('save_new_secret', { keyId });
export const forgetNewSecret = (keyId) => invoke('forget_new_secret', { keyId });
export const copySavedSecret = (keyId) => invoke('copy_saved_secret', { keyId });
export const clearClipboard = () => invoke('clear_clipboard', {});
export const clipboardState = () => invoke('clipboard_state', {});

// Settings: the clipboard countdown ({clipboard_clear_seconds}), kept in the config file.
export const getSettings = () => invoke('get_settings', {});
export const saveSettings = (settings) => invoke('save_settings', { settings });
