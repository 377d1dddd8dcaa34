// The audit log: what Keyward did (created, revoked, failed to revoke), newest first, searchable,
// loaded 100 entries at a time as the user scrolls, and exportable as CSV or JSON.

import * as api from '../api.js';
import { $, el, show, formatDateTime, BACKEND_LABELS } from '../dom.js';
import { countLabel, formatNumber, relativeTime } from '../format.js';

const PAGE = 100;
const SEARCH_DEBOUNCE_MS = 150;
const ACTIONS = { created: 'Created', updated: 'Updated', revoked: 'Revoked', revoke_failed: 'Revoke failed' };

export class AuditView {
  constructor() {
    this.search = $('#audit-search');
    this.tbody = $('#audit-table').tBodies[0];
    this.more = $('#audit-more');
    this.request = 0;
    this.entries = [];
    this.total = 0;
    this.loadingMore = false;
    let debounce;
    this.search.addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => this.load(), SEARCH_DEBOUNCE_MS);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.search.value) {
        event.preventDefault();
        event.stopPropagation();
        this.search.value = '';
        this.load();
      }
    });
    this.more.addEventListener('click', () => this.loadMore());
    // Scrolling to the end loads the next entries.
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !this.more.hidden) this.loadMore();
    }, { root: $('#audit-scroll'), rootMargin: '200px' }).observe(this.more);
    $('#audit-export-csv').addEventListener('click', () => this.export('csv'));
    $('#audit-export-json').addEventListener('click', () => this.export('json'));
  }

  searchText() {
    return this.search.value.trim() || null;
  }

  /** From the newest entry, for the current search. */
  async load() {
    const request = ++this.request;
    this.loadingMore = false;
    $('#audit-table').setAttribute('aria-busy', 'true');
    try {
      const page = await api.auditLog({ search: this.searchText(), limit: PAGE, offset: 0 });
      if (request !== this.request) return;
      this.entries = page.entries;
      this.total = page.total;
      show($('#audit-error'), false);
      this.render(true);
    } catch (error) {
      if (request !== this.request) return;
      this.showError(error);
    } finally {
      if (request === this.request) $('#audit-table').removeAttribute('aria-busy');
    }
  }

  async loadMore() {
    if (this.loadingMore || this.entries.length >= this.total) return;
    this.loadingMore = true;
    const request = this.request;
    try {
      const page = await api.auditLog({ search: this.searchText(), limit: PAGE, offset: this.entries.length });
      if (request !== this.request) return;
      this.entries.push(...page.entries);
      this.total = page.total;
      this.render(false, page.entries);
    } catch (error) {
      if (request === this.request) this.showError(error);
    } finally {
      if (request === this.request) this.loadingMore = false;
    }
  }

  showError(error) {
    $('#audit-error').textContent = `Could not read the audit log: ${error.message}`;
    show($('#audit-error'), true);
  }

  render(replace, added = this.entries) {
    const rows = added.map((entry) => this.row(entry));
    if (replace) this.tbody.replaceChildren(...rows);
    else this.tbody.append(...rows);
    const shown = this.entries.length;
    $('#audit-count').textContent = shown < this.total
      ? `${formatNumber(shown)} of ${countLabel(this.total, { noun: 'entry', plural: 'entries' })}`
      : countLabel(this.total, { noun: 'entry', plural: 'entries' });
    show(this.more, shown < this.total);
    const empty = this.total === 0;
    show($('#audit-empty'), empty);
    show($('#audit-table'), !empty);
    $('#audit-empty-title').textContent = this.searchText() ? 'No entries match' : 'Nothing recorded yet';
    $('#audit-empty-hint').textContent = this.searchText()
      ? 'Try another search, or clear it to see every entry.'
      : 'Each key Keyward creates, updates or revokes, in any profile, is recorded here with its reason.';
  }

  row(entry) {
    const action = ACTIONS[entry.action] ?? entry.action;
    const error = entry.error_message ? `${entry.error_message}${entry.error_code ? ` (${entry.error_code})` : ''}` : '';
    return el('tr', { dataset: { action: entry.action, id: String(entry.id) } },
      el('td', { className: 'col-when' }, el('time', { datetime: entry.at, title: relativeTime(entry.at), text: formatDateTime(entry.at) })),
      el('td', { className: 'col-action' }, el('span', { className: `badge badge-action-${entry.action}`, text: action })),
      el('td', { className: 'col-key' },
        el('span', { className: 'key-name', text: entry.key_name ?? '—' }),
        el('code', { className: 'key-id', title: entry.key_id, text: entry.key_id })),
      el('td', { className: 'col-profile' }, entry.profile,
        el('span', { className: 'muted backend', text: ` · ${BACKEND_LABELS[entry.backend] ?? entry.backend}` })),
      el('td', { className: 'col-reason', title: entry.reason ?? '' }, entry.reason ? entry.reason : el('span', { className: 'muted', text: '—' })),
      el('td', { className: 'col-error', title: error }, error ? el('span', { className: 'error-text', text: error }) : el('span', { className: 'muted', text: '—' })));
  }

  async export(format) {
    const result = $('#audit-export-result');
    const buttons = [$('#audit-export-csv'), $('#audit-export-json')];
    for (const b of buttons) b.disabled = true;
    result.textContent = 'Exporting…';
    result.dataset.state = 'busy';
    try {
      const written = await api.exportAudit(format, this.searchText());
      result.textContent = `Saved ${countLabel(written.count, { noun: 'entry', plural: 'entries' })} to ${written.path}`;
      result.dataset.state = 'ok';
    } catch (error) {
      result.textContent = `Could not export: ${error.message}`;
      result.dataset.state = 'error';
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }
}
