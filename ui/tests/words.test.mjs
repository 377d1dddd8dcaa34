// The window's words for errors the Rust side words for the CLI: `node --test ui/tests/`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { peopleText, peopleDate, profileFormError, verifyUseNote, relativeTime } from '../format.js';

test('presets are named as the dropdown names them', () => {
  const cli = "'soon' is not an expiry: use a preset (TwoWeeks, OneMonth, ThreeMonths, SixMonths, OneYear, Never), a duration like 90d, 12h or 2w, or a date like 2027-01-31";
  assert.equal(
    peopleText(cli, { locale: 'en-GB' }),
    "'soon' is not an expiry: use a preset (2 weeks, 1 month, 3 months, 6 months, 1 year, Never), a duration like 90d, 12h or 2w, or a date like 2027-01-31",
  );
  // A word that merely contains a preset's name is left alone.
  assert.equal(peopleText('NotOneYearly', {}), 'NotOneYearly');
});

test('an RFC 3339 instant in a message reads as a date in the user\'s format', () => {
  // Midnight UTC is what a typed date means: shown as that day, in any time zone.
  assert.equal(peopleText('2020-01-01T00:00:00Z is in the past', { locale: 'en-GB' }), '1 Jan 2020 is in the past');
  assert.equal(peopleText('2020-01-01T00:00:00Z is in the past', { locale: 'en-US' }), 'Jan 1, 2020 is in the past');
  assert.equal(
    peopleDate('2026-03-05T14:30:00Z', { locale: 'en-GB', timeZone: 'UTC' }),
    '5 Mar 2026, 14:30',
  );
  assert.doesNotMatch(peopleText('expires 2026-03-05T14:30:00+02:00', { locale: 'en-GB' }), /T14:30/);
  // Dates as the user types them (examples in hints) stay as typed.
  assert.match(peopleText('a date like 2027-01-31', {}), /2027-01-31/);
});

test('a profile field typed in the form is named by its label, not the config line', () => {
  const error = {
    code: 'invalid_input',
    field: 'profiles.remote.url',
    message: 'config file /home/u/.config/keyward/config.toml, line 9, field profiles.remote.url: not a URL (relative URL without a base)',
  };
  const worded = profileFormError(error);
  assert.equal(worded.message, 'URL: not a URL (relative URL without a base)');
  assert.equal(worded.field, 'profiles.remote.url', 'the field still places the message next to its input');
  assert.equal(
    profileFormError({ code: 'invalid_input', field: 'profiles.x.data_dir', message: 'config file /c.toml, line 2, field profiles.x.data_dir: is not absolute' }).message,
    'Folder: is not absolute',
  );
  // An error that names no config line passes unchanged.
  const plain = { code: 'invalid_input', field: 'name', message: 'is empty' };
  assert.deepEqual(profileFormError(plain), plain);
});

test('the Verify box says when a check counts as a use', () => {
  assert.match(verifyUseNote({ verify: true, verify_counts_as_use: true }), /records every check as a use/);
  assert.equal(verifyUseNote({ verify: true, verify_counts_as_use: false }), null);
  assert.equal(verifyUseNote({ verify: false, verify_counts_as_use: true }), null);
});

test('a one-year key reads "in 1 year", not "in 12 months"', () => {
  const now = Date.UTC(2025, 0, 15, 12);
  const oneYear = new Date(now + 365 * 86400 * 1000).toISOString();
  assert.equal(relativeTime(oneYear, { now, locale: 'en' }), 'in 1 year');
  const sixMonths = new Date(now + 182 * 86400 * 1000).toISOString();
  assert.equal(relativeTime(sixMonths, { now, locale: 'en' }), 'in 6 months');
  const twoWeeks = new Date(now + 14 * 86400 * 1000).toISOString();
  assert.equal(relativeTime(twoWeeks, { now, locale: 'en' }), 'in 2 weeks');
});

test('a key read just after it was made shows its whole term', () => {
  const now = Date.UTC(2025, 0, 15, 12);
  const at = (days, seconds = 0) => new Date(now + days * 86400 * 1000 - seconds * 1000).toISOString();
  assert.equal(relativeTime(at(365, 5), { now, locale: 'en' }), 'in 1 year');
  assert.equal(relativeTime(at(30, 5), { now, locale: 'en' }), 'in 1 month');
  assert.equal(relativeTime(at(7, 5), { now, locale: 'en' }), 'in 1 week');
  assert.equal(relativeTime(at(-365, -5), { now, locale: 'en' }), '1 year ago');
});
