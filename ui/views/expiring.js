// "Expiring soon": the active keys of every profile that expire in the next N days, grouped by
// profile. A profile that cannot be read shows its error; the others still show.

import * as api from '../api.js';
import { $, el, show, formatDateTime, statusBadge, BACKEND_LABELS } from '../dom.js';
import { countLabel, expiringGroups, formatNumber, ownerText, relativeTime } from '../format.js';

const COLUMNS = 5;
// Rows drawn per profile: the soonest first. The Keys view (Status "Expiring within…") pages
// through any number of them.
const MAX_ROWS_PER_PROFILE = 500;

export class ExpiringView {
  constructor() {
    this.input = $('#expiring-days-input');
    this.tbody = $('#expiring-table').tBodies[0];
    this.request = 0;
    this.input.addEventListener('change', () => this.load());
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.load();
      }
    });
    $('#expiring-refresh').addEventListener('click', () => this.load());
  }

  days() {
    const days = Number(this.input.value);
    const valid = Number.isInteger(days) && days >= 1 && days <= 3650;
    this.input.toggleAttribute('aria-invalid', !valid);
    const error = $('#expiring-days-error');
    error.textContent = valid ? '' : 'Enter a whole number of days from 1 to 3650.';
    show(error, !valid);
    return valid ? days : null;
  }

  async load() {
    const days = this.days();
    if (days == null) return;
    const request = ++this.request;
    $('#expiring-table').setAttribute('aria-busy', 'true');
    $('#expiring-status').textContent = 'Loading…';
    show($('#expiring-error'), false);
    let result;
    try {
      result = await api.expiringSoon(days);
    } catch (error) {
      if (request !== this.request) return;
      $('#expiring-error').textContent = `Could not list expiring keys: ${error.message}`;
      show($('#expiring-error'), true);
      $('#expiring-status').textContent = '';
      this.tbody.replaceChildren();
      show($('#expiring-empty'), false);
      return;
    } finally {
      if (request === this.request) $('#expiring-table').removeAttribute('aria-busy');
    }
    if (request !== this.request) return;
    this.render(result, days);
  }

  render(result, days) {
    const rows = [];
    let total = 0;
    const groups = expiringGroups(result.profiles ?? []);
    for (const group of groups) {
      const keys = [...(group.keys ?? [])].sort((a, b) => String(a.expires_at).localeCompare(String(b.expires_at)));
      total += keys.length;
      if (!keys.length && !group.error) continue;
      const backend = BACKEND_LABELS[group.backend] ?? group.backend ?? '';
      rows.push(el('tr', { className: 'group-row', dataset: { group: group.profile } },
        el('th', { scope: 'colgroup', colspan: String(COLUMNS) },
          el('span', { className: 'group-name', text: group.profile }),
          backend ? el('span', { className: 'chip', text: backend }) : null,
          keys.length ? el('span', { className: 'muted group-count', text: countLabel(keys.length) }) : null)));
      if (group.error) {
        rows.push(el('tr', { className: 'profile-error', dataset: { profile: group.profile } },
          el('td', { colspan: String(COLUMNS) },
            el('span', { className: 'banner error', role: 'alert', text: `Could not read “${group.profile}”: ${group.error.message}` }))));
      }
      for (const key of keys.slice(0, MAX_ROWS_PER_PROFILE)) {
        rows.push(el('tr', { dataset: { profile: group.profile, id: key.id } },
          el('td', { className: 'col-name' }, el('span', { className: 'key-name', title: key.name, text: key.name })),
          el('td', { className: 'col-owner' }, key.owner ? el('span', { className: 'owner', text: ownerText(key.owner) }) : el('span', { className: 'muted', text: '—' })),
          el('td', { className: 'col-status' }, statusBadge(key.status)),
          el('td', { className: 'col-expires' }, el('time', { datetime: key.expires_at, title: formatDateTime(key.expires_at), text: relativeTime(key.expires_at) })),
          el('td', { className: 'col-stub' }, key.stub ? el('code', { text: key.stub }) : el('span', { className: 'muted', text: '—' }))));
      }
      if (keys.length > MAX_ROWS_PER_PROFILE) {
        rows.push(el('tr', { className: 'more-keys' },
          el('td', { colspan: String(COLUMNS), className: 'muted' },
            `… and ${formatNumber(keys.length - MAX_ROWS_PER_PROFILE)} more in “${group.profile}”: switch to it and use Status “Expiring within…” on the Keys view to see them all.`)));
      }
    }
    this.tbody.replaceChildren(...rows);
    const profiles = (result.profiles ?? []).length;
    const failed = (result.profiles ?? []).filter((p) => p.error).length;
    const within = `in the next ${formatNumber(days)} ${days === 1 ? 'day' : 'days'}`;
    $('#expiring-status').textContent = `${countLabel(total)} ${total === 1 ? 'expires' : 'expire'} ${within}, across ${countLabel(profiles, { noun: 'profile' })}`
      + (failed ? ` (${formatNumber(failed)} could not be read)` : '');
    show($('#expiring-table'), rows.length > 0);
    show($('#expiring-empty'), total === 0);
    $('#expiring-empty-title').textContent = `No key expires ${within}`;
    $('#expiring-empty-hint').textContent = failed
      ? 'Fix the profiles above that could not be read, or look further ahead with more days.'
      : 'Nothing to rotate for now. Look further ahead by raising the number of days.';
  }
}
