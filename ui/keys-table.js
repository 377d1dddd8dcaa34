// The key table at scale: filters, sort and search build one ListQuery; its pages (200 rows)
// are fetched as the user scrolls (PageCache) and only the rows in view are in the DOM
// (VirtualBody). Rows can be selected (click, shift-click, all loaded, all matching) for a bulk
// revoke. Keys whose secret is saved in the keychain are marked and offer "Copy".

import * as api from './api.js';
import { $, el, show, formatDate, formatDateTime, statusBadge } from './dom.js';
import { relativeTime, countLabel, formatNumber, parseOwner, ownerText, ownerLabel } from './format.js';
import { PageCache } from './page-cache.js';
import { Selection } from './selection.js';
import { VirtualBody } from './virtual-table.js';

export const PAGE_SIZE = 200;
export const ROW_HEIGHT = 36;
const OWNER_DEBOUNCE_MS = 300;
// Names and owners read best A→Z; dates newest first; status active first.
const STARTS_DESCENDING = { name: false, owner: false, status: false, created: true, expires: false, last_used: true };
const REVOKE_LABELS = { revoke: 'Revoke', archive: 'Archive', delete: 'Delete' };
const NO_LAST_USED = 'This backend does not report when a key was last used';
window.__keyward ??= {};

const DEFAULT_FILTERS = {
  search: '', status: 'all', expiringDays: 7, usage: 'any', unusedDays: 90, owner: null, sort: 'created', descending: true,
};

/** The `list_keys` query for `filters`, page `page`. */
export function listQueryFor(filters, page) {
  const expiring = filters.status === 'expiring';
  return {
    search: filters.search.trim() || null,
    status: expiring ? 'active' : filters.status,
    owner: filters.owner,
    sort: filters.sort,
    descending: filters.descending,
    page,
    limit: PAGE_SIZE,
    expires_within_days: expiring ? filters.expiringDays : null,
    never_used: filters.usage === 'never',
    unused_for_days: filters.usage === 'unused' ? filters.unusedDays : null,
  };
}

// The window's first page of keys (default filters) is asked for as soon as this module runs,
// while the rest of the UI's code is still loading; the table's first load takes that answer.
api.prefetch('list_keys', { query: listQueryFor(DEFAULT_FILTERS, 0) });

export class KeysTable {
  /**
   * onSelect(key): show its details; onRevoke(key): revoke one; onBulkRevoke(): revoke the
   * selection; onCopy(key): copy its saved secret; onCreate(): the empty state's "create" button.
   */
  constructor({ onSelect, onRevoke, onBulkRevoke, onCopy, onCreate, onFirstDrawn = () => {} }) {
    this.onFirstDrawn = onFirstDrawn;
    Object.assign(this, { onSelect, onRevoke, onBulkRevoke, onCopy, onCreate });
    this.filters = { ...DEFAULT_FILTERS };
    this.saved = new Set();
    this.lastUsed = true;
    this.revokeLabel = REVOKE_LABELS.revoke;
    this.sorts = Object.keys(STARTS_DESCENDING);
    this.detailsId = null;
    this.activeIndex = 0;
    this.painted = false;
    this.queryText = '';
    this.loading = false; // whether rows are wanted (false between a reset and the next load)
    this.selection = new Selection();

    this.table = $('#keys-table');
    this.scroller = $('#keys-scroll');
    this.tbody = this.table.tBodies[0];
    this.search = $('#search');
    this.statusFilter = $('#status-filter');
    this.expiringDays = $('#expiring-days');
    this.usageFilter = $('#usage-filter');
    this.unusedDays = $('#unused-days');
    this.ownerFilter = $('#owner-filter');
    this.selectAll = $('#select-all');

    this.cache = new PageCache({
      pageSize: PAGE_SIZE,
      // Each key comes with its saved-in-keychain mark (joined in Rust): one call per page.
      fetchPage: (page) => api.listKeys(this.listQuery(page)).then((data) => this.noteSaved(data)),
      onChange: () => this.dataChanged(),
      onError: (error) => this.showListError(error),
    });
    this.body = new VirtualBody({
      scroller: this.scroller,
      tbody: this.tbody,
      rowHeight: ROW_HEIGHT,
      // Drawn beyond the view on each side, so a fast fling shows rows, not gaps.
      overscan: 12,
      createRow: () => this.createRow(),
      fillRow: (row, index) => this.fillRow(row, index),
      clearRow: (row) => {
        row._stamp = null;
        delete row.dataset.id;
        delete row.dataset.status;
      },
    });

    // The focus lands here when the focused row scrolls away and is refilled with another key.
    if (!this.scroller.hasAttribute('tabindex')) this.scroller.tabIndex = -1;
    this.bindFilters();
    this.bindSelection();
    let frame = 0;
    this.scroller.addEventListener('scroll', () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        this.render({ chrome: false, lazy: true });
      });
    }, { passive: true });
    new ResizeObserver(() => {
      this.body.measure();
      this.render();
    }).observe(this.scroller);
    this.tbody.addEventListener('click', (event) => this.onRowClick(event));
    this.tbody.addEventListener('keydown', (event) => this.onRowKey(event));
    this.tbody.addEventListener('focusin', (event) => {
      const row = event.target.closest('tr[data-index]');
      if (row) this.setActive(Number(row.dataset.index));
    });
    $('#empty-action').addEventListener('click', () => (this.isFiltered() ? this.clearFilters() : this.onCreate()));
  }

  bindFilters() {
    // Search as you type, without a fixed debounce: a keystroke is sent at once when no listing
    // is in flight, and keystrokes that arrive while one is collapse into one search for the
    // latest text, sent when it answers. A fast store answers every keystroke (no 150 ms wait);
    // a slow server is never sent a queue of stale searches.
    let waiting = false;
    const sendSearch = () => {
      if (this.search.value === this.filters.search) return;
      if (this.cache.inFlight.size > 0) {
        if (!waiting) {
          waiting = true;
          this.whenReady().then(() => {
            waiting = false;
            sendSearch();
          });
        }
        return;
      }
      this.setFilters({ search: this.search.value });
    };
    this.search.addEventListener('input', sendSearch);
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.search.value) {
        event.preventDefault();
        event.stopPropagation();
        this.search.value = '';
        this.setFilters({ search: '' });
      } else if (event.key === 'ArrowDown' || (event.key === 'Enter' && this.cache.rowCount > 0)) {
        event.preventDefault();
        if (this.search.value !== this.filters.search) this.setFilters({ search: this.search.value });
        this.focusRow(0);
      }
    });
    this.statusFilter.addEventListener('change', () => {
      this.syncFilterInputs();
      this.setFilters({ status: this.statusFilter.value });
    });
    this.usageFilter.addEventListener('change', () => {
      this.syncFilterInputs();
      this.setFilters({ usage: this.usageFilter.value });
    });
    const days = (input, field) => input.addEventListener('input', () => {
      const value = Number(input.value);
      const valid = Number.isInteger(value) && value >= 1 && value <= 3650;
      input.toggleAttribute('aria-invalid', !valid);
      if (valid) this.setFilters({ [field]: value });
    });
    days(this.expiringDays, 'expiringDays');
    days(this.unusedDays, 'unusedDays');

    let ownerDebounce;
    const applyOwner = () => {
      clearTimeout(ownerDebounce);
      const parsed = parseOwner(this.ownerFilter.value);
      const error = $('#owner-filter-error');
      error.textContent = parsed.error ?? '';
      show(error, !!parsed.error);
      this.ownerFilter.toggleAttribute('aria-invalid', !!parsed.error);
      show($('#owner-clear'), this.ownerFilter.value !== '');
      if (parsed.error) return;
      if (ownerText(parsed.owner) !== ownerText(this.filters.owner)) this.setFilters({ owner: parsed.owner });
    };
    this.ownerFilter.addEventListener('input', () => {
      clearTimeout(ownerDebounce);
      show($('#owner-clear'), this.ownerFilter.value !== '');
      // A pick from the list applies at once; typing waits for a pause.
      const picked = [...$('#owner-options').options].some((o) => o.value === this.ownerFilter.value);
      ownerDebounce = setTimeout(applyOwner, picked ? 0 : OWNER_DEBOUNCE_MS);
    });
    this.ownerFilter.addEventListener('change', applyOwner);
    this.ownerFilter.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') applyOwner();
    });
    $('#owner-clear').addEventListener('click', () => {
      this.setOwner(null);
      this.ownerFilter.focus();
    });
  }

  bindSelection() {
    this.selectAll.addEventListener('change', () => {
      const ids = this.cache.loadedIds();
      if (this.selectAll.checked) this.selection.set(ids, true, ids);
      else this.selection.clear();
      this.selectionChanged();
    });
    $('#select-all-matching').addEventListener('click', () => {
      this.selection.selectMatching(this.listQuery(0), this.cache.exact ? this.cache.rowCount : null);
      this.selectionChanged();
    });
    $('#clear-selection').addEventListener('click', () => {
      this.clearSelection();
      this.focusRow(this.activeIndex);
    });
    $('#bulk-revoke').addEventListener('click', () => this.onBulkRevoke());
    $('#keys-refresh').addEventListener('click', async () => {
      await api.refreshKeys().catch(() => {});
      this.loadOwners();
      this.refresh();
    });
  }

  /**
   * Adapts to the backend: the headers of the sorts it supports become buttons, the revoke button
   * says what it does, and a column it cannot fill says so.
   */
  configure(capabilities) {
    this.revokeLabel = REVOKE_LABELS[capabilities.revoke_kind] ?? REVOKE_LABELS.revoke;
    this.lastUsed = capabilities.last_used;
    this.sorts = capabilities.sorts;
    const access = this.table.tHead.querySelector('th.col-access');
    if (capabilities.levels) access.textContent = 'Level';
    else if (capabilities.scopes) access.textContent = 'Scopes';
    else access.textContent = 'Access';
    const lastUsedHeader = this.table.tHead.querySelector('th[data-sort="last_used"]');
    lastUsedHeader.title = this.lastUsed ? '' : NO_LAST_USED;
    // Without last-used times every key would look "never used": the filter says why it is off.
    this.usageFilter.disabled = !this.lastUsed;
    this.usageFilter.title = this.lastUsed ? '' : NO_LAST_USED;
    if (!this.lastUsed && this.filters.usage !== 'any') {
      this.filters.usage = 'any';
      this.usageFilter.value = 'any';
      this.syncFilterInputs();
    }
    for (const th of this.table.tHead.querySelectorAll('th[data-sort]')) {
      th.dataset.label ??= th.textContent.trim();
      th.replaceChildren(th.dataset.label);
      if (!this.sorts.includes(th.dataset.sort)) continue;
      const button = el('button', { type: 'button', className: 'sort', 'aria-label': `Sort by ${th.dataset.label.toLowerCase()}` },
        th.dataset.label, el('span', { className: 'sort-indicator', 'aria-hidden': 'true' }));
      button.addEventListener('click', () => this.sortBy(th.dataset.sort));
      th.replaceChildren(button);
    }
    if (!this.sorts.includes(this.filters.sort) && this.sorts.length) {
      this.filters.sort = this.sorts[0];
      this.filters.descending = STARTS_DESCENDING[this.sorts[0]] ?? false;
    }
    this.paintSortState();
    this.loadOwners();
    this.repaintAll();
  }

  /** Back to everything, unsorted and unfiltered, for another profile. */
  reset() {
    this.filters = { ...DEFAULT_FILTERS };
    this.search.value = '';
    this.statusFilter.value = 'all';
    this.usageFilter.value = 'any';
    this.expiringDays.value = String(DEFAULT_FILTERS.expiringDays);
    this.unusedDays.value = String(DEFAULT_FILTERS.unusedDays);
    this.ownerFilter.value = '';
    $('#owner-options').replaceChildren();
    show($('#owner-clear'), false);
    this.syncFilterInputs();
    this.detailsId = null;
    this.saved = new Set();
    this.selection.clear();
    this.cache.reset();
    this.loading = false;
    this.scroller.scrollTop = 0;
    this.activeIndex = 0;
    show($('#list-error'), false);
    this.paintSortState();
    this.render();
  }

  /** The owners the backend knows, offered by the owner filter. */
  async loadOwners() {
    await api.afterFirstDraw();
    try {
      const owners = await api.listOwners();
      $('#owner-options').replaceChildren(...owners.map((owner) => el('option', { value: owner })));
    } catch {
      // The filter still takes a typed owner.
    }
  }

  syncFilterInputs() {
    show($('#expiring-days-field'), this.statusFilter.value === 'expiring');
    show($('#unused-days-field'), this.usageFilter.value === 'unused');
  }

  isSaved(id) {
    return this.saved.has(id);
  }

  /** Whether any selected key has a saved secret (for "all matching": whether any key has one). */
  selectionHasSaved() {
    if (this.selection.allMatching) return this.saved.size > 0;
    return [...this.selection.ids].some((id) => this.saved.has(id));
  }

  /** Keeps the saved-in-keychain marks of a page that arrived; repaints if any changed. */
  noteSaved(data) {
    let changed = false;
    for (const key of data.items) {
      if (key.saved_in_keychain === this.saved.has(key.id)) continue;
      if (key.saved_in_keychain) this.saved.add(key.id);
      else this.saved.delete(key.id);
      changed = true;
    }
    if (changed) queueMicrotask(() => this.repaintAll());
    return data;
  }

  isFiltered() {
    const f = this.filters;
    return f.search.trim() !== '' || f.status !== 'all' || f.usage !== 'any' || f.owner != null;
  }

  clearFilters() {
    this.search.value = '';
    this.statusFilter.value = 'all';
    this.usageFilter.value = 'any';
    this.ownerFilter.value = '';
    show($('#owner-clear'), false);
    this.syncFilterInputs();
    this.setFilters({ search: '', status: 'all', usage: 'any', owner: null });
    this.search.focus();
  }

  /** Shows every key of `owner` ("org:acme"), or everyone's with null. */
  setOwner(owner) {
    this.ownerFilter.value = owner ?? '';
    show($('#owner-clear'), !!owner);
    $('#owner-filter-error').hidden = true;
    this.ownerFilter.removeAttribute('aria-invalid');
    this.setFilters({ owner: owner ? parseOwner(owner).owner : null });
  }

  /** The ListQuery for page `page` of the current filters. */
  listQuery(page) {
    return listQueryFor(this.filters, page);
  }

  /** A new query: the selection is cleared (it was made for the old one) and the table starts at the top. */
  setFilters(changes) {
    Object.assign(this.filters, changes);
    this.selection.clear();
    this.activeIndex = 0;
    this.scroller.scrollTop = 0;
    this.load();
  }

  sortBy(field) {
    const descending = this.filters.sort === field ? !this.filters.descending : STARTS_DESCENDING[field];
    this.filters.sort = field;
    this.filters.descending = descending;
    this.paintSortState();
    this.setFilters({});
  }

  /** Fetches the current query from its first page. Resolves when the first answer is in. */
  load() {
    // The rows shown stay until the new query's first page replaces them: the body keeps its
    // shape between keystrokes, and rows whose key did not change are not repainted.
    if (this.cache.ready) this.cache.requery();
    else this.cache.reset();
    this.loading = true;
    this.queryText = this.filters.search;
    window.__keyward.lastQuery = { query: this.queryText, at: performance.now() };
    this.table.setAttribute('aria-busy', 'true');
    this.render();
    return this.whenReady();
  }

  /** The same query again (after a create or a revoke), keeping the scroll position and selection. */
  refresh() {
    this.cache.refresh();
    this.loading = true;
    this.table.setAttribute('aria-busy', 'true');
    this.render();
    return this.whenReady();
  }

  whenReady() {
    return new Promise((resolve) => {
      const generation = this.cache.generation;
      const check = () => {
        if (this.cache.generation !== generation || this.cache.ready || this.cache.lastError || this.cache.inFlight.size === 0) resolve();
        else setTimeout(check, 16);
      };
      check();
    });
  }

  dataChanged() {
    show($('#list-error'), false);
    this.table.removeAttribute('aria-busy');
    // A key that left the listing (deleted) leaves the selection too.
    this.render();
    this.firstDrawn();
    this.markPainted();
  }

  /** The first answer (keys or an error) is in the DOM: tells the page, once. */
  firstDrawn() {
    if (this.drawn) return;
    this.drawn = true;
    performance.mark('keys-drawn');
    this.onFirstDrawn();
  }

  showListError(error) {
    const banner = $('#list-error');
    banner.textContent = `Could not load keys: ${error.message}`;
    show(banner, true);
    this.table.removeAttribute('aria-busy');
    this.render();
    this.firstDrawn();
  }

  /** Read by the e2e benchmark: the current query's rows are in the DOM and painted next frame. */
  markPainted() {
    const query = this.queryText;
    requestAnimationFrame(() => {
      window.__keyward.lastPaint = { query, at: performance.now(), rows: this.cache.rowCount };
      performance.mark('keys-painted');
      if (!this.painted) {
        this.painted = true;
        performance.mark('keys-table-painted'); // the startup benchmark's mark
      }
    });
  }

  /**
   * Draws what is in view and asks for its pages; with `chrome` (anything but a scroll) also the
   * counts, the selection bar and the empty state.
   */
  render({ chrome = true, lazy = false } = {}) {
    const known = this.cache.ready || this.cache.stale.size > 0;
    const failed = !known && !!this.cache.lastError;
    this.body.setRowCount(known ? this.cache.rowCount : 0);
    const range = this.body.render({ lazy });
    if (this.loading) this.cache.want(range.start, Math.max(range.end, range.start + 1));
    this.renderRange(known);
    if (chrome) {
      const empty = known && this.cache.rowCount === 0;
      this.table.classList.toggle('is-empty', empty);
      this.table.classList.toggle('has-saved', this.saved.size > 0);
      this.renderEmptyState(empty && !failed);
      this.renderCounts(known, failed);
      this.renderSelectionBar();
    }
    const activeRow = this.body.rowFor(this.activeIndex);
    if (!activeRow && this.body.rowCount > 0 && !this.tbody.contains(document.activeElement)) {
      // The active row scrolled away: the first row in view takes the Tab stop.
      const { first } = this.body.visible();
      this.setActive(first);
    }
  }

  /** Repaints every drawn row (e.g. after the saved set or the capabilities changed). */
  repaintAll() {
    for (const row of this.body.rows()) row._stamp = null;
    this.render();
  }

  /** "1–24 of 10,000": the rows in view. */
  renderRange(known) {
    const count = this.cache.rowCount;
    const range = $('#pager-range');
    let text = '';
    if (known && count === 0) {
      text = 'No keys';
    } else if (known) {
      const { first, last } = this.body.visible();
      const total = this.cache.exact ? formatNumber(count) : `${formatNumber(Math.max(0, count - PAGE_SIZE))}+`;
      text = `${formatNumber(first + 1)}–${formatNumber(Math.max(first, last) + 1)} of ${total}`;
    }
    if (range.textContent !== text) range.textContent = text;
  }

  renderCounts(known, failed) {
    const count = this.cache.rowCount;
    const more = !this.cache.exact;
    const matchCount = $('#match-count');
    const shown = more ? Math.max(0, count - PAGE_SIZE) : count;
    matchCount.textContent = !known ? (failed ? '' : 'Loading…') : countLabel(shown, { more });
    const matching = $('#select-all-matching');
    const all = this.selection.allMatching;
    show(matching, known && count > 0 && !all);
    matching.textContent = more ? 'Select all matching' : `Select all ${formatNumber(count)} matching`;
  }

  renderSelectionBar() {
    const { selection } = this;
    const size = selection.size;
    const empty = selection.isEmpty;
    show($('#selection-bar'), !empty);
    const label = size == null ? 'all matching' : formatNumber(size);
    $('#selection-count').textContent = empty ? '' : `${label} selected`;
    $('#bulk-revoke').textContent = `${this.revokeLabel} ${label}…`;
    $('#bulk-revoke').disabled = empty;
    // The header box: ticked when every loaded row is, half when some are.
    const loaded = this.cache.loadedIds();
    const ticked = selection.allMatching ? loaded.length : loaded.filter((id) => selection.has(id)).length;
    this.selectAll.checked = loaded.length > 0 && ticked === loaded.length;
    this.selectAll.indeterminate = ticked > 0 && ticked < loaded.length;
    this.selectAll.disabled = loaded.length === 0;
  }

  renderEmptyState(empty) {
    show($('#empty-state'), empty);
    if (!empty) return;
    const filtered = this.isFiltered();
    $('#empty-title').textContent = filtered ? 'No keys match' : 'No keys yet';
    $('#empty-hint').textContent = filtered
      ? 'No key matches this search and these filters.'
      : 'Create your first key with New key (or press N). Its secret is shown once, right after it is created.';
    $('#empty-action').textContent = filtered ? 'Clear filters' : 'Create your first key (N)';
  }

  paintSortState() {
    const { sort: field, descending } = this.filters;
    for (const th of this.table.tHead.querySelectorAll('th[data-sort]')) {
      const active = th.dataset.sort === field;
      th.setAttribute('aria-sort', active ? (descending ? 'descending' : 'ascending') : 'none');
      const indicator = th.querySelector('.sort-indicator');
      if (indicator) indicator.textContent = active ? (descending ? '↓' : '↑') : '';
    }
  }

  // Rows ---------------------------------------------------------------------------------------

  createRow() {
    const row = el('tr', { tabindex: '-1' });
    const check = el('input', { type: 'checkbox', className: 'select', tabindex: '-1' });
    const name = el('span', { className: 'key-name' });
    const savedMark = el('span', { className: 'saved-mark', title: 'Secret saved in the OS keychain', text: 'Keychain' });
    const owner = el('button', { type: 'button', className: 'owner-link owner', tabindex: '-1' });
    const noOwner = el('span', { className: 'muted', text: '—' });
    const cells = {
      select: el('td', { className: 'col-select' }, check),
      name: el('td', { className: 'col-name' }, name),
      owner: el('td', { className: 'col-owner' }),
      status: el('td', { className: 'col-status' }),
      created: el('td', { className: 'col-date' }),
      expires: el('td', { className: 'col-date col-expires' }),
      lastUsed: el('td', { className: 'col-date col-last-used' }),
      access: el('td', { className: 'col-access' }),
      stub: el('td', { className: 'col-stub' }),
      actions: el('td', { className: 'col-actions' }),
    };
    const copy = el('button', { type: 'button', className: 'button small copy-saved', tabindex: '-1', title: 'Copy from keychain', text: 'Copy' });
    const revoke = el('button', { type: 'button', className: 'button small revoke', tabindex: '-1' });
    row.append(...Object.values(cells));
    row._parts = { check, name, savedMark, owner, noOwner, copy, revoke, cells };
    return row;
  }

  fillRow(row, index) {
    const key = this.cache.get(index);
    const selected = key ? this.selection.has(key.id) : false;
    const saved = key ? this.saved.has(key.id) : false;
    // A row is rewritten only when what it shows changed: the same key (id and every field
    // shown), the same marks. A new query's page brings new objects for the same keys.
    const stamp = key ? [keyVersion(key), selected, saved, this.detailsId === key.id, this.revokeLabel, this.lastUsed] : null;
    this.applyTabStop(row, index);
    if (row._stamp && stamp && row._stamp.every((v, i) => v === stamp[i])) return;
    row._stamp = stamp;
    const p = row._parts;
    if (!key) {
      // Not loaded yet: a placeholder, filled when its page lands.
      delete row.dataset.id;
      delete row.dataset.status;
      row.className = 'placeholder';
      row.removeAttribute('aria-current');
      row.removeAttribute('aria-selected');
      for (const cell of Object.values(p.cells)) cell.replaceChildren();
      p.cells.name.append(el('span', { className: 'skeleton', 'aria-label': 'Loading' }));
      return;
    }
    row.className = selected ? 'selected' : '';
    row.dataset.id = key.id;
    row.dataset.status = key.status;
    row.setAttribute('aria-selected', String(selected));
    if (this.detailsId === key.id) row.setAttribute('aria-current', 'true');
    else row.removeAttribute('aria-current');

    // The row's own controls stay in place (a node moved between mousedown and mouseup gets
    // no click); only their state changes.
    p.check.checked = selected;
    p.check.setAttribute('aria-label', `Select ${key.name}`);
    if (p.check.parentNode !== p.cells.select) p.cells.select.replaceChildren(p.check);
    if (p.name.textContent !== key.name) {
      p.name.textContent = key.name;
      p.name.title = key.name;
    }
    if (p.name.parentNode !== p.cells.name) p.cells.name.replaceChildren(p.name);
    if (saved && !p.savedMark.isConnected) p.cells.name.append(p.savedMark);
    if (!saved) p.savedMark.remove();
    // A rotated key whose revoke waits for its grace period (keyward_ops::rotate).
    p.cells.name.querySelector('.scheduled-mark')?.remove();
    if (key.revoke_scheduled_at && key.status !== 'revoked') {
      p.cells.name.append(el('span', {
        className: 'saved-mark scheduled-mark',
        title: `Revoke scheduled for ${formatDateTime(key.revoke_scheduled_at)}: the key was rotated`,
        text: 'Revoke scheduled',
      }));
    }

    const owner = ownerText(key.owner);
    if (owner) {
      if (p.owner.dataset.owner !== owner) {
        p.owner.dataset.owner = owner;
        p.owner.textContent = ownerLabel(key.owner);
        p.owner.title = `${owner} — show all keys of this owner`;
        p.owner.setAttribute('aria-label', `Show all keys of ${owner}`);
      }
      if (p.owner.parentNode !== p.cells.owner) p.cells.owner.replaceChildren(p.owner);
    } else {
      p.cells.owner.replaceChildren(p.noOwner);
    }
    // Cells keep their element and change only what differs: a search that brings other keys
    // rewrites text, not elements (fewer nodes to style and lay out in the frame that paints it).
    const badge = statusBadge(key.status);
    setCell(p.cells.status, 'span', { className: badge.className, text: badge.textContent });
    setCell(p.cells.created, 'time', { datetime: key.created_at, title: formatDateTime(key.created_at), text: formatDate(key.created_at) });
    if (key.expires_at) {
      setCell(p.cells.expires, 'time', { datetime: key.expires_at, title: formatDateTime(key.expires_at), text: relativeTime(key.expires_at) });
    } else {
      setCell(p.cells.expires, 'span', { className: 'muted', title: 'This key does not expire', text: 'Never' });
    }
    if (!this.lastUsed) setCell(p.cells.lastUsed, 'span', { className: 'muted', title: NO_LAST_USED, text: '—' });
    else if (key.last_used_at) setCell(p.cells.lastUsed, 'time', { datetime: key.last_used_at, title: formatDateTime(key.last_used_at), text: relativeTime(key.last_used_at) });
    else setCell(p.cells.lastUsed, 'span', { className: 'muted', text: 'Never' });
    const access = key.level != null ? `Level ${key.level}` : (key.scopes ?? []).join(', ');
    setCell(p.cells.access, 'span', access ? { title: access, text: access } : { className: 'muted', text: '—' });
    setCell(p.cells.stub, key.stub ? 'code' : 'span', key.stub ? { text: key.stub } : { className: 'muted', text: '—' });

    // A revoked key has no revoke button at all (not just a hidden one).
    p.copy.setAttribute('aria-label', `Copy the secret of ${key.name} from the keychain`);
    p.revoke.textContent = this.revokeLabel;
    p.revoke.setAttribute('aria-label', `${this.revokeLabel} ${key.name}`);
    const actions = [saved ? p.copy : null, key.status !== 'revoked' ? p.revoke : null].filter(Boolean);
    const current = [...p.cells.actions.children];
    if (current.length !== actions.length || current.some((c, i) => c !== actions[i])) p.cells.actions.replaceChildren(...actions);
  }

  /** Roving tabindex: only the active row, and its controls, are in the Tab order. */
  applyTabStop(row, index) {
    const active = index === this.activeIndex;
    if (row.tabIndex !== (active ? 0 : -1)) row.tabIndex = active ? 0 : -1;
    const tab = active ? '0' : '-1';
    const p = row._parts;
    for (const control of [p.check, p.owner, p.copy, p.revoke]) {
      if (control.getAttribute('tabindex') !== tab) control.setAttribute('tabindex', tab);
    }
  }

  keyAt(index) {
    return this.cache.get(index);
  }

  /** The key of the focused row, if the focus is in the table. */
  focusedKey() {
    const row = document.activeElement?.closest?.('#keys-table tbody tr[data-id]');
    return row ? this.keyAt(Number(row.dataset.index)) : null;
  }

  /** Roving tabindex: Tab reaches only the active row (and its controls); arrows move between rows. */
  setActive(index) {
    if (index === this.activeIndex) return;
    const old = this.body.rowFor(this.activeIndex);
    this.activeIndex = index;
    if (old) this.applyTabStop(old, Number(old.dataset.index));
    const row = this.body.rowFor(index);
    if (row) this.applyTabStop(row, index);
  }

  focusRow(index) {
    const count = this.body.rowCount;
    if (count === 0) return;
    const target = Math.max(0, Math.min(index, count - 1));
    this.body.scrollToIndex(target);
    this.setActive(target);
    this.render();
    this.body.rowFor(target)?.focus({ preventScroll: true });
  }

  focusKey(id) {
    const index = this.cache.indexOf(id);
    if (index >= 0) this.focusRow(index);
  }

  /** Shows a key's details and marks its row. */
  select(index) {
    const key = this.keyAt(index);
    if (!key) return;
    this.detailsId = key.id;
    this.render();
    this.onSelect(key);
  }

  toggleSelected(index, { range = false } = {}) {
    const key = this.keyAt(index);
    if (!key) return;
    const loaded = this.cache.loadedIds();
    if (range && this.selection.anchor != null) {
      this.selection.extendTo(index, !this.selection.has(key.id), (i) => this.keyAt(i), loaded);
    } else {
      this.selection.toggle(index, key.id, loaded);
    }
    this.selectionChanged();
  }

  selectionChanged() {
    this.repaintAll();
  }

  clearSelection() {
    this.selection.clear();
    this.render();
  }

  onRowClick(event) {
    const row = event.target.closest('tr[data-index]');
    if (!row) return;
    const index = Number(row.dataset.index);
    const key = this.keyAt(index);
    if (!key) return;
    if (event.target.closest('input.select')) {
      // The box has toggled itself; the selection decides what it shows.
      this.toggleSelected(index, { range: event.shiftKey });
      this.setActive(index);
      return;
    }
    if (event.target.closest('.owner-link')) {
      this.setOwner(ownerText(key.owner));
      return;
    }
    if (event.target.closest('.revoke')) {
      this.onRevoke(key);
      return;
    }
    if (event.target.closest('.copy-saved')) {
      this.onCopy(key);
      return;
    }
    if (event.shiftKey || event.ctrlKey || event.metaKey) {
      event.preventDefault();
      this.toggleSelected(index, { range: event.shiftKey });
      this.focusRow(index);
      return;
    }
    this.selection.anchor = index;
    this.focusRow(index);
    this.select(index);
  }

  onRowKey(event) {
    const row = event.target.closest('tr[data-index]');
    if (!row || event.target.closest('button') || event.altKey || event.ctrlKey || event.metaKey) return;
    const index = Number(row.dataset.index);
    const page = Math.max(1, this.body.visible().last - this.body.visible().first);
    const moves = {
      ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: this.body.rowCount - 1,
      PageDown: index + page, PageUp: index - page,
    };
    if (event.key in moves) {
      event.preventDefault();
      if (event.key === 'ArrowUp' && index === 0) {
        this.search.focus();
        return;
      }
      this.focusRow(moves[event.key]);
      if (event.shiftKey && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
        const key = this.keyAt(this.activeIndex);
        if (key && !this.selection.has(key.id)) this.toggleSelected(this.activeIndex);
      }
    } else if (event.key === ' ' || event.key === 'Spacebar') {
      event.preventDefault();
      this.toggleSelected(index, { range: event.shiftKey });
    } else if (event.key === 'Enter' && !event.target.closest('input')) {
      event.preventDefault();
      this.select(index);
    }
  }
}

/**
 * Shows one element in `cell`, reusing the one there when it has the same tag: only the
 * properties that differ are written.
 */
function setCell(cell, tag, { className = '', text = '', title = null, datetime = null }) {
  let node = cell.firstChild;
  if (!node || cell.childNodes.length !== 1 || node.localName !== tag) {
    node = document.createElement(tag);
    cell.replaceChildren(node);
  }
  if (node.className !== className) node.className = className;
  if (node.textContent !== text) node.textContent = text;
  if (title == null) {
    if (node.hasAttribute('title')) node.removeAttribute('title');
  } else if (node.getAttribute('title') !== title) {
    node.setAttribute('title', title);
  }
  if (datetime != null && node.getAttribute('datetime') !== datetime) node.setAttribute('datetime', datetime);
}

/** Everything a row shows of a key, as one comparable value. */
function keyVersion(key) {
  return [
    key.id, key.name, key.status, key.created_at, key.expires_at, key.last_used_at, key.revoked_at,
    key.revoke_scheduled_at, key.level, (key.scopes ?? []).join(' '), key.stub, ownerText(key.owner),
  ].join('\u0000');
}
