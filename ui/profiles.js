// The profile switcher in the header, and the profile editor (add, edit, remove, default,
// credential, sign in). Credentials go to the keychain through Rust and never come back: the
// editor only ever learns whether one is stored.

import * as api from './api.js';
import {
  $, el, show, BACKEND_LABELS, profileLocation, showError, clearErrors, capitalize,
} from './dom.js';
import { profileFormError } from './format.js';

/** The header's profile button and its menu. */
export class ProfileSwitcher {
  constructor({ onSwitch, onManage }) {
    this.onSwitch = onSwitch;
    this.onManage = onManage;
    this.button = $('#profile-button');
    this.menu = $('#profile-menu');
    this.items = $('#profile-menu-items');
    this.active = null;

    this.button.addEventListener('click', () => (this.menu.hidden ? this.open() : this.close()));
    this.menu.addEventListener('keydown', (event) => this.onKey(event));
    this.menu.addEventListener('click', (event) => {
      const item = event.target.closest('[data-profile]');
      if (item) this.choose(item.dataset.profile);
    });
    $('#manage-profiles').addEventListener('click', () => {
      this.close();
      this.onManage();
    });
    document.addEventListener('mousedown', (event) => {
      if (!this.menu.hidden && !event.target.closest('.profile-switcher')) this.close(false);
    });
  }

  /** Shows which profile the window acts on: name, backend, and whose keys where. */
  showActive(profile) {
    this.active = profile?.name ?? null;
    $('#profile-name').textContent = profile?.name ?? 'No profile';
    $('#profile-backend').textContent = profile ? BACKEND_LABELS[profile.backend] ?? profile.backend : '';
    const location = $('#profile-location');
    location.textContent = profile ? profileLocation(profile) : '';
    location.title = location.textContent;
  }

  async open() {
    let list;
    try {
      list = await api.listProfiles();
    } catch (error) {
      list = { active: this.active, profiles: [], error };
    }
    this.items.replaceChildren(...list.profiles.map((profile) => this.renderItem(profile, list.active)));
    if (list.error) this.items.append(el('p', { className: 'menu-note', text: list.error.message }));
    show(this.menu, true);
    this.button.setAttribute('aria-expanded', 'true');
    const current = this.items.querySelector('[aria-checked="true"]') ?? this.menuItems()[0];
    current?.focus();
  }

  close(refocus = true) {
    if (this.menu.hidden) return;
    show(this.menu, false);
    this.button.setAttribute('aria-expanded', 'false');
    if (refocus) this.button.focus();
  }

  renderItem(profile, active) {
    const isActive = profile.name === active;
    return el('button', {
      type: 'button',
      className: 'menu-item profile-item',
      role: 'menuitemradio',
      'aria-checked': String(isActive),
      dataset: { profile: profile.name },
    },
    el('span', { className: 'item-check', 'aria-hidden': 'true', text: isActive ? '✓' : '' }),
    el('span', { className: 'item-main' },
      el('span', { className: 'item-name' },
        profile.name,
        profile.default ? el('span', { className: 'item-tag', text: 'default' }) : null),
      el('span', { className: 'item-location mono', title: profileLocation(profile), text: profileLocation(profile) })),
    el('span', { className: 'chip', text: BACKEND_LABELS[profile.backend] ?? profile.backend }));
  }

  menuItems() {
    return [...this.menu.querySelectorAll('[role^="menuitem"]')];
  }

  choose(name) {
    this.close();
    if (name !== this.active) this.onSwitch(name);
  }

  onKey(event) {
    const items = this.menuItems();
    const index = items.indexOf(document.activeElement);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: items.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      items[(moves[event.key] + items.length) % items.length]?.focus();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      this.close();
    } else if (event.key === 'Tab') {
      this.close(false);
    }
  }
}

const URL_HINTS = {
  propelauth: 'Your project’s Auth URL, e.g. https://auth.example.com (http:// only for 127.0.0.1).',
  clerk: 'https://api.clerk.com, or the emulator’s http://127.0.0.1:PORT.',
  freesewing: 'https://backend.freesewing.org, or the emulator’s http://127.0.0.1:PORT.',
};

/** Clerk's Frontend API lives on the application's own domain, not on api.clerk.com. */
const CLERK_FRONTEND_URL_HINT = 'The application’s Clerk Frontend API, e.g. https://clerk.example.com '
  + '(the domain of its pk_… key), or the emulator’s http://127.0.0.1:PORT.';

/** The API choice names what each mode signs in with, in the backend's own words. */
const API_LABELS = {
  propelauth: { backend: 'Backend API (integration key)', frontend: 'Frontend API (signed-in session)' },
  clerk: { backend: 'Backend (instance secret key)', frontend: 'Frontend (signed in as yourself)' },
};

function urlHint(backend, api) {
  if (backend === 'clerk' && api === 'frontend') return CLERK_FRONTEND_URL_HINT;
  return URL_HINTS[backend] ?? '';
}

/** Backends whose frontend API signs in through the sign-in window. */
const SIGN_IN_BACKENDS = ['propelauth', 'clerk'];

function credentialHint(backend, api, auth) {
  if (backend === 'clerk' && api === 'frontend') {
    return 'Use Sign in…, or paste the __client cookie value of a signed-in session.';
  }
  if (backend === 'clerk') return 'The instance secret key (sk_live_… or sk_test_…).';
  if (backend === 'propelauth' && api === 'frontend') {
    return 'Use Sign in, or paste a session cookie written name=value.';
  }
  if (backend === 'propelauth') return 'The project’s integration API key.';
  if (backend === 'freesewing' && auth === 'jwt') return 'A JWT from signing in to FreeSewing.';
  if (backend === 'freesewing') return 'An API key written KEY:SECRET.';
  return '';
}

function credentialText(source, error) {
  if (error) return { text: `Keychain unavailable: ${error.message}`, state: 'error' };
  switch (source?.source) {
    case 'stored': return { text: 'Stored in the OS keychain.', state: 'ok' };
    case 'environment': return {
      text: `Set by ${source.variable}, which overrides the keychain${source.stored ? ' (a keychain copy is stored too)' : ''}.`,
      state: 'ok',
    };
    case 'missing': return { text: 'No credential stored yet.', state: 'missing' };
    default: return { text: '', state: 'none' };
  }
}

/** A field named `profiles.NAME.url` by the config check, or just `url`. */
function fieldName(field) {
  if (!field) return null;
  return field.startsWith('profiles.') ? field.split('.').slice(2).join('.') : field;
}

/** The profile editor: a list of profiles and the form of the selected (or new) one. */
export class ProfilesDialog {
  constructor({ onChanged }) {
    this.onChanged = onChanged;
    this.dialog = $('#profiles-dialog');
    this.form = $('#profile-form');
    this.list = { active: null, profiles: [] };
    this.editing = null; // the name of the profile shown, or null for a new one
    this.savedSpec = null;
    this.inputs = {
      name: $('#pf-name'),
      backend: $('#pf-backend'),
      url: $('#pf-url'),
      api: $('#pf-api'),
      auth_url: $('#pf-auth-url'),
      api_path: $('#pf-api-path'),
      auth: $('#pf-auth'),
      subject: $('#pf-subject'),
      data_dir: $('#pf-data-dir'),
      credential: $('#pf-credential'),
    };
    this.removeArmed = false;

    for (const input of [this.inputs.backend, this.inputs.api, this.inputs.auth]) {
      input.addEventListener('change', () => this.syncFields());
    }
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
    $('#profile-add').addEventListener('click', () => this.startNew());
    $('#profiles-items').addEventListener('click', (event) => {
      const item = event.target.closest('[data-profile]');
      if (item) this.select(item.dataset.profile);
    });
    $('#profiles-close').addEventListener('click', () => this.dialog.close());
    $('#pf-remove').addEventListener('click', () => this.remove());
    $('#pf-default').addEventListener('click', () => this.makeDefault());
    $('#pf-sign-in').addEventListener('click', () => this.signIn());
    $('#pf-forget').addEventListener('click', () => this.forget());
  }

  async open(name) {
    clearErrors(this.form);
    await this.refreshList();
    const target = name ?? this.list.active ?? this.list.profiles[0]?.name;
    if (!this.dialog.open) this.dialog.showModal();
    if (target) await this.select(target);
    else this.startNew();
  }

  async refreshList(list) {
    this.list = list ?? await api.listProfiles();
    this.renderList();
  }

  renderList() {
    // A list of items, each holding its button (a button cannot itself be a list item).
    const items = this.list.profiles.map((profile) => el('div', { role: 'listitem' }, el('button', {
      type: 'button',
      className: 'profiles-item',
      'aria-current': profile.name === this.editing ? 'true' : null,
      dataset: { profile: profile.name },
    },
    el('span', { className: 'item-name' },
      profile.name,
      profile.name === this.list.active ? el('span', { className: 'item-tag active', text: 'in use' }) : null,
      profile.default ? el('span', { className: 'item-tag', text: 'default' }) : null),
    el('span', { className: 'item-location', text: BACKEND_LABELS[profile.backend] ?? profile.backend }))));
    $('#profiles-items').replaceChildren(...items);
  }

  async select(name) {
    clearErrors(this.form);
    this.notice(null);
    let form;
    try {
      form = await api.profileForm(name);
    } catch (error) {
      showError(error, {}, $('#profile-error'));
      return;
    }
    this.editing = name;
    this.savedSpec = form.spec;
    this.fill(form.spec);
    this.showCredential(form.credential, form.credential_error);
    this.renderList();
  }

  startNew() {
    clearErrors(this.form);
    this.notice(null);
    this.editing = null;
    this.savedSpec = null;
    this.fill({ name: '', backend: 'clerk' });
    this.showCredential({ source: 'missing' }, null);
    this.renderList();
    this.inputs.name.focus();
  }

  fill(spec) {
    const { inputs } = this;
    inputs.name.value = spec.name ?? '';
    inputs.backend.value = spec.backend ?? 'local';
    inputs.url.value = spec.url ?? '';
    inputs.api.value = spec.api ?? 'backend';
    inputs.auth_url.value = spec.auth_url ?? '';
    inputs.api_path.value = spec.api_path ?? '/api_keys';
    inputs.auth.value = spec.auth ?? 'key';
    inputs.subject.value = spec.subject ?? '';
    inputs.data_dir.value = spec.data_dir ?? '';
    inputs.credential.value = '';
    const isNew = this.editing == null;
    // A profile keeps its name: add a new one and remove the old one to rename.
    inputs.name.readOnly = !isNew;
    inputs.name.title = isNew ? '' : 'A profile keeps its name: add a new profile to use another name.';
    $('#profile-form-heading').textContent = isNew ? 'New profile' : `Edit “${spec.name}”`;
    const profile = this.list.profiles.find((p) => p.name === this.editing);
    show($('#pf-remove'), !isNew);
    show($('#pf-default'), !isNew);
    $('#pf-default').disabled = !!profile?.default;
    $('#pf-default').textContent = profile?.default ? 'Default profile' : 'Make default';
    const inUse = !isNew && this.editing === this.list.active;
    $('#pf-remove').disabled = inUse;
    $('#pf-remove').title = inUse ? 'This profile is in use: switch to another one first.' : '';
    this.disarmRemove();
    $('#pf-save').textContent = isNew ? 'Add profile' : 'Save';
    this.syncFields();
  }

  /** Shows the fields the chosen backend takes, and the matching credential help. */
  syncFields() {
    const backend = this.inputs.backend.value;
    const apiKind = this.inputs.api.value;
    for (const field of this.form.querySelectorAll('[data-backends]')) {
      const forBackend = field.dataset.backends.split(' ').includes(backend);
      const forApi = !field.dataset.api || field.dataset.api === apiKind;
      show(field, forBackend && forApi);
    }
    const labels = API_LABELS[backend];
    if (labels) {
      for (const option of this.inputs.api.options) option.textContent = labels[option.value];
    }
    $('#pf-url-hint').textContent = urlHint(backend, apiKind);
    $('#pf-credential-hint').textContent = credentialHint(backend, apiKind, this.inputs.auth.value);
    // Sign in works on a saved frontend profile of PropelAuth or Clerk: its URL must be in the
    // config, and the form must still show that backend and API.
    const saved = this.savedSpec;
    const canSignIn = SIGN_IN_BACKENDS.includes(backend) && apiKind === 'frontend'
      && saved?.backend === backend && saved?.api === 'frontend';
    show($('#pf-sign-in'), canSignIn);
  }

  showCredential(source, error) {
    const status = $('#pf-credential-status');
    const { text, state } = credentialText(source, error);
    status.textContent = text;
    status.dataset.state = state;
    const stored = source?.source === 'stored' || (source?.source === 'environment' && source.stored);
    show($('#pf-forget'), stored && this.editing != null);
    this.inputs.credential.placeholder = stored ? 'Paste a new credential to replace the stored one' : 'Paste the credential';
  }

  spec() {
    const value = (input) => input.value.trim() || null;
    const { inputs } = this;
    const backend = inputs.backend.value;
    const remote = backend !== 'local';
    const clerkFrontend = backend === 'clerk' && inputs.api.value === 'frontend';
    return {
      name: inputs.name.value.trim(),
      backend,
      url: remote ? value(inputs.url) : null,
      subject: ['propelauth', 'clerk'].includes(backend) ? value(inputs.subject) : null,
      // Clerk's backend mode is the default: only user mode is written down.
      api: backend === 'propelauth' ? inputs.api.value : (clerkFrontend ? 'frontend' : null),
      auth: backend === 'freesewing' ? inputs.auth.value : null,
      // The Frontend API's routes are fixed: a path belongs to the Backend API only.
      api_path: backend === 'clerk' && !clerkFrontend ? inputs.api_path.value : null,
      auth_url: backend === 'propelauth' && inputs.api.value === 'backend' ? value(inputs.auth_url) : null,
      data_dir: backend === 'local' ? value(inputs.data_dir) : null,
    };
  }

  fieldError(error) {
    const fields = { ...this.inputs, profile: null };
    // What the user typed is named as the form names it, not as a line of the config file.
    const worded = profileFormError(error);
    showError({ ...worded, field: fieldName(error.field) }, fields, $('#profile-error'));
  }

  async save() {
    clearErrors(this.form);
    this.notice(null);
    const spec = this.spec();
    const isNew = this.editing == null;
    const credentialInput = this.inputs.credential;
    const credential = spec.backend !== 'local' && credentialInput.value ? credentialInput.value : null;
    const button = $('#pf-save');
    button.disabled = true;
    try {
      const saved = await api.saveProfile(spec, !isNew, credential);
      credentialInput.value = ''; // the credential is in the keychain now (or reported below)
      this.editing = spec.name;
      this.savedSpec = spec;
      await this.refreshList(saved.profiles);
      this.fill((await api.profileForm(spec.name)).spec);
      this.showCredential(saved.credential, saved.credential_source_error);
      const rejected = saved.credential_check && !saved.credential_check.accepted;
      if (rejected) {
        // Saved, but the server said no (checked by listing one page, as the CLI does).
        const status = $('#pf-credential-status');
        status.textContent = 'Stored in the OS keychain, but the server did not accept it.';
        status.dataset.state = 'error';
      }
      if (saved.credential_error) {
        this.fieldError({ ...saved.credential_error, field: 'credential' });
      } else if (saved.credential_dropped) {
        // The profile moved to another origin or backend: its old credential is not sent there.
        this.notice(saved.credential_dropped.message);
      } else {
        this.notice(isNew ? `Profile “${spec.name}” added.` : `Profile “${spec.name}” saved.`);
      }
      await this.onChanged(spec.name);
    } catch (error) {
      this.fieldError(error);
    } finally {
      button.disabled = false;
    }
  }

  async forget() {
    clearErrors(this.form);
    try {
      this.showCredential(await api.forgetCredential(this.editing), null);
      this.notice('Credential deleted from the keychain.');
      await this.onChanged(this.editing);
    } catch (error) {
      this.fieldError({ ...error, field: 'credential' });
    }
  }

  async signIn() {
    clearErrors(this.form);
    const name = this.editing;
    const button = $('#pf-sign-in');
    button.disabled = true;
    this.notice('Sign in in the window that opened; Keyward keeps the session in the keychain.');
    try {
      this.showCredential(await api.signIn(name), null);
      this.notice('Signed in: the session is stored in the OS keychain.');
      await this.onChanged(name);
    } catch (error) {
      this.notice(null);
      this.fieldError({ ...error, field: 'credential' });
    } finally {
      button.disabled = false;
    }
  }

  async makeDefault() {
    clearErrors(this.form);
    try {
      await this.refreshList(await api.setDefaultProfile(this.editing));
      this.fill(this.savedSpec);
      this.notice(`“${this.editing}” opens when Keyward starts.`);
      await this.onChanged(null);
    } catch (error) {
      this.fieldError(error);
    }
  }

  /** Remove asks once more on the same button before it removes. */
  async remove() {
    const button = $('#pf-remove');
    if (!this.removeArmed) {
      this.removeArmed = true;
      button.textContent = `Remove “${this.editing}”?`;
      button.classList.add('armed');
      this.disarmTimer = setTimeout(() => this.disarmRemove(), 5000);
      return;
    }
    this.disarmRemove();
    clearErrors(this.form);
    const name = this.editing;
    try {
      const removed = await api.removeProfile(name);
      this.editing = null;
      await this.refreshList(removed.profiles);
      const next = this.list.active ?? this.list.profiles[0]?.name;
      if (next) await this.select(next);
      this.notice(removed.keychain_error
        ? `Profile “${name}” removed, but its credential could not be deleted from the keychain: ${removed.keychain_error.message}`
        : `Profile “${name}” removed.`);
      await this.onChanged(null);
    } catch (error) {
      this.fieldError(error);
    }
  }

  disarmRemove() {
    clearTimeout(this.disarmTimer);
    this.removeArmed = false;
    const button = $('#pf-remove');
    button.textContent = 'Remove';
    button.classList.remove('armed');
  }

  notice(text) {
    const node = $('#profile-notice');
    node.textContent = text ? capitalize(text) : '';
    show(node, !!text);
  }
}
