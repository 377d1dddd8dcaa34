// The Settings dialog: the clipboard countdown, saved in the config file by Rust.

import * as api from './api.js';
import { $, show, showError, clearErrors, capitalize } from './dom.js';

export class SettingsDialog {
  constructor() {
    this.dialog = $('#settings-dialog');
    this.form = $('#settings-form');
    this.clearAfter = $('#settings-clear-after');
    this.banner = $('#settings-error');
    this.saveButton = $('#settings-save');
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
    $('#settings-cancel').addEventListener('click', () => this.dialog.close());
    // Esc closes it: the dialog's own cancel, as for the other dialogs.
  }

  async open() {
    clearErrors(this.form);
    this.clearAfter.value = '';
    this.dialog.showModal();
    try {
      const settings = await api.getSettings();
      this.clearAfter.value = String(settings.clipboard_clear_seconds);
    } catch (error) {
      this.banner.textContent = capitalize(error.message);
      show(this.banner, true);
    }
    this.clearAfter.focus();
    this.clearAfter.select();
  }

  async save() {
    clearErrors(this.form);
    const text = this.clearAfter.value.trim();
    const secs = Number(text);
    if (!/^\d+$/.test(text) || secs < 1 || secs > 3600) {
      showError(
        { field: 'clipboard_clear_seconds', message: 'enter a whole number of seconds from 1 to 3600' },
        { clipboard_clear_seconds: this.clearAfter },
        this.banner,
      );
      return;
    }
    this.saveButton.disabled = true;
    try {
      await api.saveSettings({ clipboard_clear_seconds: secs });
      this.dialog.close();
    } catch (error) {
      showError(error, { clipboard_clear_seconds: this.clearAfter }, this.banner);
    } finally {
      this.saveButton.disabled = false;
    }
  }
}
