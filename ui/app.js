// Keyward's window: wires the header, the key table, the side panels and the dialogs together.

import * as api from './api.js';
import { $, show, isTyping } from './dom.js';
import { KeysTable } from './keys-table.js';
import { CreateDialog, RevokeDialog, SecretPanel } from './dialogs.js';
import { clearVerifyResult, refreshDetails, setupVerify, showDetails } from './panels.js';

const table = new KeysTable({
  onSelect: (key) => selectKey(key),
  onRevoke: (key) => revokeDialog.open(key),
});

const secretPanel = new SecretPanel({
  onClosed: (key) => {
    table.load().then(() => table.focusKey(key.id));
  },
});

const createDialog = new CreateDialog({
  // The secret goes straight into the show-once panel; nothing here keeps it.
  onCreated: ({ key, secret }) => secretPanel.show(key, secret),
});

const revokeDialog = new RevokeDialog({
  onRevoked: (key, id) => {
    clearVerifyResult();
    if (key) {
      table.update(key);
      refreshDetails(key);
      table.focusKey(id);
    } else {
      table.load(); // the backend deleted it
    }
  },
});

async function selectKey(key) {
  showDetails(key);
  try {
    refreshDetails(await api.getKey(key.id));
  } catch {
    // The row's copy is already shown; a failed refresh changes nothing.
  }
}

function showProfile(profile) {
  $('#profile-name').textContent = profile.name;
  $('#profile-backend').textContent = profile.backend;
  const location = $('#profile-location');
  location.textContent = profile.location;
  location.title = profile.location;
}

function showStartupError(error) {
  $('#startup-error-message').textContent = error.message;
  show($('#startup-error'), true);
  show($('#workspace'), false);
  $('#profile-name').textContent = 'No profile';
}

// Single-key shortcuts, ignored while typing or while a dialog is open.
document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  if (document.querySelector('dialog[open]') || $('#new-key').disabled) return;
  const actions = {
    '/': () => $('#search').focus(),
    n: () => createDialog.open(),
    '[': () => $('#page-prev').disabled || $('#page-prev').click(),
    ']': () => $('#page-next').disabled || $('#page-next').click(),
  };
  const action = actions[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
});

$('#new-key').addEventListener('click', () => createDialog.open());
setupVerify();

async function start() {
  // The first page is requested alongside app_info: both wait on the same profile opening.
  const firstPage = table.load();
  let info;
  try {
    info = await api.appInfo();
  } catch (error) {
    showStartupError(error);
    return;
  }
  showProfile(info.profile);
  table.configure(info.capabilities);
  createDialog.configure(info);
  revokeDialog.configure(info.capabilities);
  $('#new-key').disabled = false;
  await firstPage;
}

start();
