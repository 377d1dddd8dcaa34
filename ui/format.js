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
  // A unit is used from just under one of it: a one-year key read a second after it was made is
  // "in 1 year", not "in 12 months" (months are 30 days, so 12 of them fall short of a year).
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size * 0.97) return relativeFormat(locale).format(Math.round(seconds / size), unit);
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
 * An owner as a narrow column shows it: the part that tells owners apart. Backend ids share a
 * prefix ("user_2b…", "org_2c…") that would fill the column, so a long id shows its tail; an
 * email or a short id shows whole. The full `ownerText` goes in the title.
 */
export function ownerLabel(owner, { tail = 11 } = {}) {
  if (!owner) return '';
  const id = owner.id.replace(/^(user|org)_/, '');
  const shown = id.includes('@') || id.length <= tail + 2 ? id : `…${id.slice(-tail)}`;
  return `${owner.kind} ${shown}`;
}

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

// Words for people -------------------------------------------------------------------------------
// The Rust side words its errors for the CLI (preset names as typed there, RFC 3339 instants,
// config-file locations). The window rewrites them here, one place, into what the window shows.

/** The expiry presets as the window's dropdown names them. */
export const PRESET_WORDS = {
  TwoWeeks: '2 weeks',
  OneMonth: '1 month',
  ThreeMonths: '3 months',
  SixMonths: '6 months',
  OneYear: '1 year',
  Never: 'Never',
};

/** The profile form's labels, by the config field (the last part of `profiles.NAME.FIELD`). */
export const PROFILE_FIELD_LABELS = {
  name: 'Name',
  backend: 'Backend',
  url: 'URL',
  api: 'API',
  auth_url: 'Auth URL',
  api_path: 'API path',
  auth: 'Sign in with',
  subject: 'Default owner',
  data_dir: 'Folder',
  credential: 'Credential',
};

const INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;
const PRESET_NAME = new RegExp(`\\b(${Object.keys(PRESET_WORDS).filter((p) => p !== 'Never').join('|')})\\b`, 'g');

/**
 * A date as the window shows dates: midnight UTC (what a typed `2027-01-31` means) as that day,
 * any other instant as the user's date and time. `locale`/`timeZone` are for tests.
 */
export function peopleDate(iso, { locale, timeZone } = {}) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const midnightUtc = at.getUTCHours() === 0 && at.getUTCMinutes() === 0 && at.getUTCSeconds() === 0;
  const options = midnightUtc
    ? { dateStyle: 'medium', timeZone: 'UTC' }
    : { dateStyle: 'medium', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) };
  return new Intl.DateTimeFormat(locale, options).format(at);
}

/** An error message in the window's words: presets as the dropdown says them, dates as the user reads them. */
export function peopleText(message, options = {}) {
  if (typeof message !== 'string') return message;
  return message
    .replace(PRESET_NAME, (name) => PRESET_WORDS[name])
    .replace(INSTANT, (iso) => peopleDate(iso, options));
}

/**
 * An error about a profile the user typed into the form: "URL: …" instead of the config file's
 * path, line and TOML key (which the CLI keeps: there the user edits the file). Other errors pass.
 */
export function profileFormError(error) {
  if (!error || typeof error.message !== 'string') return error;
  const located = /^config file .*?, line \d+, field ([^:]+): (.*)$/s.exec(error.message);
  const configField = located ? located[1] : error.field;
  const key = configField?.startsWith('profiles.') ? configField.split('.').slice(2).join('.') : configField;
  if (!located) return error;
  const label = PROFILE_FIELD_LABELS[key];
  return { ...error, message: label ? `${label}: ${located[2]}` : located[2] };
}

/**
 * What to say next to the Verify box, or null: on a backend whose server counts every check of a
 * secret as a use (FreeSewing's lastSeen, Clerk's last_used_at), checking here changes Last used.
 */
export function verifyUseNote(capabilities) {
  if (!capabilities?.verify || !capabilities.verify_counts_as_use) return null;
  return 'This service records every check as a use: verifying a secret here changes its key’s Last used.';
}
