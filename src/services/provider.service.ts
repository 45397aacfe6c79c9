import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { CairnBodyError, CairnError, conflict, invalidField, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { keepRedacted, redactSecret, SecretError, type SecretBox } from '../lib/secrets.js';
import { nowIso } from '../lib/time.js';
import { byokProviderSettings, ByokConfigError, fallbackModels, listProviderModels } from '../llm/byok.js';
import { modelInfo } from '../llm/models.js';
import type { ProviderSettings } from '../llm/settings.js';
import { LlmError, type LlmModelInfo, type LlmProviders } from '../llm/types.js';
import type { Stores } from '../store/index.js';
import type { ProviderRecord } from '../store/provider.store.js';

/** A stable `provider-<uuid4>` per provider name, so the id of an operator-configured provider survives restarts. */
function providerId(name: string): string {
  const h = createHash('sha256').update(`cairn-provider:${name}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `provider-${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Letta's `Provider`, with every secret left out: the key stays in the operator's environment. */
function toProvider(p: ProviderSettings) {
  return {
    id: providerId(p.name),
    name: p.name,
    provider_type: p.providerType,
    provider_category: 'base' as const,
    api_key: null,
    base_url: p.baseUrl,
    access_key: null,
    region: null,
    api_version: null,
    updated_at: null,
    last_synced: null,
    api_key_enc: null,
    access_key_enc: null,
  };
}

type ProviderResponse = ReturnType<typeof toProvider> | ReturnType<typeof byokProvider>;

/** A BYOK provider as Letta returns it, except that its keys are redacted, never sent in clear nor sealed. */
function byokProvider(row: ProviderRecord) {
  return {
    id: row.id,
    name: row.name,
    provider_type: row.provider_type,
    provider_category: 'byok' as const,
    api_key: row.api_key_enc ? redactSecret('key') : null,
    base_url: row.base_url,
    access_key: row.access_key_enc ? redactSecret('key') : null,
    region: row.region,
    api_version: row.api_version,
    updated_at: row.updated_at,
    last_synced: row.last_synced,
    api_key_enc: null,
    access_key_enc: null,
  };
}

export interface ProviderFields {
  api_key?: string | undefined;
  access_key?: string | null | undefined;
  region?: string | null | undefined;
  base_url?: string | null | undefined;
  api_version?: string | null | undefined;
}

export interface ProviderCreate extends ProviderFields {
  name: string;
  provider_type: string;
}

export interface ProviderCheck extends ProviderFields {
  provider_type: string;
}

/** Letta turns empty strings in a provider body into "not given". */
const given = (value: string | null | undefined) => (value === '' || value === null ? undefined : value);

const sealContext = (id: string, field: 'api_key' | 'access_key') => `provider:${id}:${field}`;

/**
 * `/v1/providers`: the providers the environment configures (Letta's `base` category, read-only) and the BYOK ones
 * clients register (`byok`), whose keys are sealed at rest. Every change to the BYOK ones is handed to the LLM
 * layer at once, so an agent whose handle names a BYOK provider runs its turns against that provider's URL and key.
 */
export class ProviderService {
  constructor(
    private readonly llm: LlmProviders,
    private readonly stores: Stores,
    private readonly box: SecretBox,
    private readonly options: {
      isUniqueViolation(error: unknown): boolean;
      logger: Logger;
      /** `CAIRN_BYOK_BASE_URLS`: per provider type, where a provider registered without `base_url` is called. */
      defaultBaseUrls: Record<string, string>;
    },
  ) {}

  /** Registers the stored BYOK providers with the LLM layer (at startup; a list refreshes it too). */
  async load(): Promise<ProviderRecord[]> {
    const rows = await this.stores.providers.list();
    this.llm.useByok(rows.flatMap((row) => this.callable(row)));
    return rows;
  }

  async list(filter: { name?: string | undefined; providerType?: string | undefined }): Promise<ProviderResponse[]> {
    const rows = await this.load();
    const all: ProviderResponse[] = [...this.llm.configured().map(toProvider), ...rows.map(byokProvider)];
    return all.filter(
      (p) =>
        (!filter.name || p.name === filter.name) && (!filter.providerType || p.provider_type === filter.providerType),
    );
  }

  async get(id: string): Promise<ProviderResponse> {
    const base = this.llm.configured().find((p) => providerId(p.name) === id);
    if (base) return toProvider(base);
    return byokProvider(await this.row(id));
  }

  async create(body: ProviderCreate) {
    if (body.name.includes('/'))
      throw invalidField(
        ['body', 'name'],
        "A provider name cannot contain '/': it is a model handle's prefix",
        body.name,
      );
    if (this.llm.configured().some((p) => p.name === body.name)) throw this.nameTaken(body.name);
    const apiKey = given(body.api_key);
    const baseUrl = given(body.base_url) ?? null;
    const settings = this.settingsFor({ name: body.name, providerType: body.provider_type, apiKey, baseUrl });
    const id = newId('provider');
    const now = nowIso();
    const accessKey = given(body.access_key);
    const row: Omit<ProviderRecord, 'seq'> = {
      id,
      name: body.name,
      provider_type: body.provider_type,
      base_url: baseUrl,
      region: given(body.region) ?? null,
      api_version: given(body.api_version) ?? null,
      api_key_enc: apiKey ? this.box.encrypt(apiKey, sealContext(id, 'api_key')) : null,
      access_key_enc: accessKey ? this.box.encrypt(accessKey, sealContext(id, 'access_key')) : null,
      // Letta syncs a new provider's models at once and keeps the provider when that fails.
      ...(await this.syncedModels(settings)),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.stores.transaction(async (tx) => {
        if (await tx.providers.findByName(body.name)) throw this.nameTaken(body.name);
        await tx.providers.insert(row);
      });
    } catch (error) {
      // Two creates of one name racing past the check: the unique index decides.
      if (this.options.isUniqueViolation(error)) throw this.nameTaken(body.name);
      throw error;
    }
    await this.load();
    return byokProvider((await this.stores.providers.findById(id))!);
  }

  async update(id: string, body: ProviderFields) {
    const row = await this.row(id);
    const storedKey = this.open(row, 'api_key');
    const storedAccess = this.open(row, 'access_key');
    const apiKey = keepRedacted(given(body.api_key), storedKey) ?? undefined;
    const accessKey = body.access_key === undefined ? storedAccess : keepRedacted(given(body.access_key), storedAccess);
    const baseUrl = body.base_url === undefined ? row.base_url : (given(body.base_url) ?? null);
    const settings = this.settingsFor({ name: row.name, providerType: row.provider_type, apiKey, baseUrl });
    await this.stores.providers.update(id, {
      base_url: baseUrl,
      region: body.region === undefined ? row.region : (given(body.region) ?? null),
      api_version: body.api_version === undefined ? row.api_version : (given(body.api_version) ?? null),
      api_key_enc: apiKey ? this.box.encrypt(apiKey, sealContext(id, 'api_key')) : null,
      access_key_enc: accessKey ? this.box.encrypt(accessKey, sealContext(id, 'access_key')) : null,
      ...(await this.syncedModels(settings)),
      updated_at: nowIso(),
    });
    await this.load();
    return byokProvider(await this.row(id));
  }

  async delete(id: string): Promise<{ message: string }> {
    if (this.llm.configured().some((p) => providerId(p.name) === id))
      throw new CairnError(400, 'A provider configured by the server environment cannot be deleted');
    if (!(await this.stores.providers.delete(id))) throw this.missing(id);
    await this.load();
    return { message: `Provider id=${id} successfully deleted` };
  }

  /** `POST /v1/providers/check`: asks the provider, with the key given, for its models. */
  async check(body: ProviderCheck): Promise<{ message: string }> {
    const apiKey = given(body.api_key);
    if (!apiKey) throw invalidField(['body', 'api_key'], 'API key is required!', body.api_key);
    const settings = this.settingsFor({
      name: body.provider_type,
      providerType: body.provider_type,
      apiKey,
      baseUrl: given(body.base_url),
    });
    await this.ask(settings);
    return { message: `Valid api key for provider_type=${body.provider_type}` };
  }

  async checkExisting(id: string): Promise<{ message: string }> {
    const base = this.llm.configured().find((p) => providerId(p.name) === id);
    const settings = base ?? this.callable(await this.row(id))[0];
    if (!settings) throw new CairnError(400, `Provider id=${id} cannot be opened: its key is unreadable`);
    await this.ask(settings);
    return { message: `Valid api key for provider_type=${settings.providerType}` };
  }

  /** `PATCH /v1/providers/{id}/refresh`: lists the provider's models again. Unlike create, a failure is reported. */
  async refresh(id: string) {
    const row = await this.row(id);
    const settings = this.callable(row)[0];
    if (!settings) throw new CairnError(400, `Provider id=${id} cannot be opened: its key is unreadable`);
    const models = await this.ask(settings);
    await this.stores.providers.update(id, { models: JSON.stringify(models), last_synced: nowIso() });
    return byokProvider(await this.row(id));
  }

  /** The models of every BYOK provider, as `GET /v1/models/` lists them: `<provider name>/<model>`. */
  async byokModels(): Promise<LlmModelInfo[]> {
    const rows = await this.load();
    return rows.flatMap((row) => {
      const settings = this.callable(row)[0];
      if (!settings) return [];
      const models = JSON.parse(row.models) as string[];
      return models.map((model) => modelInfo(settings, model));
    });
  }

  private async ask(settings: ProviderSettings): Promise<string[]> {
    try {
      return await listProviderModels(settings);
    } catch (error) {
      if (!(error instanceof LlmError)) throw error;
      // Letta's shapes: 401 `llm_authentication` for a rejected key, `llm_error` for any other provider failure
      // (Letta answers that with a 500; the fault is upstream, so a 502 here).
      if (error.kind === 'authentication')
        throw new CairnBodyError(401, {
          error: {
            type: 'llm_authentication',
            message: 'Authentication failed with the LLM model provider.',
            detail: error.message,
          },
        });
      throw new CairnBodyError(502, {
        error: { type: 'llm_error', message: 'An error occurred with the LLM request.', detail: error.message },
      });
    }
  }

  private async syncedModels(settings: ProviderSettings): Promise<{ models: string; last_synced: string | null }> {
    try {
      return { models: JSON.stringify(await listProviderModels(settings)), last_synced: nowIso() };
    } catch (error) {
      this.options.logger.warn(
        { provider: settings.name, err: error instanceof Error ? error.message : String(error) },
        'could not list the models of a BYOK provider; listing its well-known models',
      );
      return { models: JSON.stringify(fallbackModels(settings.providerType)), last_synced: null };
    }
  }

  private settingsFor(input: Parameters<typeof byokProviderSettings>[0]): ProviderSettings {
    try {
      return byokProviderSettings(input, this.options.defaultBaseUrls);
    } catch (error) {
      if (error instanceof ByokConfigError) throw new CairnError(400, error.message);
      throw error;
    }
  }

  /** The row's settings with its key opened, or none when the key cannot be opened (a lost or rotated-away key). */
  private callable(row: ProviderRecord): ProviderSettings[] {
    const apiKey = this.open(row, 'api_key');
    if (row.api_key_enc && apiKey === undefined) return [];
    try {
      const input = { name: row.name, providerType: row.provider_type, apiKey, baseUrl: row.base_url };
      return [byokProviderSettings(input, this.options.defaultBaseUrls)];
    } catch (error) {
      this.options.logger.warn(
        { provider: row.name, err: error instanceof Error ? error.message : String(error) },
        'BYOK provider cannot be used',
      );
      return [];
    }
  }

  private open(row: ProviderRecord, field: 'api_key' | 'access_key'): string | undefined {
    const sealed = field === 'api_key' ? row.api_key_enc : row.access_key_enc;
    if (!sealed) return undefined;
    try {
      return this.box.decrypt(sealed, sealContext(row.id, field));
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      // A key sealed with a key no longer configured: the provider is unusable until a new key is set.
      this.options.logger.warn({ provider: row.name, field, err: error.message }, 'BYOK provider key cannot be opened');
      return undefined;
    }
  }

  private async row(id: string): Promise<ProviderRecord> {
    const row = await this.stores.providers.findById(id);
    if (!row) throw this.missing(id);
    return row;
  }

  private missing(id: string): CairnError {
    return notFound(`Provider with id '${id}' not found`);
  }

  private nameTaken(name: string): CairnError {
    return conflict(`A provider named '${name}' already exists`);
  }
}
