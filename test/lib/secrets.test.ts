import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSecretBox,
  isRedacted,
  isSealed,
  keepRedacted,
  keepRedactedValues,
  keyFromText,
  loadSecretBox,
  redactSecret,
  redactValues,
  SECRET_KEY_FILE,
  SecretError,
} from '../../src/lib/secrets.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-secrets-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Flips one bit of the sealed body (after the prefix and key id). */
function tamper(sealed: string, at: number): string {
  const head = sealed.slice(0, sealed.lastIndexOf(':') + 1);
  const body = Buffer.from(sealed.slice(head.length), 'base64url');
  body[at]! ^= 0x01;
  return head + body.toString('base64url');
}

describe('secret box', () => {
  const box = createSecretBox(randomBytes(32));

  it('round-trips text, with a fresh IV each time, in the versioned format', () => {
    const a = box.encrypt('Bearer sk-live-123 ✓');
    const b = box.encrypt('Bearer sk-live-123 ✓');
    expect(a).toMatch(new RegExp(`^cairn:v1:${box.keyId}:[A-Za-z0-9_-]+$`));
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-live');
    expect(box.decrypt(a)).toBe('Bearer sk-live-123 ✓');
    expect(box.decrypt(box.encrypt(''))).toBe('');
    expect(isSealed(a)).toBe(true);
    expect(isSealed('Bearer sk-live-123')).toBe(false);
  });

  it('refuses a wrong key, naming the key id it needs', () => {
    const other = createSecretBox(randomBytes(32));
    const sealed = box.encrypt('secret');
    expect(() => other.decrypt(sealed)).toThrow(SecretError);
    expect(() => other.decrypt(sealed)).toThrow(
      `secret was encrypted with key ${box.keyId}, but this server's key is ${other.keyId}: give every Cairn process the same CAIRN_SECRET_KEY (or LETTA_ENCRYPTION_KEY)`,
    );
  });

  it('detects tampering anywhere: IV, ciphertext, tag, key id', () => {
    const sealed = box.encrypt('a secret value');
    const length = Buffer.from(sealed.slice(sealed.lastIndexOf(':') + 1), 'base64url').length;
    for (const at of [0, 11, 12, length - 17, length - 1])
      expect(() => box.decrypt(tamper(sealed, at)), `byte ${at}`).toThrow(/failed authentication/);
    const otherId = sealed.replace(`:${box.keyId}:`, ':00000000:');
    expect(() => box.decrypt(otherId)).toThrow(/but this server's key is/);
    expect(() => box.decrypt('cairn:v1:abc')).toThrow(/malformed/);
    expect(() => box.decrypt(`cairn:v1:${box.keyId}:AAAA`)).toThrow(/malformed/);
    expect(() => box.decrypt('plain text')).toThrow(/not an encrypted secret/);
  });

  it('binds a value to its context: it cannot be moved to another field', () => {
    const sealed = box.encrypt('token', 'mcp_server:1:auth_token');
    expect(box.decrypt(sealed, 'mcp_server:1:auth_token')).toBe('token');
    expect(() => box.decrypt(sealed, 'mcp_server:2:auth_token')).toThrow(/failed authentication/);
    expect(() => box.decrypt(sealed)).toThrow(/failed authentication/);
  });

  it('rotates: old values open with the previous key and are re-sealed with the new one', () => {
    const oldKey = randomBytes(32);
    const sealedOld = createSecretBox(oldKey).encrypt('provider-key', 'ctx');
    const rotated = createSecretBox(randomBytes(32), [oldKey]);
    expect(rotated.needsRotation(sealedOld)).toBe(true);
    expect(rotated.decrypt(sealedOld, 'ctx')).toBe('provider-key');
    const resealed = rotated.rotate(sealedOld, 'ctx');
    expect(rotated.needsRotation(resealed)).toBe(false);
    expect(resealed).toContain(`:${rotated.keyId}:`);
    expect(rotated.decrypt(resealed, 'ctx')).toBe('provider-key');
  });

  it('rejects keys of the wrong size', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('keys', () => {
  it('reads hex and base64 keys as they are, and stretches passphrases the same way every time', async () => {
    const raw = randomBytes(32);
    expect((await keyFromText(raw.toString('hex'))).equals(raw)).toBe(true);
    expect((await keyFromText(raw.toString('base64'))).equals(raw)).toBe(true);
    expect((await keyFromText(raw.toString('base64url'))).equals(raw)).toBe(true);
    const a = await keyFromText('correct horse battery staple');
    const b = await keyFromText('correct horse battery staple');
    expect(a.length).toBe(32);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(await keyFromText('correct horse battery stapler'))).toBe(false);
    await expect(keyFromText('   ')).rejects.toThrow(/empty/);
  });

  it('creates the key file once, 0600, and reads the same key afterwards', async () => {
    const dataDir = tempDir();
    const first = await loadSecretBox({ env: {}, dataDir });
    const path = join(dataDir, SECRET_KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const contents = readFileSync(path, 'utf8');
    const second = await loadSecretBox({ env: {}, dataDir });
    expect(readFileSync(path, 'utf8')).toBe(contents);
    expect(second.keyId).toBe(first.keyId);
    expect(second.decrypt(first.encrypt('kept across restarts'))).toBe('kept across restarts');
  });

  it('several processes starting at once agree on one key', async () => {
    const dataDir = tempDir();
    const boxes = await Promise.all(Array.from({ length: 6 }, () => loadSecretBox({ env: {}, dataDir })));
    expect(new Set(boxes.map((b) => b.keyId)).size).toBe(1);
  });

  it('never replaces a damaged key file, and tightens a loose one', async () => {
    const dataDir = tempDir();
    const path = join(dataDir, SECRET_KEY_FILE);
    writeFileSync(path, 'not a key\n');
    await expect(loadSecretBox({ env: {}, dataDir })).rejects.toThrow(/refusing to replace it/);
    expect(readFileSync(path, 'utf8')).toBe('not a key\n');

    writeFileSync(path, `${randomBytes(32).toString('base64')}\n`);
    chmodSync(path, 0o644);
    await loadSecretBox({ env: {}, dataDir });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('prefers CAIRN_SECRET_KEY, then LETTA_ENCRYPTION_KEY, over the key file; previous keys still open', async () => {
    const dataDir = tempDir();
    const fromFile = await loadSecretBox({ env: {}, dataDir });
    const cairn = await loadSecretBox({
      env: { CAIRN_SECRET_KEY: 'cairn pass', LETTA_ENCRYPTION_KEY: 'letta pass' },
      dataDir,
    });
    const letta = await loadSecretBox({ env: { LETTA_ENCRYPTION_KEY: 'letta pass' }, dataDir });
    expect(new Set([fromFile.keyId, cairn.keyId, letta.keyId]).size).toBe(3);
    expect(cairn.keyId).toBe(createSecretBox(await keyFromText('cairn pass')).keyId);

    const sealed = letta.encrypt('written under the old key');
    const rotated = await loadSecretBox({
      env: { CAIRN_SECRET_KEY: 'new pass', CAIRN_SECRET_KEY_PREVIOUS: 'letta pass, other' },
      dataDir,
    });
    expect(rotated.decrypt(sealed)).toBe('written under the old key');
    expect(rotated.needsRotation(sealed)).toBe(true);
  });
});

describe('redaction', () => {
  it('masks secrets, keeping only an auth scheme', () => {
    expect(redactSecret('Bearer sk-abcdef0123456789')).toBe('Bearer ****');
    expect(redactSecret('plain-api-key')).toBe('****');
    expect(redactSecret(null)).toBeNull();
    expect(redactSecret(undefined)).toBeNull();
    expect(redactSecret('')).toBe('');
    expect(redactValues({ 'X-Api-Key': 'k', Authorization: 'Basic dXNlcjpwYXNz' })).toEqual({
      'X-Api-Key': '****',
      Authorization: 'Basic ****',
    });
    expect(redactValues(null)).toBeNull();
  });

  it('an echoed redacted value keeps the stored secret; a new value replaces it', () => {
    expect(isRedacted('Bearer ****')).toBe(true);
    expect(isRedacted('****')).toBe(true);
    expect(isRedacted('Bearer real')).toBe(false);
    expect(keepRedacted('Bearer ****', 'Bearer stored')).toBe('Bearer stored');
    expect(keepRedacted('Bearer new', 'Bearer stored')).toBe('Bearer new');
    expect(keepRedactedValues({ A: '****', B: 'new', C: '****' }, { A: 'old-a', B: 'old-b' })).toEqual({
      A: 'old-a',
      B: 'new',
    });
  });
});
