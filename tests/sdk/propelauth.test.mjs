// @propelauth/node-apis, unchanged, against Keyward's PropelAuth emulator (backend API,
// /api/backend/v1/end_user_api_keys). What each call sends and expects is in
// node_modules/@propelauth/node-apis/dist (endUserApiKeys, http.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeyValidateException, getApis } from '@propelauth/node-apis';
import { startEmulator } from './emulator.mjs';

// The SDK has no base-URL option: every call goes to this fixed host and names the tenant in
// `X-Propelauth-url`. The test routes that one host to the emulator, like a hosts-file entry, and
// refuses every other URL so nothing leaves the machine.
const PROPELAUTH_API = 'https://propelauth-api.com';

describe('@propelauth/node-apis against the PropelAuth emulator', () => {
  let emulator;
  let api;
  let userId;
  let orgId;
  const realFetch = globalThis.fetch;
  const tenants = [];

  before(async () => {
    emulator = await startEmulator('propelauth');
    ({ user_id: userId, org_id: orgId } = emulator.credentials);
    globalThis.fetch = (input, init) => {
      const url = String(input);
      if (!url.startsWith(`${PROPELAUTH_API}/`)) throw new Error(`unexpected request to ${url}`);
      tenants.push(init?.headers?.['X-Propelauth-url']);
      return realFetch(emulator.url + url.slice(PROPELAUTH_API.length), init);
    };
    api = getApis(new URL(emulator.url), emulator.credentials.integration_key);
  });
  after(async () => {
    globalThis.fetch = realFetch;
    await emulator?.stop();
  });

  test('create answers an id and a token; fetch reads the key back', async () => {
    const expiresAtSeconds = Math.floor(Date.now() / 1000) + 3600;
    const created = await api.createApiKey({ userId, expiresAtSeconds, metadata: { env: 'ci' } });
    assert.match(created.apiKeyId, /^[0-9a-f]{32}$/);
    assert.equal(typeof created.apiKeyToken, 'string');
    assert.ok(created.apiKeyToken.length > 20);

    const key = await api.fetchApiKey(created.apiKeyId);
    assert.equal(key.apiKeyId, created.apiKeyId);
    assert.equal(key.userId, userId);
    assert.equal(key.expiresAtSeconds, expiresAtSeconds);
    assert.deepEqual(key.metadata, { env: 'ci' });
    assert.ok(Number.isInteger(key.createdAt));
    assert.equal(tenants.at(-1), new URL(emulator.url).hostname);
  });

  test('current keys page by page number with totals', async () => {
    const ids = [];
    for (let n = 0; n < 5; n += 1) ids.push((await api.createApiKey({ orgId })).apiKeyId);
    const seen = [];
    for (let pageNumber = 0; pageNumber < 3; pageNumber += 1) {
      const page = await api.fetchCurrentApiKeys({ orgId, pageSize: 2, pageNumber });
      assert.equal(page.totalApiKeys, 5);
      assert.equal(page.currentPage, pageNumber);
      assert.equal(page.pageSize, 2);
      assert.equal(page.hasMoreResults, pageNumber < 2);
      seen.push(...page.apiKeys.map((key) => key.apiKeyId));
    }
    assert.deepEqual([...seen].sort(), [...ids].sort());
    assert.equal(new Set(seen).size, 5, 'no key is listed twice');
  });

  test('delete archives a key: gone from current keys, listed as archived, no longer valid', async () => {
    const created = await api.createApiKey({ userId, metadata: { purpose: 'to delete' } });
    assert.equal(await api.deleteApiKey(created.apiKeyId), true);
    const current = await api.fetchCurrentApiKeys({ userId, pageSize: 100 });
    assert.ok(!current.apiKeys.some((key) => key.apiKeyId === created.apiKeyId));
    const archived = await api.fetchArchivedApiKeys({ userId, pageSize: 100 });
    assert.ok(archived.apiKeys.some((key) => key.apiKeyId === created.apiKeyId));
    await assert.rejects(api.validateApiKey(created.apiKeyToken), ApiKeyValidateException);
  });

  test('validate answers the owner of a live token and refuses an unknown one', async () => {
    const personal = await api.createApiKey({ userId, metadata: { role: 'ci' } });
    const asPersonal = await api.validatePersonalApiKey(personal.apiKeyToken);
    assert.equal(asPersonal.user.userId, userId);
    assert.deepEqual(asPersonal.metadata, { role: 'ci' });
    // The SDK strips a pasted `Bearer ` itself.
    assert.equal((await api.validateApiKey(`Bearer ${personal.apiKeyToken}`)).user.userId, userId);

    const org = await api.createApiKey({ orgId });
    const asOrg = await api.validateOrgApiKey(org.apiKeyToken);
    assert.equal(asOrg.org.orgId, orgId);
    await assert.rejects(api.validatePersonalApiKey(org.apiKeyToken), ApiKeyValidateException);

    await assert.rejects(api.validateApiKey('not-a-real-token-0123456789abcdef'), ApiKeyValidateException);
  });

  test('update changes the expiry, which fetch then shows', async () => {
    const created = await api.createApiKey({ userId });
    const expiresAtSeconds = Math.floor(Date.now() / 1000) + 7200;
    assert.equal(await api.updateApiKey(created.apiKeyId, { expiresAtSeconds }), true);
    assert.equal((await api.fetchApiKey(created.apiKeyId)).expiresAtSeconds, expiresAtSeconds);
  });

  test('a wrong integration key is refused', async () => {
    const wrong = getApis(new URL(emulator.url), 'not-the-integration-key');
    await assert.rejects(wrong.fetchCurrentApiKeys({ userId }), /integrationApiKey is incorrect/);
  });
});
