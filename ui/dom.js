// Small DOM and formatting helpers. Backend data only ever reaches the page as text.
import { ownerText, relativeTime, PRESET_WORDS } from './format.js';

/** Creates an element; `props` may hold className, text, title, dataset and attributes. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (name === 'className') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

export const $ = (selector) => document.querySelector(selector);

export function show(node, visible) {
  node.hidden = !visible;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const formatDate = (iso) => dateFormat.format(new Date(iso));
export const formatDateTime = (iso) => dateTimeFormat.format(new Date(iso));

/** "in 3 weeks", "2 days ago", "just now" (one rule for the whole UI: format.js). */
export const formatRelative = (iso, now = Date.now()) => relativeTime(iso, { now });

/** The presets as the expiry dropdowns name them (the same words error messages use). */
export const PRESET_LABELS = PRESET_WORDS;

export const STATUS_LABELS = { active: 'Active', expired: 'Expired', revoked: 'Revoked' };

export const formatOwner = ownerText;

let revokedLabel = STATUS_LABELS.revoked;

/** What a revoked key is called on the active backend: "Revoked", or "Archived" on PropelAuth. */
export function setRevokedLabel(label) {
  revokedLabel = label;
}

export function statusBadge(status) {
  const text = status === 'revoked' ? revokedLabel : STATUS_LABELS[status] ?? status;
  return el('span', { className: `badge badge-${status}`, text });
}

/** True while the user types in a form control, so single-key shortcuts stay out of the way. */
export function isTyping(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

export const BACKEND_LABELS = { local: 'Local', propelauth: 'PropelAuth', clerk: 'Clerk', freesewing: 'FreeSewing' };

/** "user:user_2x… · https://api.clerk.com": whose keys, and where. */
export function profileLocation(profile) {
  return [profile.subject, profile.location].filter(Boolean).join(' · ');
}

/** The element that shows `input`'s error: the id in its aria-describedby ending in -error. */
export function errorSlotOf(input) {
  const id = (input.getAttribute('aria-describedby') ?? '').split(/\s+/).find((i) => i.endsWith('-error'));
  return id ? document.getElementById(id) : null;
}

/** Shows an error next to the input in `fieldInputs` it names, or in `banner`. */
export function showError(error, fieldInputs, banner) {
  const input = error.field ? fieldInputs[error.field] : null;
  const slot = input ? errorSlotOf(input) : null;
  if (input && slot) {
    slot.textContent = capitalize(error.message);
    show(slot, true);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } else {
    banner.textContent = capitalize(error.message);
    show(banner, true);
  }
}

/** Hides every field error and error banner inside `root`. */
export function clearErrors(root) {
  for (const node of root.querySelectorAll('.field-error, .banner.error')) {
    node.textContent = '';
    show(node, false);
  }
  for (const node of root.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
}

export const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);
