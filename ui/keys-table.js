// The key table: one server-side page at a time (never every row), with search, status filter,
// sortable columns, a pager and keyboard navigation between rows. Keys whose secret is saved in
// the keychain are marked (metadata from Rust's saved-secret index) and offer "Copy".

import * as api from './api.js';
import { $, el, show, formatDate, formatDateTime, formatRelative, formatOwner, statusBadge } from './dom.js';

export const PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 150;
// Names read best A→Z; dates newest first.
const STARTS_DESCENDING = { name: false, created: true, expires: true, last_used: true };
const REVOKE_LABELS = { revoke: 'Revoke', archive: 'Archive', delete: 'Delete' };
const numberFormat = new Intl.NumberFormat();
const DEFAULT_QUERY = { search: '', status: 'all', sort: 'created', descending: true, page: 0, limit: PAGE_SIZE };
const NO_LAST_USED = 'This backend does not report when a key was last used';

export class KeysTable {
  constructor({ onSelect, onRevoke, onCopy }) {
    this.onSelect = onSelect;
    this.onRevoke = onRevoke;
    this.onCopy = onCopy;
    this.query = { ...DEFAULT_QUERY };
    this.saved = new Set();
    this.lastUsed = true;
    this.page = { items: [], total: null, has_more: false };
    this.selectedId = null;
    this.revokeLabel = REVOKE_LABELS.revoke;
    this.latestRequest = 0;
    this.painted = false;

    this.table = $('#keys-table');
    this.tbody = this.table.tBodies[0];
    this.search = $('#search');
    this.statusFilter = $('#status-filter');
    this.prev = $('#page-prev');
    this.next = $('#page-next');

    let debounce;
    this.search.addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => this.setQuery({ search: this.search.value }), SEARCH_DEBOUNCE_MS);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.search.value) {
        event.preventDefault();
        this.search.value = '';
        this.setQuery({ search: '' });
      } else if (event.key === 'ArrowDown') {
        event.preventDefault();
        this.focusRow(0);
      }
    });
    this.statusFilter.addEventListener('change', () => this.setQuery({ status: this.statusFilter.value }));
    this.prev.addEventListener('click', () => this.goToPage(this.query.page - 1));
    this.next.addEventListener('click', () => this.goToPage(this.query.page + 1));
    this.tbody.addEventListener('click', (event) => this.onRowClick(event));
    this.tbody.addEventListener('keydown', (event) => this.onRowKey(event));
  }

  /**
   * Adapts to the backend: the headers of the sorts it supports become buttons, the revoke button
   * says what it does, and a column it cannot fill says so.
   */
  configure(capabilities) {
    this.revokeLabel = REVOKE_LABELS[capabilities.revoke_kind] ?? REVOKE_LABELS.revoke;
    this.lastUsed = capabilities.last_used;
    const lastUsedHeader = this.table.tHead.querySelector('th[data-sort="last_used"]');
    lastUsedHeader.title = this.lastUsed ? '' : NO_LAST_USED;
    for (const th of this.table.tHead.querySelectorAll('th[data-sort]')) {
      th.dataset.label ??= th.textContent;
      th.replaceChildren(th.dataset.label);
      if (!capabilities.sorts.includes(th.dataset.sort)) continue;
      const button = el('button', { type: 'button', className: 'sort' }, th.textContent,
        el('span', { className: 'sort-indicator', 'aria-hidden': 'true' }));
      button.addEventListener('click', () => this.sortBy(th.dataset.sort));
      th.replaceChildren(button);
    }
    this.paintSortState();
    if (this.page.items.length) this.render();
  }

  /** Back to the first page of everything, for another profile. */
  reset() {
    this.query = { ...DEFAULT_QUERY };
    this.search.value = '';
    this.statusFilter.value = 'all';
    this.selectedId = null;
    this.saved = new Set();
    this.page = { items: [], total: null, has_more: false };
    this.tbody.replaceChildren();
    this.paintSortState();
  }

  isSaved(id) {
    return this.saved.has(id);
  }

  /** Re-reads which keys have a saved secret and repaints the rows. */
  async refreshSaved() {
    this.saved = await savedIds();
    this.render();
  }

  setQuery(changes) {
    Object.assign(this.query, changes, { page: 0 });
    return this.load();
  }

  goToPage(page) {
    if (page < 0) return;
    this.query.page = page;
    return this.load();
  }

  sortBy(field) {
    const descending = this.query.sort === field ? !this.query.descending : STARTS_DESCENDING[field];
    this.paintSortState(field, descending);
    return this.setQuery({ sort: field, descending });
  }

  async load() {
    const request = ++this.latestRequest;
    const { search, ...rest } = this.query;
    this.table.setAttribute('aria-busy', 'true');
    try {
      const [page, saved] = await Promise.all([api.listKeys({ ...rest, search: search.trim() || null }), savedIds()]);
      if (request !== this.latestRequest) return; // a newer query has been sent
      this.saved = saved;
      if (page.items.length === 0 && this.query.page > 0) {
        this.query.page -= 1; // e.g. the last row of the last page left the filter
        return this.load();
      }
      this.page = page;
      show($('#list-error'), false);
      this.render();
    } catch (error) {
      if (request !== this.latestRequest) return;
      const banner = $('#list-error');
      banner.textContent = `Could not load keys: ${error.message}`;
      show(banner, true);
      // Neither another profile's rows nor "No keys yet": we do not know what is there.
      this.tbody.replaceChildren();
      show($('#empty-state'), false);
    } finally {
      if (request === this.latestRequest) this.table.removeAttribute('aria-busy');
    }
  }

  render() {
    const focusedId = document.activeElement?.closest?.('#keys-table tbody tr')?.dataset.id;
    this.tbody.replaceChildren(...this.page.items.map((key) => this.renderRow(key)));
    // Room for "Copy" next to "Revoke" only on pages that need it.
    this.table.classList.toggle('has-saved', this.page.items.some((key) => this.saved.has(key.id)));
    this.renderEmptyState();
    this.renderPager();
    const rows = this.rows();
    const active = rows.find((r) => r.dataset.id === focusedId) ?? rows.find((r) => r.dataset.id === this.selectedId) ?? rows[0];
    if (active) this.setActive(active);
    if (focusedId && active) active.focus();
    if (!this.painted) {
      this.painted = true;
      // Read by the startup benchmark: the first page is on screen at the next frame.
      requestAnimationFrame(() => performance.mark('keys-table-painted'));
    }
  }

  renderRow(key) {
    const row = el('tr', { tabindex: '-1', dataset: { id: key.id, status: key.status } });
    if (key.id === this.selectedId) row.setAttribute('aria-current', 'true');
    const muted = (text) => el('span', { className: 'muted', text });
    const date = (iso) => el('time', { datetime: iso, title: formatDateTime(iso), text: formatDate(iso) });
    const relative = (iso) => el('time', { datetime: iso, title: formatDateTime(iso), text: formatRelative(iso) });

    const revoke = key.status === 'revoked'
      ? null
      : el('button', { type: 'button', className: 'button small revoke', tabindex: '-1', 'aria-label': `${this.revokeLabel} ${key.name}`, text: this.revokeLabel });
    const saved = this.saved.has(key.id);
    const copy = saved
      ? el('button', { type: 'button', className: 'button small copy-saved', tabindex: '-1', title: 'Copy from keychain', 'aria-label': `Copy the secret of ${key.name} from the keychain`, text: 'Copy' })
      : null;
    const savedMark = saved
      ? el('span', { className: 'saved-mark', title: 'Secret saved in the OS keychain', text: 'Keychain' })
      : null;
    const lastUsed = !this.lastUsed
      ? el('span', { className: 'muted', title: NO_LAST_USED, text: '—' })
      : key.last_used_at ? relative(key.last_used_at) : muted('Never');

    row.append(
      el('td', { className: 'col-name' }, el('span', { className: 'key-name', title: key.name, text: key.name }), savedMark),
      el('td', { className: 'col-owner' }, key.owner ? el('span', { className: 'owner', title: formatOwner(key.owner), text: formatOwner(key.owner) }) : muted('—')),
      el('td', { className: 'col-status' }, statusBadge(key.status)),
      el('td', { className: 'col-date' }, date(key.created_at)),
      el('td', { className: 'col-date' }, key.expires_at ? relative(key.expires_at) : muted('Never')),
      el('td', { className: 'col-date' }, lastUsed),
      el('td', { className: 'col-stub' }, key.stub ? el('code', { text: key.stub }) : muted('—')),
      el('td', { className: 'col-actions' }, copy, revoke),
    );
    return row;
  }

  renderEmptyState() {
    const empty = this.page.items.length === 0;
    show($('#empty-state'), empty);
    this.table.classList.toggle('is-empty', empty);
    if (!empty) return;
    const filtered = this.query.search.trim() !== '' || this.query.status !== 'all';
    $('#empty-title').textContent = filtered ? 'No keys match' : 'No keys yet';
    $('#empty-hint').textContent = filtered
      ? 'Try another search, or set Status to All.'
      : 'Create your first key with New key (or press N). Its secret is shown once, right after it is created.';
  }

  renderPager() {
    const { page, limit, total, has_more: hasMore, items } = this.page;
    const first = page * limit + 1;
    const last = page * limit + items.length;
    let text;
    if (items.length === 0) text = total === 0 || total == null ? 'No keys' : `0 of ${numberFormat.format(total)}`;
    else if (total == null) text = `${numberFormat.format(first)}–${numberFormat.format(last)}`;
    else text = `${numberFormat.format(first)}–${numberFormat.format(last)} of ${numberFormat.format(total)}`;
    $('#pager-range').textContent = text;
    this.prev.disabled = page === 0;
    this.next.disabled = !hasMore;
  }

  paintSortState(field = this.query.sort, descending = this.query.descending) {
    for (const th of this.table.tHead.querySelectorAll('th[data-sort]')) {
      const active = th.dataset.sort === field;
      if (active) th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
      const indicator = th.querySelector('.sort-indicator');
      if (indicator) indicator.textContent = active ? (descending ? '↓' : '↑') : '';
    }
  }

  rows() {
    return [...this.tbody.rows];
  }

  keyOf(row) {
    return this.page.items.find((k) => k.id === row.dataset.id);
  }

  focusRow(index) {
    const rows = this.rows();
    const row = rows[Math.max(0, Math.min(index, rows.length - 1))];
    if (!row) return;
    this.setActive(row);
    row.focus();
  }

  focusKey(id) {
    const index = this.rows().findIndex((r) => r.dataset.id === id);
    if (index >= 0) this.focusRow(index);
  }

  /** Roving tabindex: Tab reaches only the active row and its button; arrows move between rows. */
  setActive(row) {
    for (const r of this.rows()) {
      r.tabIndex = r === row ? 0 : -1;
      for (const button of r.querySelectorAll('.revoke, .copy-saved')) button.setAttribute('tabindex', r === row ? '0' : '-1');
    }
  }

  select(row) {
    this.selectedId = row.dataset.id;
    for (const r of this.rows()) {
      if (r === row) r.setAttribute('aria-current', 'true');
      else r.removeAttribute('aria-current');
    }
    this.onSelect(this.keyOf(row));
  }

  onRowClick(event) {
    const row = event.target.closest('tr');
    if (!row) return;
    const key = this.keyOf(row);
    if (event.target.closest('.revoke')) {
      this.onRevoke(key);
      return;
    }
    if (event.target.closest('.copy-saved')) {
      this.onCopy(key);
      return;
    }
    this.focusRow(this.rows().indexOf(row));
    this.select(row);
  }

  onRowKey(event) {
    const row = event.target.closest('tr');
    if (!row || event.target.closest('.revoke, .copy-saved')) return;
    const index = this.rows().indexOf(row);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: this.rows().length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      if (event.key === 'ArrowUp' && index === 0) this.search.focus();
      else this.focusRow(moves[event.key]);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.select(row);
    } else if (event.key === 'Delete' && row.querySelector('.revoke')) {
      event.preventDefault();
      this.onRevoke(this.keyOf(row));
    }
  }

  /** Shows a changed key (e.g. just revoked) in place, without reloading the page. */
  update(key) {
    const index = this.page.items.findIndex((k) => k.id === key.id);
    if (index < 0) return;
    this.page.items[index] = key;
    const old = this.tbody.querySelector(`tr[data-id="${CSS.escape(key.id)}"]`);
    const fresh = this.renderRow(key);
    const wasActive = old.tabIndex === 0;
    old.replaceWith(fresh);
    if (wasActive) this.setActive(fresh);
  }
}

/** The ids of the active profile's keys with a saved secret; none when that cannot be read. */
async function savedIds() {
  try {
    return new Set(await api.savedSecretIds());
  } catch {
    return new Set();
  }
}
