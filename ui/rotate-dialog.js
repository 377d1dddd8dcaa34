// "Rotate…" in a key's details: a replacement made like the key, its secret shown once in the
// show-once panel (the same one a create uses), and the old key revoked now or after a grace
// period. A pending revoke shows as "Revoke scheduled" on the old key, with *Cancel*. The rules
// (what the replacement keeps, the grace limits, the keychain replacement) are Rust's
// (keyward_ops::rotate); this collects the grace period and shows the answer.

import * as api from './api.js';
import { $, el, show, showError, clearErrors, formatDateTime } from './dom.js';

/** The grace periods offered, as `rotate_key` takes them. */
export const GRACE_CHOICES = [
  ['now', 'Now: revoke the old key at once'],
  ['1h', 'In 1 hour'],
  ['24h', 'In 24 hours'],
  ['7d', 'In 7 days'],
  ['30d', 'In 30 days'],
];

/** The text of a "revoke scheduled" mark, or null. */
export function scheduledText(key) {
  return key?.revoke_scheduled_at ? `Revoke scheduled for ${formatDateTime(key.revoke_scheduled_at)}` : null;
}

export class RotateDialog {
  /**
   * `onRotated(response)`: the replacement was made (its secret is handed to `secretPanel`);
   * `onChanged(key)`: a pending revoke was cancelled.
   */
  constructor({ secretPanel, onRotated, onChanged }) {
    this.secretPanel = secretPanel;
    this.onRotated = onRotated;
    this.onChanged = onChanged;
    this.key = null;
    this.build();
  }

  build() {
    this.grace = el('select', { id: 'rotate-grace', 'aria-describedby': 'rotate-grace-error' },
      ...GRACE_CHOICES.map(([value, label]) => el('option', { value, text: label })));
    this.graceError = el('p', { id: 'rotate-grace-error', className: 'field-error', hidden: true });
    this.error = el('p', { id: 'rotate-error', className: 'banner error', role: 'alert', hidden: true });
    this.submitButton = el('button', { id: 'rotate-submit', type: 'submit', className: 'button primary', text: 'Rotate' });
    const cancel = el('button', { id: 'rotate-cancel', type: 'button', className: 'button', text: 'Cancel' });
    this.keyName = el('span', { id: 'rotate-key-name' });
    this.form = el('form', { id: 'rotate-form', className: 'stack', novalidate: true },
      el('h2', { id: 'rotate-heading' }, 'Rotate ', this.keyName),
      el('p', { id: 'rotate-explain', className: 'muted', text: 'A new key is made with the same name, owner, access, description and expiry length. Its secret is shown once. The old key keeps working until it is revoked.' }),
      el('div', { className: 'field' },
        el('label', { for: 'rotate-grace', text: 'Revoke the old key' }),
        this.grace,
        this.graceError),
      this.error,
      el('div', { className: 'actions' }, cancel, this.submitButton));
    this.dialog = el('dialog', { id: 'rotate-dialog', 'aria-labelledby': 'rotate-heading', 'aria-describedby': 'rotate-explain' }, this.form);
    document.body.append(this.dialog);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    cancel.addEventListener('click', () => this.dialog.close());

    // The details panel's buttons.
    this.rotateButton = el('button', { id: 'details-rotate', type: 'button', className: 'button', text: 'Rotate…', hidden: true });
    this.cancelScheduledButton = el('button', { id: 'details-cancel-revoke', type: 'button', className: 'button', text: 'Cancel revoke', title: 'Cancel the scheduled revoke: the old key keeps working', hidden: true });
    this.cancelError = el('p', { id: 'details-cancel-revoke-error', className: 'banner error', role: 'alert', hidden: true });
    $('#details .details-actions')?.append(this.rotateButton, this.cancelScheduledButton, this.cancelError);
    this.rotateButton.addEventListener('click', () => this.open(this.key));
    this.cancelScheduledButton.addEventListener('click', () => this.cancelScheduled(this.key));
  }

  /** The details panel shows `key` (or nothing): offers Rotate on a working key, Cancel on a pending revoke. */
  detailsShown(key) {
    this.key = key ?? null;
    show(this.cancelError, false);
    const working = !!key && key.status !== 'revoked';
    show(this.rotateButton, working && !key.revoke_scheduled_at);
    show(this.cancelScheduledButton, working && !!key.revoke_scheduled_at);
  }

  open(key) {
    if (!key || key.status === 'revoked') return;
    this.key = key;
    this.form.reset();
    clearErrors(this.form);
    this.keyName.textContent = `“${key.name}”`;
    this.dialog.showModal();
    this.grace.focus();
  }

  async submit() {
    clearErrors(this.form);
    this.submitButton.disabled = true;
    try {
      const rotated = await api.rotateKey(this.key.id, this.grace.value);
      this.dialog.close();
      // The secret goes straight into the show-once panel; nothing here keeps it.
      this.secretPanel.show(rotated.created);
      const { old_key_id, old_key_revoked, revoke_scheduled_at, old_key_error } = rotated;
      this.onRotated({ old_key_id, old_key_revoked, revoke_scheduled_at, old_key_error });
    } catch (error) {
      showError(error, { grace: this.grace }, this.error);
    } finally {
      this.submitButton.disabled = false;
    }
  }

  async cancelScheduled(key) {
    if (!key) return;
    this.cancelScheduledButton.disabled = true;
    show(this.cancelError, false);
    try {
      await api.cancelScheduledRevoke(key.id);
      this.onChanged({ ...key, revoke_scheduled_at: null });
    } catch (error) {
      this.cancelError.textContent = error.message;
      show(this.cancelError, true);
    } finally {
      this.cancelScheduledButton.disabled = false;
    }
  }
}
