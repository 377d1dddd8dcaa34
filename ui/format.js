// Pure formatting and parsing helpers: no DOM, so they run (and are tested) under node too.

const UNITS = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

const relativeFormats = new Map();
function relativeFormat(locale) {
  if (!relativeFormats.has(locale)) {
    relativeFormats.set(locale, new Intl.RelativeTimeFormat(locale, { numeric: 'always' }));
  }
  return relativeFormats.get(locale);
}

/**
 * "in 3 days", "2 days ago", "just now"; `never` (default "never") when there is no date.
 * `now` is a time in ms; `locale` is for tests (the window uses the user's).
 */
export function relativeTime(iso, { now = Date.now(), never = 'never', locale } = {}) {
  if (iso == null) return never;
  const time = new Date(iso).getTime();
  if (Number.isNaN(time)) return never;
  const seconds = (time - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relativeFormat(locale).format(Math.round(seconds / size), unit);
  }
  return 'just now';
}

const numberFormats = new Map();
// A POSIX/C locale (e.g. a bare X session) formats 10000 without separators; thousands read
// better grouped, so such a locale falls back to en-US.
const DEFAULT_LOCALE = new Intl.NumberFormat().format(10000) === '10000' ? 'en-US' : undefined;

/** 10000 → "10,000" (in the user's locale). */
export function formatNumber(n, locale = DEFAULT_LOCALE) {
  if (!numberFormats.has(locale)) numberFormats.set(locale, new Intl.NumberFormat(locale));
  return numberFormats.get(locale).format(n);
}

/** "1 key", "10,000 keys"; `more` adds a "+" when the backend does not say how many. */
export function countLabel(n, { noun = 'key', plural = `${noun}s`, more = false, locale = DEFAULT_LOCALE } = {}) {
  return `${formatNumber(n, locale)}${more ? '+' : ''} ${n === 1 && !more ? noun : plural}`;
}

/**
 * An owner typed as `user:ID` or `org:ID` → {owner: {kind, id}}; blank → {owner: null};
 * anything else → {error} (the same rule as keyward-core's Subject::parse).
 */
export function parseOwner(text) {
  const trimmed = (text ?? '').trim();
  if (!trimmed) return { owner: null };
  const colon = trimmed.indexOf(':');
  const kind = colon < 0 ? '' : trimmed.slice(0, colon);
  const id = colon < 0 ? '' : trimmed.slice(colon + 1);
  if ((kind !== 'user' && kind !== 'org') || !/^[A-Za-z0-9\-_.@+]{1,200}$/.test(id)) {
    return { error: `“${trimmed}” is not an owner: write user:ID or org:ID` };
  }
  return { owner: { kind, id } };
}

export const ownerText = (owner) => (owner ? `${owner.kind}:${owner.id}` : '');

/**
 * What the revoke dialog asks the user to type: the key's name for one key (when known),
 * else the count.
 */
export function confirmationTarget({ count, single_name: singleName }) {
  if (count === 1 && singleName) return { kind: 'name', text: singleName };
  return { kind: 'count', text: String(count) };
}

/** Whether `typed` confirms `target`: a name exactly (spaces around ignored), a count with or without separators. */
export function confirmationMatches(typed, target) {
  if (!target) return false;
  const value = (typed ?? '').trim();
  if (target.kind === 'name') return value !== '' && value === target.text.trim();
  const digits = value.replace(/[\s,.'’_\u00a0\u202f]/g, '');
  return /^\d+$/.test(digits) && Number(digits) === Number(target.text) && Number(target.text) > 0;
}

/** "45 revoked · 5 failed · 0 untouched" (with the backend's verb for "revoked"). */
export function revokeSummary(outcomes, done = 'revoked') {
  const counts = { revoked: 0, failed: 0, untouched: 0 };
  for (const outcome of outcomes) counts[outcome.status] = (counts[outcome.status] ?? 0) + 1;
  return {
    counts,
    text: `${formatNumber(counts.revoked)} ${done} · ${formatNumber(counts.failed)} failed · ${formatNumber(counts.untouched)} untouched`,
  };
}

/**
 * Merges a retry's outcomes into the earlier ones: each id keeps its place, the newer outcome
 * wins. Returns a new array.
 */
export function mergeOutcomes(earlier, later) {
  const latest = new Map(later.map((o) => [o.id, o]));
  const merged = earlier.map((o) => latest.get(o.id) ?? o);
  const known = new Set(earlier.map((o) => o.id));
  for (const o of later) if (!known.has(o.id)) merged.push(o);
  return merged;
}

/** Groups [{profile, keys, error}] for display: profiles with keys first, then errors, by name. */
export function expiringGroups(profiles) {
  return [...profiles].sort((a, b) => {
    const rank = (p) => (p.keys?.length ? 0 : p.error ? 1 : 2);
    return rank(a) - rank(b) || a.profile.localeCompare(b.profile);
  });
}
