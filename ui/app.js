// Keyward's window: wires the header (profile switcher), the key table, the side panels, the
// dialogs and the clipboard countdown together, and adapts them to the active profile.

import * as api from './api.js';
import { $, show, isTyping, setRevokedLabel } from './dom.js';
import { KeysTable } from './keys-table.js';
import { CreateDialog, RevokeDialog, SecretPanel } from './dialogs.js';
import { ProfileSwitcher, ProfilesDialog } from './profiles.js';
import { ClipboardStatus } from './clipboard.js';
import { SettingsDialog } from './settings.js';
import { clearDetails, clearVerifyResult, refreshDetails, setupVerify, showDetails } from './panels.js';

let info = null;

const clipboard = new ClipboardStatus();

const table = new KeysTable({
  onSelect: (key) => selectKey(key),
  onRevoke: (key) => revokeDialog.open(key, table.isSaved(key.id)),
  onCopy: (key) => copyFromKeychain(key),
});

const secretPanel = new SecretPanel({
  clipboard,
  onClosed: (key) => {
    table.load().then(() => table.focusKey(key.id));
  },
});

const createDialog = new CreateDialog({
  // The secret goes straight into the show-once panel; nothing here keeps it.
  onCreated: (created) => secretPanel.show(created),
});

const revokeDialog = new RevokeDialog({
  onRevoked: (key, id, note) => {
    clearVerifyResult();
    if (note) notify(note, 'error');
    if (key && info.capabilities.revoke_kind !== 'delete') {
      table.update(key);
      table.refreshSaved().then(() => table.focusKey(id));
      refreshDetails(key, false);
    } else {
      clearDetails();
      table.load(); // the backend deleted it
    }
  },
});

const switcher = new ProfileSwitcher({
  onSwitch: (name) => switchTo(name),
  onManage: () => profilesDialog.open(info?.profile.name),
});

const profilesDialog = new ProfilesDialog({
  // A change to the profile in use (settings, credential, sign-in) reopens it.
  onChanged: async (name) => {
    if (name && name === info?.profile.name) await switchTo(name);
  },
});

async function selectKey(key) {
  showDetails(key, table.isSaved(key.id));
  try {
    refreshDetails(await api.getKey(key.id), table.isSaved(key.id));
  } catch {
    // The row's copy is already shown; a failed refresh changes nothing.
  }
}

async function copyFromKeychain(key) {
  try {
    clipboard.copied(await api.copySavedSecret(key.id));
    notify(null);
  } catch (error) {
    notify(`Could not copy “${key.name}” from the keychain: ${error.message}`, 'error');
  }
}

/** A message above the table that stays until dismissed or replaced. */
function notify(text, kind = 'notice') {
  const banner = $('#keys-notice');
  $('#keys-notice-text').textContent = text ?? '';
  banner.classList.toggle('error', kind === 'error');
  banner.classList.toggle('notice', kind !== 'error');
  show(banner, !!text);
}
$('#keys-notice-close').addEventListener('click', () => notify(null));

function showStartupError(error) {
  $('#startup-error-message').textContent = error.message;
  show($('#startup-error'), true);
  show($('#workspace'), false);
  switcher.showActive(null);
}

/** Draws the window for the active profile: its header, and what its backend can do. */
function apply(newInfo) {
  info = newInfo;
  switcher.showActive(info.profile);
  show($('#startup-error'), false);
  notify(null);
  const broken = info.backend_error;
  show($('#backend-error'), !!broken);
  show($('#workspace'), !broken);
  $('#new-key').disabled = !!broken;
  if (broken) {
    $('#backend-error-title').textContent = `Keyward could not open “${info.profile.name}”`;
    $('#backend-error-message').textContent = broken.message;
    return;
  }
  const caps = info.capabilities;
  const revokedLabel = caps.revoke_kind === 'archive' ? 'Archived' : 'Revoked';
  setRevokedLabel(revokedLabel);
  $('#status-filter option[value="revoked"]').textContent = revokedLabel;
  table.configure(caps);
  createDialog.configure(info);
  revokeDialog.configure(caps);
  show($('#verify-panel'), caps.verify);
  document.body.dataset.backend = info.profile.backend;
}

async function switchTo(name) {
  let next;
  try {
    next = await api.switchProfile(name);
  } catch (error) {
    notify(`Could not switch to “${name}”: ${error.message}`, 'error');
    return;
  }
  table.reset();
  clearDetails();
  clearVerifyResult();
  apply(next);
  if (!next.backend_error) await table.load();
}

$('#backend-error-edit').addEventListener('click', () => profilesDialog.open(info?.profile.name));

// Single-key shortcuts, ignored while typing or while a dialog or menu is open.
document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  if (document.querySelector('dialog[open]') || !$('#profile-menu').hidden) return;
  const actions = {
    p: () => $('#profile-button').click(),
  };
  if (!$('#new-key').disabled) {
    Object.assign(actions, {
      '/': () => $('#search').focus(),
      n: () => createDialog.open(),
      '[': () => $('#page-prev').disabled || $('#page-prev').click(),
      ']': () => $('#page-next').disabled || $('#page-next').click(),
    });
  }
  const action = actions[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
});

$('#new-key').addEventListener('click', () => createDialog.open());
const settingsDialog = new SettingsDialog();
$('#settings-button').addEventListener('click', () => settingsDialog.open());
setupVerify();

async function start() {
  // The first page is requested alongside app_info: both wait on the same profile opening.
  const firstPage = table.load();
  clipboard.start().catch(() => {});
  let first;
  try {
    first = await api.appInfo();
  } catch (error) {
    showStartupError(error);
    return;
  }
  apply(first);
  await firstPage;
}

start();
