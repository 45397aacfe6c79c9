import { z } from 'zod';
import { opt } from './common.js';

/** Upstream's `ProviderType` enum: a type Cairn cannot call is refused by the service, not here (its text says why). */
export const providerTypeSchema = z.enum([
  'anthropic',
  'azure',
  'baseten',
  'bedrock',
  'cerebras',
  'chatgpt_oauth',
  'deepseek',
  'fireworks',
  'google_ai',
  'google_vertex',
  'groq',
  'hugging-face',
  'letta',
  'lmstudio_openai',
  'minimax',
  'mistral',
  'ollama',
  'openai',
  'together',
  'vllm',
  'sglang',
  'openrouter',
  'xai',
  'zai',
  'zai_coding',
]);

const providerFields = {
  access_key: opt(z.string()),
  region: opt(z.string()),
  base_url: opt(z.string()),
  api_version: opt(z.string()),
};

export const providerCreateSchema = z
  .object({ name: z.string().min(1), provider_type: providerTypeSchema, api_key: z.string(), ...providerFields })
  .meta({ id: 'ProviderCreate' });

export const providerUpdateSchema = z.object({ api_key: z.string(), ...providerFields }).meta({ id: 'ProviderUpdate' });

export const providerCheckSchema = z
  .object({ provider_type: providerTypeSchema, api_key: z.string(), ...providerFields })
  .meta({ id: 'ProviderCheck' });
