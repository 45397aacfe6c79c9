/** What every sandbox takes and gives; the tool executor and `POST /v1/tools/run` speak only this. */
export type ToolSourceType = 'python' | 'javascript' | 'typescript';

export interface PipRequirement {
  name: string;
  version?: string | null;
}

export interface ToolRunRequest {
  sourceCode: string;
  sourceType: ToolSourceType;
  /** The tool's name: the function to call. */
  functionName: string;
  /** Already parsed; the caller keeps only the names of `json_schema.parameters.properties`, as Letta does. */
  args: Record<string, unknown>;
  /** Fully layered by the caller (see `layerToolEnv`); nothing of the server's own environment is added. */
  envVars: Record<string, string>;
  /** The agent's state as the API serializes it, or null outside an agent; Python tools that take it get a view. */
  agentState: Record<string, unknown> | null;
  pipRequirements: PipRequirement[];
  /** JavaScript tools are called positionally in the schema's order (required first), as Letta's generator does. */
  jsonSchema?: Record<string, unknown> | null;
  /** Wall clock, from the moment the run is queued. */
  timeoutMs: number;
  /** Bytes of stdout plus stderr; past it the run is stopped. */
  outputLimitBytes: number;
}

/** Letta's `ToolExecutionResult` (its deprecated `agent_state` and the fingerprint aside). */
export interface ToolRunResult {
  status: 'success' | 'error';
  /** What the function returned, as JSON (a string, number, object, …), or Letta's error text. */
  funcReturn: unknown;
  stdout: string[];
  stderr: string[];
}

export interface ToolRunner {
  run(request: ToolRunRequest): Promise<ToolRunResult>;
  /** Stops every worker or process; runs still going end with an error result. */
  close(): Promise<void>;
}

/** Letta's `MAX_ERROR_MESSAGE_CHAR_LIMIT`. */
const MAX_ERROR_MESSAGE_CHARS = 1000;

/** Letta's `get_friendly_error_msg`: "Error executing function {name}: {Exc}: {msg}", capped at 1000 characters. */
export function toolErrorText(functionName: string, exceptionName: string, message: string): string {
  return `Error executing function ${functionName}: ${exceptionName}: ${message}`.slice(0, MAX_ERROR_MESSAGE_CHARS);
}

type Output = { stdout?: string; stderr?: string };

export function errorResult(
  request: Pick<ToolRunRequest, 'functionName'>,
  exceptionName: string,
  message: string,
  output: Output = {},
): ToolRunResult {
  return {
    status: 'error',
    funcReturn: toolErrorText(request.functionName, exceptionName, message),
    stdout: output.stdout ? [output.stdout] : [],
    stderr: output.stderr ? [output.stderr] : [],
  };
}

/** The run passed its wall-clock limit and was stopped. */
export const timeoutResult = (request: Pick<ToolRunRequest, 'functionName' | 'timeoutMs'>, output: Output = {}) =>
  errorResult(request, 'TimeoutError', `the tool did not finish within ${request.timeoutMs / 1000} s`, output);

/** The run printed past its output cap and was stopped. */
export const outputExceededResult = (
  request: Pick<ToolRunRequest, 'functionName' | 'outputLimitBytes'>,
  output: Output = {},
) =>
  errorResult(request, 'OutputLimitExceeded', `the tool printed more than ${request.outputLimitBytes} bytes`, output);

export interface ToolEnvLayers {
  /** The sandbox configuration's variables (Letta's global sandbox env vars). */
  sandboxEnv?: Record<string, string | null | undefined>;
  /** The agent's `tool_exec_environment_variables` / secrets. */
  agentEnv?: Record<string, string | null | undefined>;
  /** Per-call additions (e.g. `env_vars` of `POST /v1/tools/run`), the highest layer. */
  runtimeEnv?: Record<string, string | null | undefined>;
  agentId?: string | null;
  projectId?: string | null;
  toolId?: string | null;
}

/**
 * Letta's `_gather_env_vars` without its lowest layer: Letta copies the server's whole environment into a local
 * sandbox, which would hand every tool the server's API keys and database URI, so Cairn starts from nothing.
 */
export function layerToolEnv(layers: ToolEnvLayers): Record<string, string> {
  const env: Record<string, string | null | undefined> = {
    ...layers.sandboxEnv,
    ...layers.agentEnv,
    ...layers.runtimeEnv,
  };
  if (layers.agentId) env.LETTA_AGENT_ID = layers.agentId;
  if (layers.projectId) env.LETTA_PROJECT_ID = layers.projectId;
  if (layers.toolId) env.LETTA_TOOL_ID = layers.toolId;
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** The result JSON the Python harness prints, turned into Letta's result. */
export function resultFromHarness(
  request: Pick<ToolRunRequest, 'functionName'>,
  harnessJson: string,
  stdout: string,
  stderr: string,
): ToolRunResult {
  let parsed: { ok: boolean; results?: unknown; exc?: string; msg?: string };
  try {
    parsed = JSON.parse(harnessJson) as typeof parsed;
  } catch {
    // Only the tool's own interpreter can have mangled its answer (say, by patching json): its own run fails.
    return errorResult(request, 'SandboxError', 'the tool returned a malformed result', { stdout, stderr });
  }
  if (!parsed.ok) return errorResult(request, parsed.exc ?? 'Exception', parsed.msg ?? '', { stdout, stderr });
  return {
    status: 'success',
    funcReturn: parsed.results ?? null,
    stdout: stdout ? [stdout] : [],
    stderr: stderr ? [stderr] : [],
  };
}
