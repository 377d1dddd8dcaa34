// The clipboard countdown, as Rust reports it: "Clipboard clears in 17 s" with "Clear now", in
// the show-once panel and in a toast for copies made elsewhere. The copy itself happens in Rust;
// this page never touches the clipboard.

import * as api from './api.js';
import { $, show } from './dom.js';

const RESULT_SHOWN_MS = 4000;

export class ClipboardStatus {
  constructor() {
    this.views = [...document.querySelectorAll('.clipboard-status')];
    this.toast = $('#clipboard-toast');
    this.copyId = null;
    this.deadline = null;
    this.result = null;
    this.resultUntil = 0;
    this.ticker = null;
    for (const view of this.views) {
      view.querySelector('.clipboard-clear').addEventListener('click', () => this.clearNow());
    }
  }

  async start() {
    await api.listen('clipboard', (state) => this.update(state));
    this.update(await api.clipboardState());
  }

  /** A copy just started: show its countdown now, before Rust's first event arrives. */
  copied({ copy_id: copyId, clear_after_ms: clearAfterMs }) {
    this.update({ copy_id: copyId, remaining_ms: clearAfterMs, last_result: null });
  }

  update(state) {
    if (state.copy_id == null || (this.copyId != null && state.copy_id < this.copyId)) return;
    this.copyId = state.copy_id;
    if (state.remaining_ms != null) {
      this.deadline = Date.now() + state.remaining_ms;
      this.result = null;
    } else {
      this.deadline = null;
      this.result = state.last_result;
      this.resultUntil = Date.now() + RESULT_SHOWN_MS;
    }
    this.render();
    if (!this.ticker) this.ticker = setInterval(() => this.render(), 250);
  }

  async clearNow() {
    try {
      await api.clearClipboard(); // the outcome arrives as an event
    } catch (error) {
      this.result = { kind: 'failed', message: error.message };
      this.resultUntil = Date.now() + RESULT_SHOWN_MS;
      this.render();
    }
  }

  text() {
    if (this.deadline != null) {
      const seconds = Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000));
      return `Clipboard clears in ${seconds} s`;
    }
    if (Date.now() > this.resultUntil) return null;
    switch (this.result?.kind) {
      case 'cleared': return 'Clipboard cleared.';
      case 'not_ours': return 'Something else was copied since: the clipboard was left as it is.';
      case 'failed': return `Could not clear the clipboard: ${this.result.message}`;
      default: return null;
    }
  }

  render() {
    const text = this.text();
    const counting = this.deadline != null;
    const secretPanelOpen = $('#secret-dialog').open;
    for (const view of this.views) {
      view.querySelector('.clipboard-text').textContent = text ?? '';
      show(view.querySelector('.clipboard-clear'), counting);
      view.dataset.state = counting ? 'counting' : (this.result?.kind ?? 'idle');
      // The toast stands in for the panel's status while the panel is closed.
      const visible = text != null && (view === this.toast ? !secretPanelOpen : true);
      show(view, visible);
    }
    if (text == null && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  }
}
