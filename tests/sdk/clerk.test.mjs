// @clerk/backend, unchanged, against Keyward's Clerk emulator: the emulator is held to Clerk's own
// client. What each call sends and expects is in node_modules/@clerk/backend (APIKeysApi,
// request.ts, tokens/verify.ts); docs/backends/clerk.md says where the emulator's answers come from.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend';
// @clerk/backend 2.x (the last line for Node 18, Debian bookworm's nodejs) exports its error guard
// from @clerk/shared, the package it is built on.
import { isClerkAPIResponseError } from '@clerk/shared/error';
import { verifyMachineAuthToken } from '@clerk/backend/internal';
import { startEmulator } from './emulator.mjs';

describe('@clerk/backend against the Clerk emulator', () => {
  let emulator;
  let clerk;
  let subject;

  before(async () => {
    emulator = await startEmulator('clerk');
    subject = emulator.credentials.user_id;
    // apiUrl is the SDK's own option for a non-default Backend API host.
    clerk = createClerkClient({ secretKey: emulator.credentials.secret_key, apiUrl: emulator.url });
  });
  after(() => emulator?.stop());

  async function apiError(promise) {
    const error = await promise.then(() => null, (e) => e);
    assert.ok(isClerkAPIResponseError(error), `expected a Clerk API error, got ${error}`);
    return error;
  }

  test('create answers the key with its secret, get reads it back without one', async () => {
    const created = await clerk.apiKeys.create({
      name: 'sdk nightly sync',
      subject,
      description: 'made by @clerk/backend',
      scopes: ['read', 'write'],
      claims: { env: 'ci' },
      secondsUntilExpiration: 3600,
    });
    assert.match(created.id, /^ak_[0-9a-f]{32}$/);
    assert.match(created.secret, /^ak_/);
    assert.equal(created.name, 'sdk nightly sync');
    assert.equal(created.subject, subject);
    assert.deepEqual(created.scopes, ['read', 'write']);
    assert.deepEqual(created.claims, { env: 'ci' });
    assert.equal(created.revoked, false);
    assert.ok(created.expiration - created.createdAt >= 3_599_000, 'expiration is in Unix ms');

    const read = await clerk.apiKeys.get(created.id);
    assert.equal(read.id, created.id);
    assert.equal(read.description, 'made by @clerk/backend');
    assert.equal(read.secret, undefined);

    // The Backend API can read the secret again (only the Frontend API cannot).
    const { secret } = await clerk.apiKeys.getSecret(created.id);
    assert.equal(secret, created.secret);
  });

  test('list pages newest first with a total count', async () => {
    const owner = emulator.credentials.org_id;
    const ids = [];
    for (let n = 1; n <= 5; n += 1) {
      ids.push((await clerk.apiKeys.create({ name: `sdk paging ${n}`, subject: owner })).id);
    }
    const seen = [];
    for (let offset = 0; offset < 6; offset += 2) {
      const page = await clerk.apiKeys.list({ subject: owner, limit: 2, offset });
      assert.equal(page.totalCount, 5);
      assert.ok(page.data.length <= 2);
      seen.push(...page.data.map((key) => key.id));
    }
    assert.deepEqual(seen, ids.reverse());
    const found = await clerk.apiKeys.list({ subject: owner, query: 'paging 3' });
    assert.deepEqual(found.data.map((key) => key.name), ['sdk paging 3']);
  });

  test('revoke keeps the key, flagged with its reason; invalid keys show only when asked', async () => {
    const key = await clerk.apiKeys.create({ name: 'sdk to revoke', subject });
    const revoked = await clerk.apiKeys.revoke({ apiKeyId: key.id, revocationReason: 'rotated' });
    assert.equal(revoked.revoked, true);
    assert.equal(revoked.revocationReason, 'rotated');
    // The SDK sends revocation_reason: null when no reason is given.
    const other = await clerk.apiKeys.create({ name: 'sdk revoke no reason', subject });
    assert.equal((await clerk.apiKeys.revoke({ apiKeyId: other.id })).revocationReason, null);

    const valid = await clerk.apiKeys.list({ subject, limit: 100 });
    assert.ok(!valid.data.some((k) => k.id === key.id), 'a revoked key is hidden by default');
    const all = await clerk.apiKeys.list({ subject, limit: 100, includeInvalid: true });
    assert.equal(all.data.find((k) => k.id === key.id)?.revoked, true);
  });

  test('verify answers the key for a live secret and "not found" for a revoked or unknown one', async () => {
    const key = await clerk.apiKeys.create({ name: 'sdk to verify', subject });
    const verified = await clerk.apiKeys.verify(key.secret);
    assert.equal(verified.id, key.id);
    assert.equal(verified.secret, undefined);
    assert.ok(verified.lastUsedAt >= key.createdAt);

    // The SDK's own token check maps the Backend API's 404 to "token invalid".
    const options = { secretKey: emulator.credentials.secret_key, apiUrl: emulator.url };
    const good = await verifyMachineAuthToken(key.secret, options);
    assert.equal(good.errors, undefined);
    assert.equal(good.data.id, key.id);

    await clerk.apiKeys.revoke({ apiKeyId: key.id });
    const afterRevoke = await verifyMachineAuthToken(key.secret, options);
    assert.equal(afterRevoke.data, undefined);
    assert.equal(afterRevoke.errors[0].code, 'token-invalid');
    assert.equal(afterRevoke.errors[0].status, 404);
    assert.equal((await apiError(clerk.apiKeys.verify('ak_not_a_key_at_all'))).status, 404);

    const badKey = await verifyMachineAuthToken(key.secret, { ...options, secretKey: 'sk_test_wrong' });
    assert.equal(badKey.errors[0].code, 'secret-key-invalid');
  });

  test('delete removes the key for good', async () => {
    const key = await clerk.apiKeys.create({ name: 'sdk to delete', subject });
    const deleted = await clerk.apiKeys.delete(key.id);
    assert.equal(deleted.id, key.id);
    assert.equal(deleted.deleted, true);
    const error = await apiError(clerk.apiKeys.get(key.id));
    assert.equal(error.status, 404);
    assert.equal(typeof error.errors[0].code, 'string');
    assert.equal(typeof error.errors[0].longMessage, 'string');
  });

  test('refusals come back as Clerk API errors naming the parameter', async () => {
    const short = await apiError(clerk.apiKeys.create({ name: 'ab', subject }));
    assert.equal(short.status, 400);
    assert.equal(short.errors[0].meta.paramName, 'name');
    const page = await apiError(clerk.apiKeys.list({ subject, limit: 101 }));
    assert.equal(page.status, 400);
    assert.equal(page.errors[0].meta.paramName, 'limit');
    await clerk.apiKeys.create({ name: 'sdk twin', subject });
    assert.equal((await apiError(clerk.apiKeys.create({ name: 'sdk twin', subject }))).status, 409);
    const wrongKey = createClerkClient({ secretKey: 'sk_test_wrong', apiUrl: emulator.url });
    assert.equal((await apiError(wrongKey.apiKeys.list({ subject }))).status, 401);
  });
});
