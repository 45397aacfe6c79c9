import { createHash } from 'node:crypto';
import { notFound } from '../lib/errors.js';
import type { LlmProviders } from '../llm/types.js';
import type { ProviderSettings } from '../llm/settings.js';

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
    organization_id: null,
    updated_at: null,
    last_synced: null,
    api_key_enc: null,
    access_key_enc: null,
  };
}

/** `GET /v1/providers`: the LLM providers this server's environment configures (Letta's `base` category). */
export class ProviderService {
  constructor(private readonly llm: LlmProviders) {}

  list(filter: { name?: string | undefined; providerType?: string | undefined }) {
    return this.llm
      .configured()
      .filter(
        (p) =>
          (!filter.name || p.name === filter.name) && (!filter.providerType || p.providerType === filter.providerType),
      )
      .map(toProvider);
  }

  get(id: string) {
    const provider = this.llm.configured().find((p) => providerId(p.name) === id);
    if (!provider) throw notFound(`Provider with id '${id}' not found`);
    return toProvider(provider);
  }
}
