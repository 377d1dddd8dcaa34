// Unit tests of the UI's pure logic: `node --test ui/tests/`.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  relativeTime, countLabel, parseOwner, ownerText, confirmationTarget, confirmationMatches,
  revokeSummary, mergeOutcomes, expiringGroups,
} from '../format.js';
import { Selection, rangeBetween, idsInRange } from '../selection.js';
import { PageCache } from '../page-cache.js';

const DAY = 86400 * 1000;
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const iso = (ms) => new Date(ms).toISOString();

test('relative time: future, past, never, just now', () => {
  const opts = { now: NOW, locale: 'en' };
  assert.equal(relativeTime(iso(NOW + 3 * DAY), opts), 'in 3 days');
  assert.equal(relativeTime(iso(NOW - 2 * DAY), opts), '2 days ago');
  assert.equal(relativeTime(iso(NOW + 3 * DAY - 10_000), opts), 'in 3 days');
  assert.equal(relativeTime(iso(NOW + 14 * DAY), opts), 'in 2 weeks');
  assert.equal(relativeTime(iso(NOW - 5 * 3600 * 1000), opts), '5 hours ago');
  assert.equal(relativeTime(iso(NOW + 20_000), opts), 'just now');
  assert.equal(relativeTime(null, opts), 'never');
  assert.equal(relativeTime(undefined, { ...opts, never: 'Never' }), 'Never');
  assert.equal(relativeTime('not a date', opts), 'never');
});

test('count labels', () => {
  assert.equal(countLabel(10000, { locale: 'en' }), '10,000 keys');
  assert.equal(countLabel(1, { locale: 'en' }), '1 key');
  assert.equal(countLabel(0, { locale: 'en' }), '0 keys');
  assert.equal(countLabel(400, { locale: 'en', more: true }), '400+ keys');
});

test('owner parsing follows Subject::parse', () => {
  assert.deepEqual(parseOwner(' org:acme '), { owner: { kind: 'org', id: 'acme' } });
  assert.deepEqual(parseOwner('user:u_1@x.io'), { owner: { kind: 'user', id: 'u_1@x.io' } });
  assert.deepEqual(parseOwner(''), { owner: null });
  assert.deepEqual(parseOwner('   '), { owner: null });
  for (const bad of ['acme', 'team:acme', 'org:', 'org:a b', 'user:x/y']) {
    assert.ok(parseOwner(bad).error, bad);
  }
  assert.equal(ownerText({ kind: 'org', id: 'acme' }), 'org:acme');
  assert.equal(ownerText(null), '');
});

test('typed confirmation: the name for one key, the count for many', () => {
  const one = confirmationTarget({ count: 1, single_name: 'laptop' });
  assert.deepEqual(one, { kind: 'name', text: 'laptop' });
  assert.ok(confirmationMatches('laptop', one));
  assert.ok(confirmationMatches('  laptop ', one));
  assert.ok(!confirmationMatches('Laptop', one));
  assert.ok(!confirmationMatches('1', one));
  assert.ok(!confirmationMatches('', one));

  const many = confirmationTarget({ count: 1000, single_name: null });
  assert.deepEqual(many, { kind: 'count', text: '1000' });
  assert.ok(confirmationMatches('1000', many));
  assert.ok(confirmationMatches('1,000', many));
  assert.ok(confirmationMatches(' 1 000 ', many));
  assert.ok(!confirmationMatches('100', many));
  assert.ok(!confirmationMatches('1000x', many));
  assert.ok(!confirmationMatches('', many));

  // One key without a known name: its count.
  assert.deepEqual(confirmationTarget({ count: 1, single_name: null }), { kind: 'count', text: '1' });
  // Nothing to revoke can never be confirmed.
  assert.ok(!confirmationMatches('0', confirmationTarget({ count: 0 })));
  assert.ok(!confirmationMatches('x', null));
});

test('revoke summary and merging a retry', () => {
  const first = [
    { id: 'a', status: 'revoked' }, { id: 'b', status: 'failed' },
    { id: 'c', status: 'failed' }, { id: 'd', status: 'untouched' },
  ];
  assert.equal(revokeSummary(first).text, '1 revoked · 2 failed · 1 untouched');
  const merged = mergeOutcomes(first, [{ id: 'b', status: 'revoked' }, { id: 'c', status: 'failed' }]);
  assert.deepEqual(merged.map((o) => o.id), ['a', 'b', 'c', 'd']);
  assert.deepEqual(revokeSummary(merged).counts, { revoked: 2, failed: 1, untouched: 1 });
  assert.equal(revokeSummary(merged, 'archived').text, '2 archived · 1 failed · 1 untouched');
});

test('expiring groups: profiles with keys first, then errors, then empty ones', () => {
  const groups = expiringGroups([
    { profile: 'z-empty', keys: [], error: null },
    { profile: 'b-broken', keys: [], error: { message: 'x' } },
    { profile: 'c', keys: [{}], error: null },
    { profile: 'a', keys: [{}], error: null },
  ]);
  assert.deepEqual(groups.map((g) => g.profile), ['a', 'c', 'b-broken', 'z-empty']);
});

test('range selection over indices, skipping rows not loaded', () => {
  assert.deepEqual(rangeBetween(5, 2), [2, 5]);
  assert.deepEqual(rangeBetween(2, 5), [2, 5]);
  assert.deepEqual(rangeBetween(null, 4), [4, 4]);
  const keyAt = (i) => (i === 3 ? undefined : { id: `k${i}` });
  assert.deepEqual(idsInRange(1, 4, keyAt), ['k1', 'k2', 'k4']);
});

test('selection: click, shift-click, all matching, and back to ids', () => {
  const rows = Array.from({ length: 10 }, (_, i) => ({ id: `k${i}` }));
  const keyAt = (i) => rows[i];
  const loaded = rows.map((r) => r.id);
  const s = new Selection();
  assert.ok(s.isEmpty);
  assert.equal(s.toggle(2, 'k2', loaded), true);
  s.extendTo(5, true, keyAt, loaded);
  assert.deepEqual(s.toRequest(), { ids: ['k2', 'k3', 'k4', 'k5'] });
  // shift-click upwards from the new anchor, unticking
  s.extendTo(4, false, keyAt, loaded);
  assert.deepEqual(s.toRequest(), { ids: ['k2', 'k3'] });
  assert.equal(s.size, 2);

  const query = { search: 'ci', status: 'active' };
  s.selectMatching(query, 5000);
  assert.ok(s.allMatching);
  assert.equal(s.size, 5000);
  assert.ok(s.has('anything'));
  assert.deepEqual(s.toRequest(), { query });
  // Unticking one row turns "all matching" into the loaded rows minus that one.
  assert.equal(s.toggle(0, 'k0', loaded), false);
  assert.ok(!s.allMatching);
  assert.equal(s.size, 9);
  assert.ok(!s.has('k0'));
  s.forget(['k1']);
  assert.equal(s.size, 8);
  s.clear();
  assert.ok(s.isEmpty);
  assert.deepEqual(s.toRequest(), { ids: [] });
});

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

function fakeBackend(total, { reportTotal = true, pageSize = 10, moreWhenFull = false } = {}) {
  const calls = [];
  const fetchPage = (page) => {
    calls.push(page);
    const start = page * pageSize;
    const items = [];
    for (let i = start; i < Math.min(total, start + pageSize); i += 1) items.push({ id: `k${i}` });
    return Promise.resolve({ items, total: reportTotal ? total : null, has_more: moreWhenFull ? items.length === pageSize : start + pageSize < total });
  };
  return { calls, fetchPage };
}

test('page cache: fetches the pages a range needs, once, and knows the total', async () => {
  const backend = fakeBackend(95);
  let changes = 0;
  const cache = new PageCache({ fetchPage: backend.fetchPage, pageSize: 10, onChange: () => { changes += 1; } });
  assert.equal(cache.ready, false);
  cache.want(0, 25);
  cache.want(0, 25);
  await settle();
  assert.deepEqual(backend.calls, [0, 1, 2]);
  assert.ok(cache.ready);
  assert.equal(cache.rowCount, 95);
  assert.ok(cache.exact);
  assert.equal(cache.get(24).id, 'k24');
  assert.equal(cache.get(30), undefined);
  assert.equal(cache.indexOf('k13'), 13);
  assert.equal(changes, 3);
});

test('page cache: without a total, the row count grows with has_more', async () => {
  const backend = fakeBackend(25, { reportTotal: false });
  const cache = new PageCache({ fetchPage: backend.fetchPage, pageSize: 10 });
  cache.want(0, 5);
  await settle();
  assert.equal(cache.rowCount, 20); // 10 known, a page more promised
  assert.ok(!cache.exact);
  cache.want(10, 20);
  await settle();
  assert.equal(cache.rowCount, 30);
  cache.want(20, 30);
  await settle();
  assert.equal(cache.rowCount, 25);
  assert.ok(cache.exact);
});

test('page cache: an empty page past the end does not leave placeholder rows', async () => {
  // A backend that cannot tell a full last page from a middle one says has_more.
  const backend = fakeBackend(20, { reportTotal: false, moreWhenFull: true });
  const cache = new PageCache({ fetchPage: backend.fetchPage, pageSize: 10 });
  cache.want(0, 20);
  await settle();
  assert.equal(cache.rowCount, 30); // page 1 says has_more (exactly full)
  cache.want(20, 30);
  await settle();
  assert.equal(cache.rowCount, 20);
});

test('page cache: answers to an older query are ignored', async () => {
  const pending = [];
  const cache = new PageCache({
    pageSize: 10,
    fetchPage: (page) => {
      const d = deferred();
      pending.push({ page, d });
      return d.promise;
    },
  });
  cache.want(0, 5);
  await settle();
  cache.reset(); // the query changed
  cache.want(0, 5);
  await settle();
  assert.equal(pending.length, 2);
  pending[1].d.resolve({ items: [{ id: 'new' }], total: 1, has_more: false });
  pending[0].d.resolve({ items: [{ id: 'old' }], total: 1, has_more: false });
  await settle();
  assert.equal(cache.get(0).id, 'new');
});

test('page cache: at most maxInFlight requests, and the queue follows the scroll', async () => {
  const pending = [];
  const cache = new PageCache({
    pageSize: 10,
    maxInFlight: 2,
    fetchPage: (page) => {
      const d = deferred();
      pending.push({ page, d });
      return d.promise;
    },
  });
  cache.want(0, 40); // pages 0..3
  await settle();
  assert.deepEqual(pending.map((p) => p.page), [0, 1]);
  cache.want(500, 510); // scrolled far away: pages 2 and 3 are no longer wanted
  pending[0].d.resolve({ items: [], total: 1000, has_more: true });
  await settle();
  assert.deepEqual(pending.map((p) => p.page), [0, 1, 50]);
});

test('page cache: far pages are dropped', async () => {
  const backend = fakeBackend(1000);
  const cache = new PageCache({ fetchPage: backend.fetchPage, pageSize: 10, maxPages: 3, maxInFlight: 10 });
  for (let page = 0; page < 6; page += 1) {
    cache.want(page * 10, page * 10 + 10);
    await settle();
  }
  assert.equal(cache.pages.size, 3);
  assert.ok(cache.pages.has(5));
  assert.ok(!cache.pages.has(0));
});

test('page cache: refresh keeps showing old rows until fresh ones land', async () => {
  let version = 'v1';
  const pending = [];
  const cache = new PageCache({
    pageSize: 10,
    fetchPage: (page) => {
      const d = deferred();
      pending.push(d);
      return d.promise;
    },
  });
  cache.want(0, 5);
  await settle();
  pending[0].resolve({ items: [{ id: 'a', v: version }], total: 1, has_more: false });
  await settle();
  version = 'v2';
  cache.refresh();
  assert.equal(cache.get(0).v, 'v1');
  assert.equal(cache.rowCount, 1);
  cache.want(0, 5);
  await settle();
  pending[1].resolve({ items: [], total: 0, has_more: false });
  await settle();
  assert.equal(cache.get(0), undefined);
  assert.equal(cache.rowCount, 0);
});

test('page cache: a failed page is reported and not retried until refresh', async () => {
  let fail = true;
  const errors = [];
  const calls = [];
  const cache = new PageCache({
    pageSize: 10,
    onError: (e) => errors.push(e),
    fetchPage: (page) => {
      calls.push(page);
      return fail ? Promise.reject({ code: 'network', message: 'down' }) : Promise.resolve({ items: [{ id: 'x' }], total: 1, has_more: false });
    },
  });
  cache.want(0, 5);
  await settle();
  cache.want(0, 5);
  await settle();
  assert.equal(errors.length, 1);
  assert.deepEqual(calls, [0]);
  fail = false;
  cache.refresh();
  cache.want(0, 5);
  await settle();
  assert.equal(cache.get(0).id, 'x');
});

test('visible range: rows in view plus overscan, clamped to the table', async () => {
  const { visibleRange } = await import('../virtual-table.js');
  const r = visibleRange({ scrollTop: 360, viewportHeight: 360, rowHeight: 36, rowCount: 100000, overscan: 5 });
  assert.deepEqual(r, { start: 5, end: 25, first: 10, last: 19 });
  const top = visibleRange({ scrollTop: 0, viewportHeight: 100, rowHeight: 36, rowCount: 3, overscan: 8 });
  assert.deepEqual(top, { start: 0, end: 3, first: 0, last: 2 });
  const end = visibleRange({ scrollTop: 36 * 99990, viewportHeight: 720, rowHeight: 36, rowCount: 100000, overscan: 8 });
  assert.equal(end.end, 100000);
  assert.equal(end.last, 99999);
  assert.deepEqual(visibleRange({ scrollTop: 0, viewportHeight: 500, rowHeight: 36, rowCount: 0 }), { start: 0, end: 0, first: 0, last: -1 });
});

test('row pool: a fixed size, one slot per index in range, stable while scrolling', async () => {
  const { visibleRange, poolSize, poolRange, slotOf } = await import('../virtual-table.js');
  // 10 rows fit in 360 px; one more for a row cut at each edge; 12 of overscan on each side.
  const size = poolSize({ viewportHeight: 360, rowHeight: 36, overscan: 12 });
  assert.equal(size, 35);
  const rowCount = 100000;
  const rangeAt = (scrollTop) => poolRange(
    visibleRange({ scrollTop, viewportHeight: 360, rowHeight: 36, rowCount, overscan: 12 }), size, rowCount);
  // Every scroll position: exactly `size` rows, covering the visible ones, in distinct slots.
  for (const scrollTop of [0, 17, 36 * 5, 36 * 500 + 11, 36 * (rowCount - 10)]) {
    const { start, end } = rangeAt(scrollTop);
    assert.equal(end - start, size, `at ${scrollTop}`);
    const first = Math.floor(scrollTop / 36);
    assert.ok(start <= first && Math.min(rowCount - 1, first + 10) < end, `at ${scrollTop}`);
    const slots = new Set();
    for (let i = start; i < end; i += 1) slots.add(slotOf(i, size));
    assert.equal(slots.size, size);
  }
  // Scrolling by n rows reassigns exactly n slots: the others keep their index (and focus).
  const a = rangeAt(36 * 400);
  const b = rangeAt(36 * 403);
  let kept = 0;
  for (let i = b.start; i < b.end; i += 1) if (i >= a.start && i < a.end) kept += 1;
  assert.equal(size - kept, 3);
  // The table's end: the pool shifts back instead of running past the last row.
  assert.deepEqual(rangeAt(36 * rowCount), { start: rowCount - size, end: rowCount });
  // A table shorter than the pool: every row, the rest of the slots empty.
  assert.deepEqual(poolRange(visibleRange({ scrollTop: 0, viewportHeight: 360, rowHeight: 36, rowCount: 4 }), size, 4), { start: 0, end: 4 });
  assert.deepEqual(poolRange({ start: 0, end: 0 }, size, 0), { start: 0, end: 0 });
});

test('owner labels: the distinguishing part, not the shared prefix', async () => {
  const { ownerLabel } = await import('../format.js');
  assert.equal(ownerLabel({ kind: 'user', id: 'user_2abcDEF0123456789xyz' }), 'user …23456789xyz');
  assert.equal(ownerLabel({ kind: 'org', id: 'org_2Zq9' }), 'org 2Zq9');
  assert.equal(ownerLabel({ kind: 'org', id: 'acme' }), 'org acme');
  assert.equal(ownerLabel({ kind: 'user', id: 'grace.hopper.longname@example.com' }), 'user grace.hopper.longname@example.com');
  assert.equal(ownerLabel(null), '');
});

test('a new query keeps the rows shown until its first answer replaces them', async () => {
  const answers = { old: [{ id: 'a' }, { id: 'b' }], next: [{ id: 'c' }] };
  let query = 'old';
  let release;
  const cache = new PageCache({
    pageSize: 10,
    fetchPage: () => (query === 'old'
      ? Promise.resolve({ items: answers.old, total: 2, has_more: false })
      : new Promise((resolve) => { release = () => resolve({ items: answers.next, total: 1, has_more: false }); })),
  });
  cache.want(0, 5);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(cache.rowCount, 2);
  query = 'next';
  cache.requery();
  cache.want(0, 5);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(cache.ready, false);
  assert.equal(cache.rowCount, 2);
  assert.equal(cache.get(1).id, 'b');
  release();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(cache.ready, true);
  assert.equal(cache.rowCount, 1);
  assert.equal(cache.get(0).id, 'c');
  assert.equal(cache.get(1), undefined);
});
