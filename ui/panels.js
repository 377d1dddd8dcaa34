// The side panels: details of the selected key, and "Verify a key".

import * as api from './api.js';
import { $, el, show, formatDateTime, formatOwner, formatRelative, statusBadge } from './dom.js';

let shownKey = null;
let editable = () => false;

/** `check(key)`: whether the details panel offers *Edit* for `key` (the edit dialog decides). */
export function setDetailsEditable(check) {
  editable = check;
}

/** The key the details panel shows, or null. */
export const shownDetailsKey = () => shownKey;

const shownListeners = [];

/** `listener(key)` runs each time the details panel shows a key, and with null when it empties. */
export function onDetailsShown(listener) {
  shownListeners.push(listener);
}

/** Lists every field of a key as text; `saved`: its secret is in the keychain. */
export function showDetails(key, saved = false) {
  const list = $('#details-list');
  const dateWithRelative = (iso) => (iso ? `${formatDateTime(iso)} (${formatRelative(iso)})` : null);
  const rows = [
    ['Name', key.name],
    ['ID', key.id, 'mono'],
    ['Status', statusBadge(key.status)],
    ['Owner', formatOwner(key.owner) || null],
    ['Key', key.stub, 'mono'],
    ['Created', dateWithRelative(key.created_at)],
    ['Expires', key.expires_at ? dateWithRelative(key.expires_at) : 'Never'],
    ['Last used', dateWithRelative(key.last_used_at) ?? 'Never'],
    ['Revoked', dateWithRelative(key.revoked_at)],
    ['Reason', key.revocation_reason],
    ['Level', key.level],
    ['Scopes', key.scopes.length ? key.scopes.join(', ') : null],
    ['Description', key.description],
    ['Keychain', saved ? 'Secret saved in the OS keychain' : null],
    ['Revoke', key.revoke_scheduled_at && key.status !== 'revoked'
      ? `Scheduled for ${formatDateTime(key.revoke_scheduled_at)} (${formatRelative(key.revoke_scheduled_at)}): the key was rotated`
      : null],
    ['Metadata', key.metadata == null ? null : JSON.stringify(key.metadata, null, 2), 'mono pre'],
  ];
  list.replaceChildren();
  for (const [label, value, className] of rows) {
    if (value == null || value === '') continue;
    const dd = el('dd', { className }, value instanceof Node ? value : String(value));
    list.append(el('dt', { text: label }), dd);
  }
  $('#details').dataset.id = key.id;
  shownKey = key;
  show($('#details-edit'), editable(key));
  show($('#details-empty'), false);
  show(list, true);
  for (const listener of shownListeners) listener(key);
}

/** Refreshes the details panel if it shows `key`. */
export function refreshDetails(key, saved = false) {
  if ($('#details').dataset.id === key.id) showDetails(key, saved);
}

/** Empties the details panel (another profile's keys are shown). */
export function clearDetails() {
  delete $('#details').dataset.id;
  shownKey = null;
  show($('#details-edit'), false);
  $('#details-list').replaceChildren();
  show($('#details-list'), false);
  show($('#details-empty'), true);
  for (const listener of shownListeners) listener(null);
}

const VERDICTS = {
  valid: ['Valid', 'This secret belongs to an active key.'],
  revoked: ['Revoked', 'This secret belonged to a key that has been revoked.'],
  expired: ['Expired', 'This secret belonged to a key that has expired.'],
  unknown: ['Unknown', 'No key in this profile has this secret.'],
};

/** Clears the last verification: after a revoke it may no longer be true. */
export function clearVerifyResult() {
  const result = $('#verify-result');
  result.replaceChildren();
  delete result.dataset.result;
}

export function setupVerify() {
  const form = $('#verify-form');
  const input = $('#verify-input');
  const error = $('#verify-input-error');
  const result = $('#verify-result');
  const submit = $('#verify-submit');

  const showFieldError = (message) => {
    error.textContent = message;
    show(error, true);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    show(error, false);
    input.removeAttribute('aria-invalid');
    clearVerifyResult();
    if (!input.value.trim()) {
      showFieldError('Paste a secret to check it.');
      return;
    }
    submit.disabled = true;
    try {
      const verification = await api.verifyKey(input.value);
      input.value = ''; // the secret is not kept on screen once checked
      const [label, explain] = VERDICTS[verification.result];
      const key = verification.key;
      result.dataset.result = verification.result;
      // append() would write a null as the text "null".
      result.append(...[
        el('span', { className: `badge badge-${verification.result}`, text: label }),
        key ? el('span', { className: 'verify-key', text: key.name }) : null,
        key?.stub ? el('code', { text: key.stub }) : null,
        el('p', { className: 'muted', text: explain }),
      ].filter(Boolean));
    } catch (failure) {
      if (failure.field === 'secret' || failure.code === 'invalid_input') {
        showFieldError(failure.message.charAt(0).toUpperCase() + failure.message.slice(1));
      } else {
        result.dataset.result = 'error';
        result.append(el('p', { className: 'banner error', text: failure.message }));
      }
    } finally {
      submit.disabled = false;
    }
  });
}
