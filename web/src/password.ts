/**
 * The server password, asked once per tab. It lives in this tab's sessionStorage only encrypted, under an AES-GCM
 * key that cannot be exported (kept in IndexedDB as a CryptoKey object): storage read from disk or by another
 * page holds no password in clear, a reload of the tab keeps it, and a new tab asks again. Without Web Crypto (a
 * page served over plain http beyond localhost) it is kept in memory only, and asked again after a reload.
 */
const STORAGE_KEY = 'cairn.password';
const DB_NAME = 'cairn-inspector';

let inMemory: string | null = null;

function openKeys(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error ?? new Error('indexedDB'));
  });
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('indexedDB'));
  });
}

async function wrappingKey(): Promise<CryptoKey> {
  const db = await openKeys();
  try {
    const found = await request(db.transaction('keys').objectStore('keys').get('password'));
    if (found instanceof CryptoKey) return found;
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    await request(db.transaction('keys', 'readwrite').objectStore('keys').put(key, 'password'));
    return key;
  } finally {
    db.close();
  }
}

const canEncrypt = () => typeof crypto !== 'undefined' && crypto.subtle !== undefined && 'indexedDB' in globalThis;

export function currentPassword(): string | null {
  return inMemory;
}

export async function rememberPassword(password: string): Promise<void> {
  inMemory = password;
  if (!canEncrypt()) return;
  try {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await wrappingKey(), new TextEncoder().encode(password)),
    );
    const bytes = new Uint8Array(iv.length + sealed.length);
    bytes.set(iv);
    bytes.set(sealed, iv.length);
    sessionStorage.setItem(STORAGE_KEY, btoa(String.fromCharCode(...bytes)));
  } catch {
    // Storage refused (private mode, quota): the password stays in memory for this page.
  }
}

/** The password this tab stored, if any; a stored value that no longer decrypts is dropped. */
export async function restorePassword(): Promise<string | null> {
  const stored = sessionStorage.getItem(STORAGE_KEY);
  if (!stored || !canEncrypt()) return inMemory;
  try {
    const bytes = Uint8Array.from(atob(stored), (c) => c.charCodeAt(0));
    const opened = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.slice(0, 12) },
      await wrappingKey(),
      bytes.slice(12),
    );
    inMemory = new TextDecoder().decode(opened);
  } catch {
    sessionStorage.removeItem(STORAGE_KEY);
  }
  return inMemory;
}

export function forgetPassword(): void {
  inMemory = null;
  sessionStorage.removeItem(STORAGE_KEY);
}
