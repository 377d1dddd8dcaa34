// The key dialogs: create a key, and show its secret once (copy, save to keychain). Revoking is revoke-dialog.js.

import * as api from './api.js';
import { $, el, show, showError, clearErrors, capitalize } from './dom.js';
import { ExpiryControl } from './expiry-control.js';

export class CreateDialog {
  constructor({ onCreated }) {
    this.onCreated = onCreated;
    this.dialog = $('#create-dialog');
    this.form = $('#create-form');
    this.name = $('#key-name');
    this.expiry = new ExpiryControl($('#key-expires'), $('#key-expires-custom'));
    this.owner = $('#key-owner');
    this.ownerKind = $('#key-owner-kind');
    this.ownerOrg = $('#key-owner-org');
    this.level = $('#key-level');
    this.scopes = $('#key-scopes');
    this.description = $('#key-description');
    this.saveToKeychain = $('#key-save-keychain');
    this.submitButton = $('#create-submit');
    this.defaultExpiry = null;
    this.capabilities = null;
    this.saveChoice = false;

    this.ownerKind.addEventListener('change', () => this.syncOwner(true));
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    $('#create-cancel').addEventListener('click', () => this.dialog.close());
  }

  /**
   * Offers what the active backend supports: its expiry presets (Never and Custom only where
   * possible), owner (a label, or personal/organisation), level, scopes and description.
   */
  configure({ capabilities, default_expiry: defaultExpiry, profile }) {
    this.capabilities = capabilities;
    const presets = this.expiry.configure(capabilities);
    this.defaultExpiry = presets.includes(defaultExpiry) ? defaultExpiry : presets[0];

    const ownerChoice = !capabilities.owner_is_label && capabilities.org_keys;
    show($('#key-owner-field'), capabilities.owner_is_label);
    show($('#key-owner-kind-field'), ownerChoice);
    // "Personal" is the profile's subject; without one, the signed-in user (PropelAuth's
    // frontend API) or no owner at all.
    const subject = profile.subject;
    let personal = profile.mode === 'frontend' ? 'Personal (you)' : 'No owner';
    if (subject) personal = subject.startsWith('user:') ? `Personal (${subject})` : `Profile default (${subject})`;
    this.ownerKind.options[0].textContent = personal;

    const levels = capabilities.levels;
    show($('#key-level-field'), !!levels);
    if (levels) {
      const [low, high] = levels;
      const choices = [];
      for (let level = low; level <= high; level += 1) {
        choices.push(el('option', { value: String(level), text: `Level ${level}` }));
      }
      this.level.replaceChildren(...choices);
    }
    show($('#key-scopes-field'), capabilities.scopes);
    show($('#key-description-field'), capabilities.descriptions);
    // Where the name lives, when the server keeps none (PropelAuth's frontend API).
    show($('#key-name-kept-here'), !!capabilities.names_kept_locally);
  }

  open() {
    this.form.reset();
    clearErrors(this.form);
    this.saveToKeychain.checked = this.saveChoice;
    // The lowest level that works is the safest start.
    if (this.capabilities?.levels) this.level.value = String(this.capabilities.levels[0]);
    this.expiry.reset(this.defaultExpiry);
    this.syncOwner(false);
    this.dialog.showModal();
    this.name.focus();
  }

  syncOwner(focus) {
    const org = this.ownerKind.value === 'org';
    show(this.ownerOrg, org);
    if (org && focus) this.ownerOrg.focus();
  }

  ownerValue() {
    const caps = this.capabilities;
    if (caps.owner_is_label) return this.owner.value.trim() || null;
    if (caps.org_keys && this.ownerKind.value === 'org') return `org:${this.ownerOrg.value.trim()}`;
    return null;
  }

  async submit() {
    clearErrors(this.form);
    const caps = this.capabilities;
    const ownerInput = caps.owner_is_label ? this.owner : (this.ownerKind.value === 'org' ? this.ownerOrg : this.ownerKind);
    const fieldInputs = {
      name: this.name,
      expires: this.expiry.input,
      owner: ownerInput,
      description: this.description,
      level: this.level,
      scopes: this.scopes,
    };
    if (!caps.owner_is_label && caps.org_keys && this.ownerKind.value === 'org' && !this.ownerOrg.value.trim()) {
      showError({ field: 'owner', message: 'enter the organisation’s ID' }, fieldInputs, $('#create-error'));
      return;
    }
    const request = {
      name: this.name.value,
      expires: this.expiry.value,
      owner: this.ownerValue(),
      description: caps.descriptions ? this.description.value || null : null,
      level: caps.levels ? Number(this.level.value) : null,
      scopes: caps.scopes ? this.scopes.value || null : null,
    };
    this.saveChoice = this.saveToKeychain.checked;
    this.submitButton.disabled = true;
    try {
      const created = await api.createKey(request, this.saveChoice);
      this.dialog.close();
      this.onCreated(created);
    } catch (error) {
      showError(error, fieldInputs, $('#create-error'));
    } finally {
      this.submitButton.disabled = false;
    }
  }
}

/** What Esc says on the show-once panel before the secret is acknowledged. */
export const SECRET_ESC_PROMPT = 'Have you copied the secret? It won’t be shown again. Tick “I have copied or saved this secret”, then Close (or press Esc again).';

/**
 * The show-once panel. The secret lives only in a readonly input built for this showing; it
 * closes through Close once the secret is acknowledged, and Esc asks for that acknowledgement
 * instead of closing silently. Closing removes the input and tells Rust to forget its copy. Copy
 * and Save act on that Rust-side copy: the secret never travels back from this page.
 */
export class SecretPanel {
  constructor({ onClosed, onShown = () => {}, clipboard }) {
    this.onClosed = onClosed;
    this.onShown = onShown;
    this.clipboard = clipboard;
    this.dialog = $('#secret-dialog');
    this.slot = $('#secret-slot');
    this.ack = $('#secret-ack');
    this.closeButton = $('#secret-close');
    this.copyButton = $('#secret-copy');
    this.saveButton = $('#secret-save');
    this.error = $('#secret-keychain-error');

    this.escPrompt = $('#secret-esc-prompt');
    this.escPrompt.textContent = SECRET_ESC_PROMPT;
    // Esc never loses the secret silently: once acknowledged it closes; before that it asks.
    this.dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      this.escape();
    });
    this.dialog.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      if (!event.repeat) this.escape();
    });
    this.ack.addEventListener('change', () => {
      this.closeButton.disabled = !this.ack.checked;
      if (this.ack.checked) show(this.escPrompt, false);
    });
    this.closeButton.addEventListener('click', () => this.close());
    this.copyButton.addEventListener('click', () => this.copy());
    this.saveButton.addEventListener('click', () => this.save());
    // Every way of copying the secret goes through Rust's safe clipboard (countdown, clear,
    // password-manager hint), never through WebKit's own copy: Ctrl+C, Ctrl+X and the context
    // menu's Copy fire `copy`/`cut` on the field, which become the Copy button's copy; the
    // context menu and dragging the text out are refused outright.
    const copyThroughRust = (event) => {
      event.preventDefault();
      this.copy();
    };
    this.slot.addEventListener('copy', copyThroughRust);
    this.slot.addEventListener('cut', copyThroughRust);
    this.slot.addEventListener('contextmenu', (event) => event.preventDefault());
    this.slot.addEventListener('dragstart', (event) => event.preventDefault());
  }

  show({ key, secret, saved_to_keychain: saved, keychain_error: keychainError }) {
    const field = el('input', {
      id: 'secret-value', type: 'text', className: 'mono secret-value', readonly: true,
      autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'secret-warning',
    });
    field.value = secret;
    field.draggable = false;
    // Select it all, so a single copy (Ctrl+C, made safe above) takes the whole secret.
    field.addEventListener('focus', () => field.select());
    field.addEventListener('click', () => field.select());
    this.slot.replaceChildren(field);
    $('#secret-key-name').textContent = key.name;
    this.key = key;
    this.ack.checked = false;
    this.closeButton.disabled = true;
    this.escPending = false;
    show(this.escPrompt, false);
    this.showError(null);
    this.showSaved(saved);
    if (keychainError) this.showError(`Not saved to the keychain: ${keychainError.message}`);
    this.dialog.showModal();
    this.clipboard.render();
    field.focus();
    // The list behind the panel shows the new key now, not "No keys yet".
    this.onShown(key);
  }

  /**
   * Esc: closes an acknowledged panel; otherwise the first Esc asks "Have you copied the
   * secret?" (focus on the checkbox) and a second Esc acknowledges and closes.
   */
  escape() {
    if (!this.key) return;
    if (!this.ack.checked && !this.escPending) {
      this.escPending = true;
      show(this.escPrompt, true);
      this.ack.focus();
      return;
    }
    this.ack.checked = true;
    this.close();
  }

  async copy() {
    this.showError(null);
    try {
      this.clipboard.copied(await api.copyNewSecret(this.key.id));
    } catch (error) {
      this.showError(`Could not copy: ${error.message}`);
    }
  }

  async save() {
    this.showError(null);
    this.saveButton.disabled = true;
    try {
      await api.saveNewSecret(this.key.id);
      this.showSaved(true);
    } catch (error) {
      this.saveButton.disabled = false;
      this.showError(`Not saved to the keychain: ${error.message}`);
    }
  }

  showSaved(saved) {
    this.saved = saved;
    this.saveButton.disabled = saved;
    this.saveButton.textContent = saved ? 'Saved to keychain' : 'Save to keychain';
    const status = $('#secret-keychain-status');
    status.textContent = saved ? '✓ In the OS keychain: use “Copy” on its row later.' : '';
    status.dataset.state = saved ? 'ok' : 'none';
  }

  showError(message) {
    this.error.textContent = message ? capitalize(message) : '';
    show(this.error, !!message);
  }

  close() {
    if (!this.ack.checked || !this.key) return;
    show(this.escPrompt, false);
    const field = $('#secret-value');
    if (field) field.value = '';
    this.slot.replaceChildren();
    api.forgetNewSecret(this.key.id).catch(() => {}); // Rust also forgets it after 5 minutes
    this.dialog.close();
    this.clipboard.render();
    this.onClosed(this.key);
    this.key = null;
  }
}
