// The only door to the Rust side: one function per #[tauri::command], plus `listen` for the
// events Rust pushes (the clipboard countdown).
// Every failure arrives as {code, message, field?, retry_after?} (keyward-core's ErrorBody).

function internals() {
  return window.__TAURI_INTERNALS__;
}

function invoke(command, args) {
  if (!internals()) {
    return Promise.reject({ code: 'unexpected', message: 'Keyward must be opened as the desktop app.' });
  }
  return internals().invoke(command, args).catch((error) => {
    throw asErrorBody(error);
  });
}

function asErrorBody(error) {
  if (error && typeof error === 'object' && typeof error.code === 'string') return error;
  return { code: 'unexpected', message: String(error?.message ?? error) };
}

/** Calls `handler(payload)` for each `event` Rust emits; resolves to a function that stops it. */
export async function listen(event, handler) {
  if (!internals()) return () => {};
  const callback = internals().transformCallback((message) => handler(message.payload));
  const eventId = await invoke('plugin:event|listen', { event, target: { kind: 'Any' }, handler: callback });
  return () => invoke('plugin:event|unlisten', { event, eventId });
}

export const appInfo = () => invoke('app_info', {});

// Keys
export const listKeys = (query) => invoke('list_keys', { query });
export const getKey = (id) => invoke('get_key', { id });
/**
 * Resolves to {key, secret, saved_to_keychain, keychain_error}: the only response that carries a
 * secret. Copy and save act on the copy Rust holds, so the secret never travels back.
 */
export const createKey = (request, saveToKeychain) => invoke('create_key', { request, saveToKeychain });
/** Resolves to {outcomes, forgotten, keychain_error}. */
export const revokeKeys = (ids, reason, forgetSaved) => invoke('revoke_keys', { ids, reason, forgetSaved });
export const verifyKey = (secret) => invoke('verify_key', { secret });

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
export const savedSecretIds = () => invoke('saved_secret_ids', {});

// Settings: the clipboard countdown ({clipboard_clear_seconds}), kept in the config file.
export const getSettings = () => invoke('get_settings', {});
export const saveSettings = (settings) => invoke('save_settings', { settings });
