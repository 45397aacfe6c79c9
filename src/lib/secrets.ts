import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt } from 'node:crypto';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Encryption at rest for the secrets Cairn stores (MCP tokens and headers, tool environment variables, provider
 * keys): AES-256-GCM, a fresh 96-bit IV per value, and a versioned text form that names the key it was sealed
 * with, so a key can be rotated without a flag day:
 *
 *     cairn:v1:<key id, 8 hex>:<base64url(iv ‖ ciphertext ‖ tag)>
 *
 * The prefix, and an optional caller context (e.g. `mcp_server:<id>:auth_token`), are authenticated as associated
 * data: a value cannot be moved to another row or field, nor its key id edited, without failing to open.
 */
export const SECRET_FORMAT_PREFIX = 'cairn:v1:';
export const SECRET_KEY_FILE = 'secret.key';
/** Cairn's own variable; Letta's `LETTA_ENCRYPTION_KEY` is read when it is unset, so one setting serves both. */
export const SECRET_KEY_ENV = 'CAIRN_SECRET_KEY';
export const LETTA_SECRET_KEY_ENV = 'LETTA_ENCRYPTION_KEY';
/** Keys that values may still be sealed with, comma-separated, after `CAIRN_SECRET_KEY` was changed. */
export const PREVIOUS_SECRET_KEYS_ENV = 'CAIRN_SECRET_KEY_PREVIOUS';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export class SecretError extends Error {
  override readonly name = 'SecretError';
}

/**
 * The status of a request that needs a stored secret this process cannot open (see docs/decisions.md): the request
 * is sound and another process with the right key serves it, so it is the server that is unavailable, not the
 * client that is wrong.
 */
export const SECRET_UNREADABLE_STATUS = 503;

/** The key text the environment gives, `CAIRN_SECRET_KEY` first; undefined when each process keeps its own file. */
export const configuredSecretKey = (env: NodeJS.ProcessEnv): string | undefined =>
  env[SECRET_KEY_ENV]?.trim() || env[LETTA_SECRET_KEY_ENV]?.trim() || undefined;

export interface SecretBox {
  /** Id of the key new values are sealed with. */
  readonly keyId: string;
  encrypt(plaintext: string, context?: string): string;
  /** Throws `SecretError` for a value sealed with an unknown key, a tampered value, or one that is not sealed. */
  decrypt(sealed: string, context?: string): string;
  /** True when the value was sealed with a key other than the current one: re-encrypt it (`rotate`). */
  needsRotation(sealed: string): boolean;
  /** Opens with whichever configured key sealed it and seals again with the current key. */
  rotate(sealed: string, context?: string): string;
}

export const isSealed = (value: unknown): value is string =>
  typeof value === 'string' && value.startsWith(SECRET_FORMAT_PREFIX);

interface Key {
  id: string;
  bytes: Buffer;
}

const keyIdOf = (bytes: Buffer) => createHmac('sha256', bytes).update('cairn secret key id').digest('hex').slice(0, 8);

/** Keys already in raw form (as the data-dir key file holds them) are used as they are. */
export function createSecretBox(current: Buffer, previous: Buffer[] = []): SecretBox {
  for (const key of [current, ...previous])
    if (key.length !== KEY_BYTES) throw new SecretError(`a secret key must be ${KEY_BYTES} bytes, got ${key.length}`);
  const currentKey: Key = { id: keyIdOf(current), bytes: current };
  const keys = new Map<string, Key>(
    [currentKey, ...previous.map((bytes) => ({ id: keyIdOf(bytes), bytes }))].map((k) => [k.id, k]),
  );
  const aad = (keyId: string, context: string | undefined) =>
    Buffer.from(`${SECRET_FORMAT_PREFIX}${keyId}:${context ?? ''}`, 'utf8');

  const parse = (sealed: string): { key: Key; iv: Buffer; ciphertext: Buffer; tag: Buffer } => {
    if (!isSealed(sealed)) throw new SecretError('value is not an encrypted secret');
    const rest = sealed.slice(SECRET_FORMAT_PREFIX.length);
    const colon = rest.indexOf(':');
    if (colon !== 8) throw new SecretError('encrypted secret is malformed');
    const keyId = rest.slice(0, colon);
    const key = keys.get(keyId);
    if (!key)
      throw new SecretError(
        `secret was encrypted with key ${keyId}, but this server's key is ${currentKey.id}: give every Cairn process ` +
          `the same ${SECRET_KEY_ENV} (or ${LETTA_SECRET_KEY_ENV}); after a key change, set ${PREVIOUS_SECRET_KEYS_ENV} to the old key`,
      );
    const body = Buffer.from(rest.slice(colon + 1), 'base64url');
    if (body.length < IV_BYTES + TAG_BYTES) throw new SecretError('encrypted secret is malformed');
    return {
      key,
      iv: body.subarray(0, IV_BYTES),
      ciphertext: body.subarray(IV_BYTES, body.length - TAG_BYTES),
      tag: body.subarray(body.length - TAG_BYTES),
    };
  };

  const encrypt = (plaintext: string, context?: string): string => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', currentKey.bytes, iv);
    cipher.setAAD(aad(currentKey.id, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const body = Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
    return `${SECRET_FORMAT_PREFIX}${currentKey.id}:${body}`;
  };

  const decrypt = (sealed: string, context?: string): string => {
    const { key, iv, ciphertext, tag } = parse(sealed);
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, iv);
    decipher.setAAD(aad(key.id, context));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretError('encrypted secret failed authentication: it was altered, or belongs to another field');
    }
  };

  return {
    keyId: currentKey.id,
    encrypt,
    decrypt,
    needsRotation: (sealed) => parse(sealed).key.id !== currentKey.id,
    rotate: (sealed, context) => encrypt(decrypt(sealed, context), context),
  };
}

/**
 * A key given as text: 64 hex digits or base64 of 32 bytes is the key itself; anything else is a passphrase,
 * stretched once with scrypt (off the event loop) under a fixed salt, since the value must give the same key on
 * every start.
 */
export async function keyFromText(text: string): Promise<Buffer> {
  const trimmed = text.trim();
  if (!trimmed) throw new SecretError('secret key is empty');
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const decoded = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (decoded.length === KEY_BYTES) return decoded;
  }
  return new Promise((resolve, reject) =>
    scrypt(
      trimmed,
      'cairn-secret-key-v1',
      KEY_BYTES,
      { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

/**
 * The key from `CAIRN_SECRET_KEY` (else `LETTA_ENCRYPTION_KEY`), else from `<dataDir>/secret.key`, which is
 * created on first start with mode 0600. Losing that file loses every stored secret, so it is never replaced:
 * an existing file that does not hold a key is an error. `CAIRN_SECRET_KEY_PREVIOUS` adds keys to read with.
 */
export async function loadSecretBox(options: { env: NodeJS.ProcessEnv; dataDir: string }): Promise<SecretBox> {
  const { env, dataDir } = options;
  const fromEnv = configuredSecretKey(env);
  const current = fromEnv ? await keyFromText(fromEnv) : await keyFromFile(join(dataDir, SECRET_KEY_FILE));
  const previousTexts = (env[PREVIOUS_SECRET_KEYS_ENV] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  return createSecretBox(current, await Promise.all(previousTexts.map(keyFromText)));
}

async function keyFromFile(path: string): Promise<Buffer> {
  await mkdir(join(path, '..'), { recursive: true });
  try {
    // 'wx': only the first of several processes sharing the data dir creates it; the others read it.
    const handle = await open(path, 'wx', 0o600);
    try {
      const key = randomBytes(KEY_BYTES);
      await handle.writeFile(`${key.toString('base64')}\n`);
      await handle.sync();
      return key;
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const text = (await readFile(path, 'utf8')).trim();
  const key = Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== text)
    throw new SecretError(`${path} does not hold a ${KEY_BYTES}-byte base64 key; refusing to replace it`);
  // A file copied in with looser permissions is tightened rather than rejected.
  await chmod(path, 0o600);
  return key;
}

/**
 * What API responses show instead of a secret. Letta returns MCP tokens in clear (`auth_token: "Bearer …"`);
 * Cairn never does. An auth scheme is kept so a client can still tell a bearer token from a basic one.
 */
export const REDACTED = '****';
const SCHEME = /^(Bearer|Basic|Token|Bot)\s+/i;

export function redactSecret(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return value ?? null;
  const scheme = SCHEME.exec(value)?.[0] ?? '';
  return `${scheme}${REDACTED}`;
}

/** Every value of a header or environment map is treated as secret; the names stay visible. */
export function redactValues(record: Record<string, string> | null | undefined): Record<string, string> | null {
  if (!record) return record ?? null;
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name, redactSecret(value) ?? '']));
}

const REDACTED_FORM = new RegExp(`^(?:${SCHEME.source})?\\*{4}$`, 'i');

/** True for a value this module produced by redacting: a client that sends it back means "unchanged". */
export const isRedacted = (value: unknown): boolean => typeof value === 'string' && REDACTED_FORM.test(value);

/**
 * An update that echoes redacted values back (clients that PATCH the object they read) keeps the stored ones:
 * per value for maps (a redacted value with nothing stored under its name is dropped), whole for a single secret.
 */
export function keepRedacted(incoming: string | null | undefined, stored: string | null | undefined) {
  return isRedacted(incoming) ? stored : incoming;
}

export function keepRedactedValues(
  incoming: Record<string, string> | null | undefined,
  stored: Record<string, string> | null | undefined,
): Record<string, string> | null | undefined {
  if (!incoming) return incoming;
  return Object.fromEntries(
    Object.entries(incoming).flatMap(([name, value]): [string, string][] => {
      if (!isRedacted(value)) return [[name, value]];
      const kept = stored?.[name];
      return kept === undefined ? [] : [[name, kept]];
    }),
  );
}
