// The only door to the Rust side: one function per #[tauri::command].
// Every failure arrives as {code, message, field?, retry_after?} (keyward-core's ErrorBody).

function invoke(command, args) {
  const internals = window.__TAURI_INTERNALS__;
  if (!internals) {
    return Promise.reject({ code: 'unexpected', message: 'Keyward must be opened as the desktop app.' });
  }
  return internals.invoke(command, args).catch((error) => {
    throw asErrorBody(error);
  });
}

function asErrorBody(error) {
  if (error && typeof error === 'object' && typeof error.code === 'string') return error;
  return { code: 'unexpected', message: String(error?.message ?? error) };
}

export const appInfo = () => invoke('app_info', {});
export const listKeys = (query) => invoke('list_keys', { query });
export const getKey = (id) => invoke('get_key', { id });
/** Resolves to {key, secret}: the only response that carries a secret. */
export const createKey = (request) => invoke('create_key', { request });
export const revokeKeys = (ids, reason) => invoke('revoke_keys', { ids, reason });
export const verifyKey = (secret) => invoke('verify_key', { secret });
