// The revoke dialog, for one key or many: a preview (how many, which, any used lately), a typed
// confirmation (the count, or the key's name for one key), an optional reason, then the run with
// its progress (Stop leaves the rest untouched), and a per-key result list with "Retry failed".
// The results stay until the user closes the dialog.

import * as api from './api.js';
import { $, el, show, clearErrors, showError, capitalize } from './dom.js';
import {
  confirmationTarget, confirmationMatches, formatNumber, mergeOutcomes, revokeSummary,
} from './format.js';

const WORDING = {
  revoke: {
    verb: 'Revoke', done: 'revoked',
    one: 'Programs using it will be refused from now on. The key stays listed as revoked. This cannot be undone.',
    many: 'Programs using them will be refused from now on. The keys stay listed as revoked. This cannot be undone.',
  },
  archive: {
    verb: 'Archive', done: 'archived',
    one: 'Programs using it will be refused from now on. The key moves to the archive. This cannot be undone.',
    many: 'Programs using them will be refused from now on. The keys move to the archive. This cannot be undone.',
  },
  delete: {
    verb: 'Delete', done: 'deleted',
    one: 'Programs using it will be refused from now on, and the key is deleted for good. This cannot be undone.',
    many: 'Programs using them will be refused from now on, and the keys are deleted for good. This cannot be undone.',
  },
};
const STATUS_TEXT = { failed: 'Failed', untouched: 'Untouched' };

let lastJob = 0;

export class RevokeDialog {
  /** nameOf(id): a key's name if the table knows it; onFinished(result): a run ended (refresh the table). */
  constructor({ nameOf, onFinished }) {
    this.nameOf = nameOf;
    this.onFinished = onFinished;
    this.dialog = $('#revoke-dialog');
    this.form = $('#revoke-form');
    this.typed = $('#revoke-typed');
    this.reason = $('#revoke-reason');
    this.forget = $('#revoke-forget');
    this.confirm = $('#revoke-confirm');
    this.progress = $('#revoke-progress');
    this.wording = WORDING.revoke;
    this.capabilities = null;
    this.phase = 'closed';
    this.outcomes = [];

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.phase === 'confirm' && this.matches()) this.start();
    });
    this.typed.addEventListener('input', () => this.syncConfirm());
    $('#revoke-cancel').addEventListener('click', () => this.dialog.close());
    $('#revoke-close').addEventListener('click', () => this.dialog.close());
    $('#revoke-stop').addEventListener('click', () => this.stop());
    $('#revoke-retry').addEventListener('click', () => this.retry());
    // While keys are being revoked the dialog stays: Stop is the way out.
    this.dialog.addEventListener('cancel', (event) => {
      if (this.phase === 'running') event.preventDefault();
    });
    this.dialog.addEventListener('close', () => {
      this.phase = 'closed';
    });
    api.listen('revoke-progress', (progress) => this.onProgress(progress)).catch(() => {});
  }

  configure(capabilities) {
    this.capabilities = capabilities;
    this.wording = WORDING[capabilities.revoke_kind] ?? WORDING.revoke;
    // A reason is always kept in Keyward's activity log; some backends also store it.
    $('#revoke-reason-hint').textContent = capabilities.revoke_reason
      ? 'Sent with the request and kept in Keyward’s audit log.'
      : 'This backend does not store a reason; Keyward keeps it in its own audit log.';
  }

  get isOpen() {
    return this.dialog.open;
  }

  /**
   * Opens the dialog for `selection` ({ids} or {query}); `key`: the one key being revoked (its
   * name is what the user types); `count`: how many the table thinks (null if unknown);
   * `saved`: some of them have a saved secret, so offer to delete it too (ticked).
   */
  async open({ selection, key = null, count = null, saved = false, names = {} }) {
    this.selection = selection;
    this.names = names;
    this.key = key;
    this.saved = saved;
    this.preview = null;
    this.target = null;
    this.outcomes = [];
    this.form.reset();
    clearErrors(this.form);
    this.forget.checked = true;
    show($('#revoke-forget-field'), saved);
    this.setPhase('confirm');
    this.confirm.textContent = this.wording.verb;
    $('#revoke-explain').textContent = key ? this.wording.one : this.wording.many;
    this.showCount(key ? 1 : count);
    $('#revoke-names').replaceChildren();
    show($('#revoke-recent-warning'), false);
    $('#revoke-typed-label').textContent = 'Type the number of keys to confirm';
    this.typed.placeholder = '';
    this.syncConfirm();
    this.dialog.showModal();
    this.typed.focus();

    const session = Symbol('preview');
    this.session = session;
    let preview;
    try {
      preview = await api.revokePreview(selection);
    } catch (error) {
      if (this.session !== session) return;
      showError({ ...error, message: `Could not check what would be ${this.wording.done}: ${error.message}` }, {}, $('#revoke-error'));
      return;
    }
    if (this.session !== session || this.phase !== 'confirm') return;
    this.showPreview(preview);
  }

  showCount(count) {
    const known = count != null;
    $('#revoke-count').textContent = known ? formatNumber(count) : '…';
    const noun = count === 1 ? 'key' : 'keys';
    $('#revoke-count-noun').textContent = noun;
    $('#revoke-heading').textContent = this.key
      ? `${this.wording.verb} “${this.key.name}”?`
      : `${this.wording.verb} ${known ? formatNumber(count) : 'the selected'} ${noun}?`;
  }

  showPreview(preview) {
    this.preview = preview;
    const singleName = preview.single_name ?? (preview.count === 1 ? this.key?.name : null);
    this.target = confirmationTarget({ count: preview.count, single_name: singleName });
    this.showCount(preview.count);
    const names = preview.names ?? [];
    const items = names.map((name) => el('li', { text: name }));
    if (preview.count > names.length && names.length) {
      items.push(el('li', { className: 'muted', text: `and ${formatNumber(preview.count - names.length)} more` }));
    }
    $('#revoke-names').replaceChildren(...items);
    const recent = preview.recently_used ?? 0;
    const warning = $('#revoke-recent-warning');
    if (recent > 0) {
      warning.textContent = preview.count === 1
        ? 'This key was used in the last 7 days: something may still depend on it.'
        : `${formatNumber(recent)} of these keys ${recent === 1 ? 'was' : 'were'} used in the last 7 days: something may still depend on them.`;
    }
    show(warning, recent > 0);
    if (preview.count === 0) {
      showError({ message: `Nothing to ${this.wording.verb.toLowerCase()}: none of the selected keys is still active.` }, {}, $('#revoke-error'));
    }
    const label = $('#revoke-typed-label');
    if (this.target.kind === 'name') {
      label.textContent = `Type the key’s name, “${this.target.text}”, to confirm`;
    } else {
      label.textContent = `Type ${this.target.text} to confirm`;
      this.typed.placeholder = this.target.text;
    }
    this.typed.setAttribute('inputmode', this.target.kind === 'count' ? 'numeric' : 'text');
    this.syncConfirm();
  }

  matches() {
    return confirmationMatches(this.typed.value, this.target);
  }

  syncConfirm() {
    this.confirm.disabled = !this.matches();
  }

  setPhase(phase) {
    this.phase = phase;
    show($('#revoke-explain'), phase === 'confirm');
    show($('#revoke-confirm-step'), phase === 'confirm');
    show($('#revoke-run'), phase === 'running');
    show($('#revoke-done'), phase === 'done');
    show($('#revoke-cancel'), phase === 'confirm');
    show(this.confirm, phase === 'confirm');
    show($('#revoke-stop'), phase === 'running');
    show($('#revoke-close'), phase === 'done');
    if (phase !== 'done') show($('#revoke-retry'), false);
  }

  start() {
    this.reasonText = this.reason.value.trim() || null;
    this.forgetSaved = this.saved && this.forget.checked;
    return this.run(this.selection, this.preview?.count ?? null, false);
  }

  retry() {
    const failed = this.outcomes.filter((o) => o.status === 'failed').map((o) => o.id);
    if (failed.length) return this.run({ ids: failed }, failed.length, true);
    return undefined;
  }

  async run(selection, total, isRetry) {
    clearErrors(this.form);
    lastJob += 1;
    const job = lastJob;
    this.job = job;
    this.setPhase('running');
    const stop = $('#revoke-stop');
    stop.disabled = false;
    stop.textContent = 'Stop';
    this.progress.max = Math.max(1, total ?? 1);
    this.progress.value = 0;
    if (total == null) this.progress.removeAttribute('value');
    $('#revoke-progress-text').textContent = total == null ? 'Starting…' : `0 of ${formatNumber(total)}`;
    stop.focus();
    let result;
    try {
      // `total` is the count the user confirmed: Rust refuses (conflict) if it no longer holds.
      result = await api.revokeKeys(selection, total, this.reasonText, this.forgetSaved, job, this.names);
    } catch (error) {
      this.job = null;
      this.setPhase('done');
      this.renderResults();
      showError({ ...error, message: `Could not ${this.wording.verb.toLowerCase()}: ${error.message}` }, {}, $('#revoke-error'));
      $('#revoke-close').focus();
      return;
    }
    this.job = null;
    this.outcomes = isRetry ? mergeOutcomes(this.outcomes, result.outcomes) : result.outcomes;
    this.setPhase('done');
    this.renderResults(result);
    if (this.isOpen) {
      const retry = $('#revoke-retry');
      (retry.hidden ? $('#revoke-close') : retry).focus();
    }
    this.onFinished(result);
  }

  stop() {
    if (this.job == null) return;
    const stop = $('#revoke-stop');
    stop.disabled = true;
    stop.textContent = 'Stopping…';
    api.cancelRevoke(this.job).catch((error) => {
      stop.disabled = false;
      stop.textContent = 'Stop';
      showError({ message: `Could not stop: ${error.message}` }, {}, $('#revoke-error'));
    });
  }

  onProgress(progress) {
    if (progress?.job !== this.job || this.phase !== 'running') return;
    this.progress.max = Math.max(1, progress.total);
    this.progress.value = progress.done;
    $('#revoke-progress-text').textContent = `${formatNumber(progress.done)} of ${formatNumber(progress.total)} · `
      + `${formatNumber(progress.revoked)} ${this.wording.done} · ${formatNumber(progress.failed)} failed`;
  }

  renderResults(result) {
    const { counts, text } = revokeSummary(this.outcomes, this.wording.done);
    $('#revoke-summary').textContent = text;
    const all = this.outcomes.length;
    let heading;
    if (all === 0) heading = `Nothing was ${this.wording.done}`;
    else if (counts.revoked === all) heading = all === 1 ? `“${this.outcomes[0].key?.name ?? this.nameOf(this.outcomes[0].id) ?? this.outcomes[0].id}” was ${this.wording.done}` : `All ${formatNumber(all)} keys were ${this.wording.done}`;
    else heading = `${formatNumber(counts.revoked)} of ${formatNumber(all)} ${all === 1 ? 'key' : 'keys'} ${this.wording.done}`;
    $('#revoke-heading').textContent = heading;
    // Failed keys first (what needs a look), then untouched, then revoked; input order within.
    const rank = { failed: 0, untouched: 1 };
    const listed = this.outcomes.map((outcome, at) => ({ outcome, at }))
      .sort((a, b) => (rank[a.outcome.status] ?? 2) - (rank[b.outcome.status] ?? 2) || a.at - b.at)
      .map(({ outcome }) => outcome);
    const items = listed.map((outcome) => {
      const name = outcome.key?.name ?? this.nameOf(outcome.id) ?? outcome.id;
      const statusText = outcome.status === 'revoked' ? capitalize(this.wording.done) : STATUS_TEXT[outcome.status] ?? outcome.status;
      return el('li', { className: `result result-${outcome.status}`, dataset: { id: outcome.id, status: outcome.status } },
        el('span', { className: `badge badge-outcome-${outcome.status}`, text: statusText }),
        el('span', { className: 'result-name', title: outcome.id, text: name }),
        outcome.error ? el('span', { className: 'result-error', text: capitalize(outcome.error.message ?? outcome.error.code ?? 'failed') }) : null);
    });
    $('#revoke-results').replaceChildren(...items);
    const retry = $('#revoke-retry');
    retry.textContent = counts.failed ? `Retry ${formatNumber(counts.failed)} failed` : 'Retry failed';
    show(retry, counts.failed > 0);
    const notes = [];
    if (result?.forgotten?.length) notes.push(`${formatNumber(result.forgotten.length)} saved ${result.forgotten.length === 1 ? 'secret' : 'secrets'} deleted from the keychain.`);
    if (result?.keychain_error) notes.push(`Saved secrets could not all be deleted from the keychain: ${result.keychain_error.message}`);
    if (counts.untouched) notes.push(`Untouched keys were not sent to the backend: ${this.wording.verb.toLowerCase()} them again to finish.`);
    const note = $('#revoke-note');
    note.textContent = notes.join(' ');
    show(note, notes.length > 0);
  }
}
