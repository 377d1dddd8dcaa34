// Keyward's window: wires the header (profile switcher, views), the key table, the side panels,
// the dialogs, the other views and the clipboard countdown together, and adapts them to the
// active profile.

import * as api from './api.js';
import { $, show, setRevokedLabel } from './dom.js';
import { verifyUseNote } from './format.js';
import { KeysTable } from './keys-table.js';
import { CreateDialog, SecretPanel } from './dialogs.js';
import { EditDialog } from './edit-dialog.js';
import { RotateDialog } from './rotate-dialog.js';
import { RevokeDialog } from './revoke-dialog.js';
import { ProfileSwitcher, ProfilesDialog } from './profiles.js';
import { ClipboardStatus } from './clipboard.js';
import { SettingsDialog } from './settings.js';
import {
  clearDetails, clearVerifyResult, onDetailsShown, refreshDetails, setDetailsEditable, setupVerify, showDetails,
  shownDetailsKey,
} from './panels.js';
import { installShortcuts, renderShortcuts } from './shortcuts.js';
import { ExpiringView } from './views/expiring.js';
import { AuditView } from './views/audit.js';
import { renderAbout } from './views/about.js';

let info = null;

const clipboard = new ClipboardStatus();

const table = new KeysTable({
  onSelect: (key) => selectKey(key),
  onRevoke: (key) => revokeOne(key),
  onBulkRevoke: () => revokeSelection(),
  onCopy: (key) => copyFromKeychain(key),
  onCreate: () => openCreate(),
  onFirstDrawn: () => reveal(),
});

const secretPanel = new SecretPanel({
  clipboard,
  onShown: () => table.refresh(),
  onClosed: (key) => {
    table.refresh().then(() => table.focusKey(key.id));
  },
});

const createDialog = new CreateDialog({
  // The secret goes straight into the show-once panel; nothing here keeps it.
  onCreated: (created) => secretPanel.show(created),
});

const editDialog = new EditDialog({
  onSaved: (key) => {
    refreshDetails(key, table.isSaved(key.id));
    table.refresh();
  },
});
setDetailsEditable((key) => editDialog.canEdit(key));
$('#details-edit').addEventListener('click', () => editDialog.open(shownDetailsKey()));

// Rotate: the replacement's secret goes through the show-once panel; the old key shows its
// revoke (now, or scheduled) once reloaded.
const reloadDetails = async (id) => {
  try {
    refreshDetails(await api.getKey(id), table.isSaved(id));
  } catch {
    // The shown copy stays; the table refresh below still shows the change.
  }
};
const rotateDialog = new RotateDialog({
  secretPanel,
  onRotated: ({ old_key_id: oldId }) => {
    reloadDetails(oldId);
    table.refresh();
  },
  onChanged: (key) => {
    reloadDetails(key.id);
    table.refresh();
  },
});
onDetailsShown((key) => rotateDialog.detailsShown(key));
// The scheduler revoked keys whose grace period ended: show them revoked.
api.listen('scheduled-revokes', () => {
  const shown = shownDetailsKey();
  if (shown) reloadDetails(shown.id);
  table.refresh();
}).catch(() => {});
// Rotate… / Extend… (or a click) on an expiring-soon notification: that key, on its profile, with
// its dialog open; nothing changes until the user confirms there.
api.listen('notification-action', async ({ action, profile, key_id: id }) => {
  if (info?.profile.name !== profile) await switchTo(profile);
  if (info?.profile.name !== profile) return; // the switch failed and said why
  showView('keys');
  let key;
  try {
    key = await api.getKey(id);
  } catch (error) {
    notify(`The key ${id} could not be opened: ${error.message}`, 'error');
    return;
  }
  await selectKey(key);
  if (action === 'rotate') rotateDialog.open(key);
  if (action === 'extend') editDialog.open(key);
}).catch(() => {});

const revokeDialog = new RevokeDialog({
  nameOf: (id) => {
    const index = table.cache.indexOf(id);
    return index >= 0 ? table.cache.get(index).name : null;
  },
  onFinished: (result) => {
    clearVerifyResult();
    // The selection was revoked (what failed can be retried from the dialog).
    table.clearSelection();
    const shown = $('#details').dataset.id;
    const outcome = result.outcomes.find((o) => o.id === shown);
    if (outcome?.status === 'revoked') {
      if (outcome.key && info?.capabilities?.revoke_kind !== 'delete') refreshDetails(outcome.key, false);
      else clearDetails(); // the backend deleted it
    }
    table.refresh();
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

const expiringView = new ExpiringView();
const auditView = new AuditView();

// Views ------------------------------------------------------------------------------------------

const VIEWS = ['keys', 'expiring', 'audit', 'about'];
let currentView = 'keys';

function showView(name, { focus = false } = {}) {
  currentView = name;
  for (const view of VIEWS) {
    show($(`#view-${view}`), view === name);
    const button = $(`#nav-${view}`);
    if (view === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  if (name === 'expiring') expiringView.load();
  if (name === 'audit') auditView.load();
  if (name === 'about') renderAbout(info);
  if (name === 'keys') table.render();
  if (focus) {
    const target = { keys: '#search', expiring: '#expiring-days-input', audit: '#audit-search', about: '#about-heading' }[name];
    $(target)?.focus();
  }
}
for (const view of VIEWS) $(`#nav-${view}`).addEventListener('click', () => showView(view));

// Keys -------------------------------------------------------------------------------------------

// Below 1180 px Verify and Details are a drawer (styles.css): opened by the toolbar's button or
// a click on a key, closed by Close or Esc; focus goes back where it came from.
const narrow = window.matchMedia('(max-width: 1179.98px)');
const side = $('#side');
let sideReturn = null;
function openSide({ focus = null } = {}) {
  if (!narrow.matches) return;
  if (!side.classList.contains('open')) sideReturn = document.activeElement;
  side.classList.add('open');
  $('#side-toggle').setAttribute('aria-expanded', 'true');
  if (focus) $(focus).focus();
}
function closeSide() {
  if (!side.classList.contains('open')) return false;
  side.classList.remove('open');
  $('#side-toggle').setAttribute('aria-expanded', 'false');
  const back = sideReturn?.isConnected ? sideReturn : $('#side-toggle');
  sideReturn = null;
  back?.focus?.({ preventScroll: true });
  return true;
}
$('#side-toggle').addEventListener('click', () => {
  if (side.classList.contains('open')) closeSide();
  else openSide({ focus: '#verify-input' });
});
$('#side-close').addEventListener('click', closeSide);
// Esc closes the drawer from anywhere but an open dialog or menu (those close first).
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape' || !side.classList.contains('open')) return;
  if (document.querySelector('dialog[open]') || !$('#profile-menu').hidden) return;
  if (event.target === $('#search') && $('#search').value) return; // Esc there empties the search
  if (closeSide()) {
    event.preventDefault();
    event.stopPropagation();
  }
}, true);
narrow.addEventListener('change', () => {
  if (!narrow.matches) closeSide();
});

async function selectKey(key) {
  openSide();
  showDetails(key, table.isSaved(key.id));
  try {
    refreshDetails(await api.getKey(key.id), table.isSaved(key.id));
  } catch {
    // The row's copy is already shown; a failed refresh changes nothing.
  }
}

function revokeOne(key) {
  revokeDialog.open({
    selection: { ids: [key.id] }, key, count: 1, saved: table.isSaved(key.id), names: { [key.id]: key.name },
  });
}

function revokeSelection() {
  const { selection } = table;
  if (selection.isEmpty) return;
  // One key picked by id: the dialog asks for its name, as for a row's own button.
  let key = null;
  if (!selection.allMatching && selection.size === 1) {
    const [id] = selection.ids;
    const index = table.cache.indexOf(id);
    key = index >= 0 ? table.cache.get(index) : null;
  }
  // Names of ticked keys label the audit log's entries, even for a key whose revoke fails.
  const names = selection.allMatching ? {} : table.cache.namesOf([...selection.ids]);
  revokeDialog.open({ selection: selection.toRequest(), key, count: selection.size, saved: table.selectionHasSaved(), names });
}

function openCreate() {
  if ($('#new-key').disabled) return;
  showView('keys');
  createDialog.open();
}

async function copyFromKeychain(key) {
  try {
    clipboard.copied(await api.copySavedSecret(key.id));
    notify(null);
  } catch (error) {
    notify(`Could not copy “${key.name}” from the keychain: ${error.message}`, 'error');
  }
}

async function copyKeyId(key) {
  try {
    await api.copyKeyId(key.id);
    toast(`Copied the id of “${key.name}”`);
  } catch (error) {
    toast(`Could not copy the key id: ${error.message}`, 'error');
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

let toastTimer;
/** A short message at the bottom of the window. */
function toast(text, kind = 'notice') {
  const node = $('#toast');
  node.textContent = text;
  node.dataset.state = kind;
  show(node, true);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => show(node, false), 3000);
}

// Profiles ---------------------------------------------------------------------------------------

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
  // A KEYWARD_CLEAR_AFTER that could not be read is said, not ignored.
  if (info.clear_after_error) notify(`${info.clear_after_error.field}: ${info.clear_after_error.message}. Copied secrets are cleared after ${info.clear_after_secs} s.`, 'error');
  const broken = info.backend_error;
  show($('#backend-error'), !!broken);
  show($('#workspace'), !broken);
  $('#new-key').disabled = !!broken;
  if (currentView === 'about') renderAbout(info);
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
  editDialog.configure(caps);
  revokeDialog.configure(caps);
  show($('#verify-panel'), caps.verify);
  const useNote = verifyUseNote(caps);
  $('#verify-use-note').textContent = useNote ?? '';
  show($('#verify-use-note'), useNote != null);
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
  if (currentView === 'audit') auditView.load();
}

$('#backend-error-edit').addEventListener('click', () => profilesDialog.open(info?.profile.name));

// Keyboard ---------------------------------------------------------------------------------------

const shortcutsDialog = $('#shortcuts-dialog');
renderShortcuts($('#shortcuts-list'));
$('#shortcuts-close').addEventListener('click', () => shortcutsDialog.close());
$('#shortcuts-button').addEventListener('click', () => shortcutsDialog.showModal());

const keysUsable = () => !$('#new-key').disabled;

installShortcuts({
  newKey: () => {
    if (!keysUsable()) return false;
    openCreate();
    return true;
  },
  search: () => {
    if (!keysUsable()) return false;
    showView('keys');
    $('#search').focus();
    $('#search').select();
    return true;
  },
  revoke: () => {
    if (currentView !== 'keys' || !keysUsable()) return false;
    if (!table.selection.isEmpty) {
      revokeSelection();
      return true;
    }
    const key = table.focusedKey();
    if (key && key.status !== 'revoked') {
      revokeOne(key);
      return true;
    }
    return false;
  },
  escape: () => {
    if (currentView === 'keys' && !table.selection.isEmpty) {
      table.clearSelection();
      return true;
    }
    return false;
  },
  copyId: () => {
    if (currentView !== 'keys') return false;
    let key = table.focusedKey();
    if (!key && !table.selection.allMatching && table.selection.size === 1) {
      const index = table.cache.indexOf([...table.selection.ids][0]);
      key = index >= 0 ? table.cache.get(index) : null;
    }
    if (!key) return false;
    copyKeyId(key);
    return true;
  },
  help: () => {
    shortcutsDialog.showModal();
    return true;
  },
  profile: () => {
    $('#profile-button').click();
    return true;
  },
}, () => !!document.querySelector('dialog[open]') || !$('#profile-menu').hidden);

$('#new-key').addEventListener('click', () => openCreate());
const settingsDialog = new SettingsDialog();
$('#settings-button').addEventListener('click', () => settingsDialog.open());
setupVerify();

/**
 * The window stays blank (html.starting) until the first page of keys is drawn, so its first
 * paint shows them: painting the empty frame first cost a whole-window paint (~120 ms in
 * software) that the keys then waited behind. A profile slow to answer (a remote backend) shows
 * the window without them after REVEAL_AT_LATEST_MS.
 */
const REVEAL_AT_LATEST_MS = 300;
const revealAnyway = setTimeout(reveal, REVEAL_AT_LATEST_MS);

function reveal() {
  clearTimeout(revealAnyway);
  document.documentElement.classList.remove('starting');
  api.firstDrawDone();
}

async function start() {
  // The first page is requested alongside app_info: both wait on the same profile opening.
  const firstPage = table.load();
  clipboard.start().catch(() => {});
  let first;
  try {
    first = await api.appInfo();
  } catch (error) {
    reveal();
    showStartupError(error);
    return;
  }
  apply(first);
  await firstPage;
}

start();
