// The three modal dialogs: create a key, show its secret once, revoke a key.

import * as api from './api.js';
import { $, el, show, PRESET_LABELS } from './dom.js';

const CUSTOM_EXPIRY = 'custom';

/** Shows an error next to the field it names, or at the bottom of the form. */
function showError(error, fieldInputs, formBanner) {
  const input = fieldInputs[error.field];
  if (input) {
    const slot = $(`#${input.getAttribute('aria-describedby').split(' ')[0]}`);
    slot.textContent = capitalize(error.message);
    show(slot, true);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } else {
    formBanner.textContent = error.message;
    show(formBanner, true);
  }
}

function clearErrors(form) {
  for (const node of form.querySelectorAll('.field-error, .banner.error')) {
    node.textContent = '';
    show(node, false);
  }
  for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
}

const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);

export class CreateDialog {
  constructor({ onCreated }) {
    this.onCreated = onCreated;
    this.dialog = $('#create-dialog');
    this.form = $('#create-form');
    this.name = $('#key-name');
    this.expires = $('#key-expires');
    this.customExpiry = $('#key-expires-custom');
    this.owner = $('#key-owner');
    this.description = $('#key-description');
    this.submitButton = $('#create-submit');
    this.defaultExpiry = null;

    this.expires.addEventListener('change', () => this.syncCustomExpiry());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    $('#create-cancel').addEventListener('click', () => this.dialog.close());
  }

  /** Offers what the active backend supports: its expiry presets, owner and description. */
  configure({ capabilities, default_expiry: defaultExpiry }) {
    const options = capabilities.expiry_presets.map((preset) => el('option', { value: preset, text: PRESET_LABELS[preset] ?? preset }));
    if (capabilities.custom_expiry) options.push(el('option', { value: CUSTOM_EXPIRY, text: 'Custom…' }));
    this.expires.replaceChildren(...options);
    this.defaultExpiry = capabilities.expiry_presets.includes(defaultExpiry) ? defaultExpiry : capabilities.expiry_presets[0];
    show($('#key-owner-field'), capabilities.user_keys || capabilities.org_keys);
    show($('#key-description-field'), capabilities.descriptions);
  }

  open() {
    this.form.reset();
    clearErrors(this.form);
    if (this.defaultExpiry) this.expires.value = this.defaultExpiry;
    this.syncCustomExpiry();
    this.dialog.showModal();
    this.name.focus();
  }

  syncCustomExpiry() {
    const custom = this.expires.value === CUSTOM_EXPIRY;
    show(this.customExpiry, custom);
    if (custom) this.customExpiry.focus();
  }

  async submit() {
    clearErrors(this.form);
    const custom = this.expires.value === CUSTOM_EXPIRY;
    const request = {
      name: this.name.value,
      expires: custom ? this.customExpiry.value : this.expires.value,
      owner: this.owner.value || null,
      description: this.description.value || null,
    };
    this.submitButton.disabled = true;
    try {
      const created = await api.createKey(request);
      this.dialog.close();
      this.onCreated(created);
    } catch (error) {
      const fieldInputs = {
        name: this.name,
        expires: custom ? this.customExpiry : this.expires,
        owner: this.owner,
        description: this.description,
      };
      showError(error, fieldInputs, $('#create-error'));
    } finally {
      this.submitButton.disabled = false;
    }
  }
}

/**
 * The show-once panel. The secret lives only in a readonly input built for this showing; it
 * closes only through the acknowledged button (never Esc), and closing removes the input.
 */
export class SecretPanel {
  constructor({ onClosed }) {
    this.onClosed = onClosed;
    this.dialog = $('#secret-dialog');
    this.slot = $('#secret-slot');
    this.ack = $('#secret-ack');
    this.closeButton = $('#secret-close');

    this.dialog.addEventListener('cancel', (event) => event.preventDefault());
    this.dialog.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') event.preventDefault();
    });
    this.ack.addEventListener('change', () => {
      this.closeButton.disabled = !this.ack.checked;
    });
    this.closeButton.addEventListener('click', () => this.close());
  }

  show(key, secret) {
    const field = el('input', {
      id: 'secret-value', type: 'text', className: 'mono secret-value', readonly: true,
      autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'secret-warning',
    });
    field.value = secret;
    // Select it all, so a single copy takes the whole secret.
    field.addEventListener('focus', () => field.select());
    field.addEventListener('click', () => field.select());
    this.slot.replaceChildren(field);
    $('#secret-key-name').textContent = key.name;
    this.key = key;
    this.ack.checked = false;
    this.closeButton.disabled = true;
    this.dialog.showModal();
    field.focus();
  }

  close() {
    if (!this.ack.checked) return;
    const field = $('#secret-value');
    if (field) field.value = '';
    this.slot.replaceChildren();
    this.dialog.close();
    this.onClosed(this.key);
    this.key = null;
  }
}

const REVOKE_WORDING = {
  revoke: { verb: 'Revoke', explain: 'Programs using it will be refused from now on. The key stays listed as revoked. This cannot be undone.' },
  archive: { verb: 'Archive', explain: 'Programs using it will be refused from now on. The key moves to the archive. This cannot be undone.' },
  delete: { verb: 'Delete', explain: 'Programs using it will be refused from now on, and the key is deleted for good. This cannot be undone.' },
};

export class RevokeDialog {
  constructor({ onRevoked }) {
    this.onRevoked = onRevoked;
    this.dialog = $('#revoke-dialog');
    this.form = $('#revoke-form');
    this.reason = $('#revoke-reason');
    this.confirm = $('#revoke-confirm');
    this.wording = REVOKE_WORDING.revoke;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    $('#revoke-cancel').addEventListener('click', () => this.dialog.close());
  }

  configure(capabilities) {
    this.wording = REVOKE_WORDING[capabilities.revoke_kind] ?? REVOKE_WORDING.revoke;
    this.confirm.textContent = this.wording.verb;
    show($('#revoke-reason-field'), capabilities.revoke_reason);
  }

  open(key) {
    this.key = key;
    this.form.reset();
    clearErrors(this.form);
    $('#revoke-heading').textContent = `${this.wording.verb} “${key.name}”?`;
    $('#revoke-explain').textContent = this.wording.explain;
    this.dialog.showModal();
    (this.reason.offsetParent ? this.reason : this.confirm).focus();
  }

  async submit() {
    clearErrors(this.form);
    this.confirm.disabled = true;
    try {
      const [outcome] = await api.revokeKeys([this.key.id], this.reason.value || null);
      if (outcome.error) throw outcome.error;
      this.dialog.close();
      this.onRevoked(outcome.key ?? null, this.key.id);
    } catch (error) {
      showError(error, {}, $('#revoke-error'));
    } finally {
      this.confirm.disabled = false;
    }
  }
}
