import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { badRequest, CairnError, conflict, notFound } from '../lib/errors.js';
import { isId, newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import type {
  Organization,
  OrganizationCreate,
  OrganizationUpdate,
  User,
  UserCreate,
  UserUpdate,
} from '../schemas/tenancy.js';
import type { ApiKeyRecord, OrganizationRecord, TenancyStore, UserRecord } from '../store/tenancy.store.js';

/** Letta's fixed default actor (`letta/constants.py`): the main database's data is this organisation's. */
export const DEFAULT_ORG_ID = 'org-00000000-0000-4000-8000-000000000000';
export const DEFAULT_USER_ID = 'user-00000000-0000-4000-8000-000000000000';
const DEFAULT_ORG_NAME = 'default_org';
const DEFAULT_USER_NAME = 'default_user';

/** Who a request acts as. `admin`: may manage organisations and users, and act as any user (`user_id`). */
export interface Principal {
  organizationId: string;
  userId: string;
  admin: boolean;
}

export const DEFAULT_ADMIN: Principal = { organizationId: DEFAULT_ORG_ID, userId: DEFAULT_USER_ID, admin: true };

/** What `cairn keys list` shows of a key: never the key, which is not stored. */
export interface ApiKeyInfo {
  id: string;
  prefix: string;
  organization_id: string;
  organization_name: string;
  user_id: string;
  user_name: string;
  is_admin: boolean;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const KEY_SCHEME = 'cairn';
const PREFIX_HEX = 12;
/** Recording every use would make each request a write; a minute's precision is what an operator needs. */
const LAST_USED_PRECISION_MS = 60_000;

const hashOf = (key: string) => createHash('sha256').update(key).digest();

const toOrganization = (row: OrganizationRecord): Organization => ({
  id: row.id,
  name: row.name,
  created_at: row.created_at,
  privileged_tools: row.privileged_tools === 1,
});

const toUser = (row: UserRecord): User => ({
  id: row.id,
  organization_id: row.organization_id,
  name: row.name,
  created_at: row.created_at,
  updated_at: row.updated_at,
  is_deleted: false,
});

/**
 * Organisations, users and API keys (the control plane in the main database), and which of them a request's
 * credential and `user_id` header make it act as.
 */
export class TenancyService {
  constructor(
    private readonly store: TenancyStore,
    private readonly isUniqueViolation: (error: unknown) => boolean,
  ) {}

  async ensureDefaults(): Promise<void> {
    const now = nowIso();
    await this.store.ensureOrganization({
      id: DEFAULT_ORG_ID,
      name: DEFAULT_ORG_NAME,
      privileged_tools: 0,
      created_at: now,
      updated_at: now,
    });
    await this.store.ensureUser({
      id: DEFAULT_USER_ID,
      organization_id: DEFAULT_ORG_ID,
      name: DEFAULT_USER_NAME,
      created_at: now,
      updated_at: now,
    });
  }

  async listOrganizations(page: { after?: string | undefined; limit: number }): Promise<Organization[]> {
    return (await this.store.listOrganizations({ after: page.after, limit: page.limit, order: 'asc' })).map(
      toOrganization,
    );
  }

  async createOrganization(body: OrganizationCreate): Promise<Organization> {
    const now = nowIso();
    const row = {
      id: newId('org'),
      // Letta names an unnamed organisation itself; a readable unique name keeps `--org <name>` usable.
      name: body.name ?? `org-${randomBytes(4).toString('hex')}`,
      privileged_tools: body.privileged_tools ? 1 : 0,
      created_at: now,
      updated_at: now,
    };
    await this.unique(() => this.store.insertOrganization(row), `An organization named '${row.name}' already exists`);
    return toOrganization({ ...row, seq: 0 });
  }

  async updateOrganization(id: string, body: OrganizationUpdate): Promise<Organization> {
    await this.organization(id);
    const patch = {
      ...(body.name != null ? { name: body.name } : {}),
      ...(body.privileged_tools != null ? { privileged_tools: body.privileged_tools ? 1 : 0 } : {}),
      updated_at: nowIso(),
    };
    await this.unique(
      () => this.store.updateOrganization(id, patch),
      `An organization named '${body.name}' already exists`,
    );
    return this.organization(id);
  }

  /** The caller removes the organisation's data (TenantRegistry.destroy) once this has succeeded. */
  async deleteOrganization(id: string): Promise<Organization> {
    if (id === DEFAULT_ORG_ID) throw badRequest('The default organization cannot be deleted');
    const organization = await this.organization(id);
    await this.store.deleteOrganization(id);
    return organization;
  }

  async organization(id: string): Promise<Organization> {
    const row = await this.store.findOrganization(id);
    if (!row) throw notFound(`Organization with id '${id}' not found`);
    return toOrganization(row);
  }

  async listUsers(page: { after?: string | undefined; limit: number }): Promise<User[]> {
    return (await this.store.listUsers({ after: page.after, limit: page.limit, order: 'asc' })).map(toUser);
  }

  async createUser(body: UserCreate): Promise<User> {
    const organizationId = body.organization_id ?? DEFAULT_ORG_ID;
    await this.organization(organizationId);
    const now = nowIso();
    const row = {
      id: newId('user'),
      organization_id: organizationId,
      name: body.name,
      created_at: now,
      updated_at: now,
    };
    await this.store.insertUser(row);
    return toUser({ ...row, seq: 0 });
  }

  async updateUser(body: UserUpdate): Promise<User> {
    const existing = await this.user(body.id);
    // Moving a user would leave its keys pointing into the organisation it left.
    if (body.organization_id && body.organization_id !== existing.organization_id)
      throw badRequest("A user's organization cannot be changed; create a user in the other organization");
    await this.store.updateUser(body.id, { ...(body.name ? { name: body.name } : {}), updated_at: nowIso() });
    return this.user(body.id);
  }

  async deleteUser(id: string): Promise<User> {
    if (id === DEFAULT_USER_ID) throw badRequest('The default user cannot be deleted');
    const user = await this.user(id);
    await this.store.deleteUser(id);
    return user;
  }

  async user(id: string): Promise<User> {
    const row = await this.store.findUser(id);
    if (!row) throw notFound(`User with id '${id}' not found`);
    return toUser(row);
  }

  /**
   * A new key for the named user of the named organisation (the default one without a name), creating either when
   * missing. The key is returned once, here; only its hash is kept.
   */
  async createKey(options: {
    user: string;
    organization?: string | undefined;
    admin: boolean;
  }): Promise<{ key: string; info: ApiKeyInfo }> {
    const organization = options.organization
      ? ((await this.store.findOrganizationByName(options.organization)) ??
        (await this.findOrCreateOrganization(options.organization)))
      : await this.store.findOrganization(DEFAULT_ORG_ID);
    if (!organization) throw new Error('the default organization is missing');
    const user =
      (await this.store.findUserByName(organization.id, options.user)) ??
      (await this.createUser({ name: options.user, organization_id: organization.id }));
    const prefix = randomBytes(PREFIX_HEX / 2).toString('hex');
    const key = `${KEY_SCHEME}-${prefix}-${randomBytes(24).toString('base64url')}`;
    const row: Omit<ApiKeyRecord, 'seq'> = {
      // Not one of Letta's primitive ids: Letta has no API keys of its own.
      id: `apikey-${randomUUID()}`,
      prefix,
      key_hash: hashOf(key).toString('hex'),
      user_id: user.id,
      organization_id: organization.id,
      is_admin: options.admin ? 1 : 0,
      created_at: nowIso(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.store.insertKey(row);
    return { key, info: this.keyInfo(row, organization.name, user.name) };
  }

  async listKeys(): Promise<ApiKeyInfo[]> {
    const [keys, organizations, users] = await Promise.all([
      this.store.listKeys(),
      this.store.listOrganizations({ limit: 10_000, order: 'asc' }),
      this.store.listUsers({ limit: 10_000, order: 'asc' }),
    ]);
    const orgNames = new Map(organizations.map((o) => [o.id, o.name]));
    const userNames = new Map(users.map((u) => [u.id, u.name]));
    return keys.map((k) => this.keyInfo(k, orgNames.get(k.organization_id) ?? '', userNames.get(k.user_id) ?? ''));
  }

  /** By id or prefix; false when no active key has it. */
  revokeKey(idOrPrefix: string): Promise<boolean> {
    return this.store.revokeKey(idOrPrefix, nowIso());
  }

  hasActiveKeys(): Promise<boolean> {
    return this.store.anyActiveKey();
  }

  /** The principal of an active key, else undefined (an unknown, revoked or malformed key alike). */
  async authenticate(presented: string): Promise<Principal | undefined> {
    const [scheme, prefix] = presented.split('-', 2);
    if (scheme !== KEY_SCHEME || prefix?.length !== PREFIX_HEX) return undefined;
    const row = await this.store.findKeyByPrefix(prefix);
    if (!row || row.revoked_at !== null) return undefined;
    if (!timingSafeEqual(hashOf(presented), Buffer.from(row.key_hash, 'hex'))) return undefined;
    const now = Date.now();
    if (row.last_used_at === null || now - Date.parse(row.last_used_at) >= LAST_USED_PRECISION_MS)
      await this.store.touchKey(row.id, new Date(now).toISOString());
    return { organizationId: row.organization_id, userId: row.user_id, admin: row.is_admin === 1 };
  }

  /**
   * Letta's `user_id` header picks the acting user. An admin may pick any user (and so act in that user's
   * organisation); anyone else only a user of their own. Letta's classic MCP clients send an agent id there by
   * mistake, so anything that does not name a user the caller may act as leaves the caller as it was: an unknown
   * id and another organisation's alike, which says nothing about what exists elsewhere.
   */
  async actingAs(principal: Principal, userIdHeader: string | undefined): Promise<Principal> {
    if (!userIdHeader || !isId('user', userIdHeader) || userIdHeader === principal.userId) return principal;
    const user = await this.store.findUser(userIdHeader);
    if (!user || (!principal.admin && user.organization_id !== principal.organizationId)) return principal;
    return { ...principal, organizationId: user.organization_id, userId: user.id };
  }

  private async findOrCreateOrganization(name: string): Promise<OrganizationRecord> {
    try {
      await this.createOrganization({ name });
    } catch (error) {
      // A concurrent `cairn keys create` made it first; the lookup below finds theirs.
      if (!(error instanceof CairnError && error.status === 409)) throw error;
    }
    const created = await this.store.findOrganizationByName(name);
    if (!created) throw new Error(`organization '${name}' vanished while it was created`);
    return created;
  }

  private keyInfo(row: Omit<ApiKeyRecord, 'seq'>, organizationName: string, userName: string): ApiKeyInfo {
    return {
      id: row.id,
      prefix: row.prefix,
      organization_id: row.organization_id,
      organization_name: organizationName,
      user_id: row.user_id,
      user_name: userName,
      is_admin: row.is_admin === 1,
      created_at: row.created_at,
      last_used_at: row.last_used_at,
      revoked_at: row.revoked_at,
    };
  }

  private async unique(write: () => Promise<void>, message: string): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (this.isUniqueViolation(error)) throw conflict(message);
      throw error;
    }
  }
}
