import { visibleContent } from '../files.js';

export interface PromptFolder {
  id: string;
  name: string;
  description: string | null;
  instructions: string | null;
}

export interface PromptFile {
  folderId: string;
  fileName: string;
  isOpen: boolean;
  visibleContent: string | null;
}

/**
 * `Memory._render_directories_common` (`letta/schemas/memory.py`, §7.3): appended after the memory blocks and tool
 * rules when the agent has folders. A file is open when its (truncated) view is non-empty; files render read-only
 * with the per-file character limit, as Letta's `FileBlock`s do. React and workflow agents get Letta's other layout.
 */
export function compileDirectories(
  folders: PromptFolder[],
  files: PromptFile[],
  limits: { maxFilesOpen: number; charLimit: number },
  agentType: string,
): string {
  if (folders.length === 0) return '';
  const react = agentType === 'react_agent' || agentType === 'workflow_agent';
  const views = files.map((f) => ({ ...f, value: visibleContent(f.visibleContent, f.isOpen, limits.charLimit) }));
  let s = '\n\n<directories>\n';
  s += `<file_limits>\n- current_files_open=${views.filter((v) => v.value).length}\n- max_files_open=${limits.maxFilesOpen}\n</file_limits>\n`;
  for (const folder of folders) {
    s += `<directory name="${folder.name}">\n`;
    if (folder.description) s += `<description>${folder.description}</description>\n`;
    if (folder.instructions) s += `<instructions>${folder.instructions}</instructions>\n`;
    for (const file of views) {
      if (file.folderId !== folder.id) continue;
      const status = file.value ? 'open' : 'closed';
      const metadata = `<metadata>\n- read_only=true\n- chars_current=${file.value.length}\n- chars_limit=${limits.charLimit}\n</metadata>\n`;
      if (react) {
        s += `<file status="${status}">\n<${file.fileName}>\n<description>\n\n</description>\n${metadata}<value>\n${file.value}\n</value>\n</${file.fileName}>\n</file>\n`;
      } else {
        s += `<file status="${status}" name="${file.fileName}">\n${metadata}`;
        if (file.value) s += `<value>\n${file.value}\n</value>\n`;
        s += '</file>\n';
      }
    }
    s += '</directory>\n';
  }
  return `${s}</directories>`;
}
