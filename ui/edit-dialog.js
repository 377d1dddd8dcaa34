// "Edit" in a key's details: change its name, description or expiry, offering only the fields
// the backend can change (`capabilities.updates`). Only what the user changed is sent; Rust
// checks it (keyward_ops::update) and an error naming a field is shown under that field.

import * as api from './api.js';
import { $, show, showError, clearErrors, formatDateTime } from './dom.js';
import { ExpiryControl } from './expiry-control.js';

const UNCHANGED = '';

export class EditDialog {
  constructor({ onSaved }) {
    this.onSaved = onSaved;
    this.dialog = $('#edit-dialog');
    this.form = $('#edit-form');
    this.name = $('#edit-name');
    this.description = $('#edit-description');
    this.expiry = new ExpiryControl($('#edit-expires'), $('#edit-expires-custom'));
    this.submitButton = $('#edit-submit');
    this.updates = null;
    this.key = null;

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    $('#edit-cancel').addEventListener('click', () => this.dialog.close());
  }

  configure(capabilities) {
    this.updates = capabilities.updates ?? null;
    this.expiry.configure(capabilities, [[UNCHANGED, 'Unchanged']]);
    show($('#edit-name-field'), !!this.updates?.name);
    show($('#edit-description-field'), !!this.updates?.description);
    show($('#edit-expires-field'), !!this.updates?.expiry);
  }

  /** Whether `key` can be edited at all: the backend changes something, and it is not revoked. */
  canEdit(key) {
    const updates = this.updates;
    return !!key && key.status !== 'revoked' && !!updates
      && (updates.name || updates.description || updates.expiry);
  }

  open(key) {
    if (!this.canEdit(key)) return;
    this.key = key;
    this.form.reset();
    clearErrors(this.form);
    $('#edit-key-name').textContent = `“${key.name}”`;
    this.name.value = key.name;
    this.description.value = key.description ?? '';
    this.expiry.reset(UNCHANGED);
    $('#edit-expires-now').textContent = key.expires_at
      ? `Now expires ${formatDateTime(key.expires_at)}; a new expiry counts from now.`
      : 'Now never expires; a new expiry counts from now.';
    this.dialog.showModal();
    (this.updates.name ? this.name : this.updates.expiry ? this.expiry.select : this.description).focus();
  }

  /** The fields the user changed, as `update_key` takes them. */
  change() {
    const change = {};
    if (this.updates.name && this.name.value.trim() !== this.key.name) change.name = this.name.value;
    if (this.updates.description && this.description.value.trim() !== (this.key.description ?? '')) {
      change.description = this.description.value;
    }
    if (this.updates.expiry && this.expiry.select.value !== UNCHANGED) change.expires = this.expiry.value;
    return change;
  }

  async submit() {
    clearErrors(this.form);
    const fieldInputs = { name: this.name, description: this.description, expires: this.expiry.input };
    const change = this.change();
    if (Object.keys(change).length === 0) {
      this.dialog.close(); // nothing changed, nothing to send
      return;
    }
    this.submitButton.disabled = true;
    try {
      const key = await api.updateKey(this.key.id, change);
      this.dialog.close();
      this.onSaved(key);
    } catch (error) {
      showError(error, fieldInputs, $('#edit-error'));
    } finally {
      this.submitButton.disabled = false;
    }
  }
}
