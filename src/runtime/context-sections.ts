/** The sections of a compiled system message, as Letta's context-window overview splits it. */
export interface SystemSections {
  /** `<base_instructions>…</base_instructions>`, or for a custom prompt the text before the first section. */
  systemPrompt: string | null;
  coreMemory: string | null;
  toolUsageRules: string | null;
  directories: string | null;
  externalMemorySummary: string | null;
}

const SECTION_TAGS = [
  '<memory_blocks>',
  '<memory_filesystem>',
  '<tool_usage_rules>',
  '<directories>',
  '<memory_metadata>',
];

/** The first `<tag>…</tag>`, tags included. */
function tagged(text: string, tag: string, from = 0): string | null {
  const start = text.indexOf(`<${tag}>`, from);
  if (start < 0) return null;
  const end = text.indexOf(`</${tag}>`, start);
  return end < 0 ? null : text.slice(start, end + tag.length + 3);
}

/** A section outside `<memory_blocks>`: a block may be labelled like a section and render as that tag inside it. */
function topLevel(text: string, tag: string): string | null {
  const open = text.indexOf('<memory_blocks>');
  const close = text.indexOf('</memory_blocks>');
  let from = 0;
  for (;;) {
    const at = text.indexOf(`<${tag}>`, from);
    if (at < 0) return null;
    if (open >= 0 && close >= 0 && open < at && at < close) {
      from = at + tag.length + 2;
      continue;
    }
    return tagged(text, tag, at);
  }
}

/**
 * Each part is counted once: the base instructions alone are the "system" figure, and the memory blocks, rules and
 * metadata are figures of their own (Letta's `ContextWindowCalculator.extract_system_components`).
 */
export function systemSections(system: string): SystemSections {
  let systemPrompt = tagged(system, 'base_instructions');
  if (systemPrompt === null) {
    const firstSection = Math.min(...SECTION_TAGS.map((t) => system.indexOf(t)).filter((i) => i >= 0), system.length);
    systemPrompt = system.slice(0, firstSection).trim() || null;
  }
  return {
    systemPrompt,
    coreMemory: tagged(system, 'memory_blocks'),
    toolUsageRules: topLevel(system, 'tool_usage_rules'),
    directories: topLevel(system, 'directories'),
    externalMemorySummary: tagged(system, 'memory_metadata'),
  };
}
