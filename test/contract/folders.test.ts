import { BadRequestError, NotFoundError, toFile } from '@letta-ai/letta-client';
import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import { http } from '../support/http.js';
import { expectLettaSchema } from '../support/openapi.js';
import { useRuntime, waitFor } from '../runtime/harness.js';

/** A one-page PDF whose page shows `lines` in Helvetica, with a correct cross-reference table. */
function pdfOf(lines: string[]): Buffer {
  const stream = `BT /F1 12 Tf 72 720 Td 14 TL ${lines.map((l) => `(${l}) Tj T*`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

describe.each(testDialects())('folders and sources [%s]', (dialect) => {
  const h = useRuntime(dialect);
  const url = (path: string) => `${h.server.baseURL}/v1${path}`;
  const settle = () => h.server.cairn.services.folders.idle();
  const done = async (folderId: string, fileId: string) =>
    waitFor(async () => {
      const file = await h.server.client.folders.files.retrieve(fileId, { folder_id: folderId });
      return file.processing_status === 'completed' || file.processing_status === 'error' ? file : undefined;
    }, 30_000);

  it('creates, lists, counts, renames and deletes folders, under both names', async () => {
    const folder = await h.server.client.folders.create({
      name: 'handbook',
      description: 'Team handbook',
      instructions: 'Cite the section',
      metadata: { owner: 'ops' },
    });
    expectLettaSchema('Folder', folder);
    expect(folder.id).toMatch(/^source-/);
    expect(folder).toMatchObject({ name: 'handbook', description: 'Team handbook', instructions: 'Cite the section' });
    expect(folder.embedding_config.handle).toBe('local/use-lite');

    expect((await h.server.client.folders.retrieve(folder.id)).name).toBe('handbook');
    expect((await http('GET', url(`/sources/${folder.id}`))).body.name).toBe('handbook');
    expect((await http('GET', url('/folders/count'))).body).toBeGreaterThanOrEqual(1);
    expect((await http('GET', url('/sources/count'))).body).toBe((await http('GET', url('/folders/count'))).body);
    expect((await http('GET', url('/folders/name/handbook'))).body).toBe(folder.id);
    expect((await http('GET', url('/folders/name/nope'))).status).toBe(404);

    const dup = await http('POST', url('/folders/'), { name: 'handbook' });
    expect(dup.status).toBe(409);
    const viaSources = await http('POST', url('/sources/'), { name: 'legacy-source' });
    expect(viaSources.status).toBe(200);
    expect(viaSources.body.id).toMatch(/^source-/);

    const updated = await h.server.client.folders.update(folder.id, { name: 'handbook-v2' });
    expect(updated.name).toBe('handbook-v2');
    const listed = await h.server.client.folders.list({ name: 'handbook-v2' });
    expect(listed.items.map((f) => f.id)).toEqual([folder.id]);

    const metadata = (await http('GET', url('/folders/metadata?include_detailed_per_source_metadata=true'))).body;
    expectLettaSchema('OrganizationSourcesStats', metadata);

    await h.server.client.folders.delete(folder.id);
    await expect(h.server.client.folders.retrieve(folder.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await http('DELETE', url(`/sources/${viaSources.body.id}`))).status).toBe(200);
    expect((await http('GET', url('/folders/not-an-id'))).status).toBe(422);
  });

  it('uploads text, Markdown, code, JSON, CSV, HTML and PDF through the SDK and processes them in the background', async () => {
    const folder = await h.server.client.folders.create({ name: `kinds-${dialect}` });
    const uploads: [string, string | Buffer, string][] = [
      ['notes.txt', 'first line\n\n  second line  \n', 'second line'],
      ['guide.md', '# Guide\n\nInstall it first. Then run it.', 'Install it first.'],
      ['main.py', 'def main():\n    return 42\n', '    return 42'],
      ['data.json', '{"answer": 42}', '"answer": 42'],
      ['table.csv', 'name,age\nada,36\n', 'ada,36'],
      [
        'page.html',
        '<html><head><style>p{}</style><script>evil()</script></head><body><p>Hello &amp; welcome</p></body></html>',
        'Hello & welcome',
      ],
      ['paper.pdf', pdfOf(['Quarterly revenue grew', 'by twelve percent']), 'Quarterly revenue grew'],
    ];
    for (const [name, body, expected] of uploads) {
      const uploaded = await h.server.client.folders.files.upload(folder.id, {
        file: await toFile(Buffer.from(body), name),
      });
      expectLettaSchema('FileMetadata', uploaded);
      expect(uploaded).toMatchObject({
        source_id: folder.id,
        file_name: `kinds-${dialect}/${name}`,
        original_file_name: name,
        processing_status: 'pending',
      });
      await settle();
      const file = await done(folder.id, uploaded.id);
      expect(file.processing_status, `${name}: ${file.error_message}`).toBe('completed');
      expect(file.total_chunks).toBeGreaterThan(0);
      expect(file.chunks_embedded).toBe(file.total_chunks);
      const full = await h.server.client.folders.files.retrieve(uploaded.id, {
        folder_id: folder.id,
        include_content: true,
      });
      expect(full.content).toContain(expected);
    }
    const html = await h.server.client.folders.files.list(folder.id, { include_content: true });
    expect(html.items.find((f) => f.original_file_name === 'page.html')?.content).not.toContain('evil');

    const passages = (await http('GET', url(`/folders/${folder.id}/passages`))).body;
    expect(passages.length).toBeGreaterThanOrEqual(uploads.length);
    for (const p of passages) expectLettaSchema('Passage', p);
    expect(passages.find((p: { text: string }) => p.text.includes('revenue'))).toMatchObject({
      source_id: folder.id,
      file_name: `kinds-${dialect}/paper.pdf`,
    });
  });

  it('refuses unsupported and oversized uploads with 4xx, and marks an unparsable file failed', async () => {
    const folder = await h.server.client.folders.create({ name: `bad-${dialect}` });
    const exe = await h.server.client.folders.files
      .upload(folder.id, { file: await toFile(Buffer.from([0x4d, 0x5a, 0, 1]), 'tool.exe') })
      .catch((e: unknown) => e as { status: number; message: string });
    expect(exe).toMatchObject({ status: 415 });
    expect((exe as { message: string }).message).toContain('Unsupported file type');

    const big = await h.server.client.folders.files
      .upload(folder.id, { file: await toFile(Buffer.alloc(50 * 1024 * 1024 + 10, 0x61), 'big.txt') })
      .catch((e: unknown) => e as { status: number });
    expect(big).toMatchObject({ status: 413 });

    const broken = await h.server.client.folders.files.upload(folder.id, {
      file: await toFile(Buffer.from('%PDF-1.4 this is not a pdf'), 'broken.pdf'),
    });
    await settle();
    const failed = await done(folder.id, broken.id);
    expect(failed.processing_status).toBe('error');
    expect(failed.error_message).toBeTruthy();
    const binary = await h.server.client.folders.files.upload(folder.id, {
      file: await toFile(Buffer.from([0xff, 0xfe, 0x00, 0x81]), 'binary.txt'),
    });
    await settle();
    expect((await done(folder.id, binary.id)).error_message).toContain('UTF-8');
    // The folder itself is fine: a good file still goes through.
    const good = await h.server.client.folders.files.upload(folder.id, {
      file: await toFile(Buffer.from('ok'), 'ok.txt'),
    });
    await settle();
    expect((await done(folder.id, good.id)).processing_status).toBe('completed');
    expect((await http('POST', url(`/folders/${folder.id}/upload`), { file: 'x' })).status).toBe(415);
  });

  it("applies Letta's duplicate handling: suffix, skip, error, replace", async () => {
    const folder = await h.server.client.folders.create({ name: `dups-${dialect}` });
    const file = () => toFile(Buffer.from('version one'), 'a.txt');
    const first = await h.server.client.folders.files.upload(folder.id, { file: await file() });
    const suffixed = await h.server.client.folders.files.upload(folder.id, { file: await file() });
    expect(suffixed.file_name).toBe(`dups-${dialect}/a_(1).txt`);
    const skipped = await h.server.client.folders.files
      .upload(folder.id, { file: await file(), duplicate_handling: 'skip' })
      .withResponse();
    expect(skipped.data.id).toBe(first.id);
    expect(skipped.response.headers.get('x-upload-result')).toBe('skipped');
    await expect(
      h.server.client.folders.files.upload(folder.id, { file: await file(), duplicate_handling: 'error' }),
    ).rejects.toBeInstanceOf(BadRequestError);
    await settle();
    const replaced = await h.server.client.folders.files.upload(folder.id, {
      file: await toFile(Buffer.from('version two'), 'a.txt'),
      duplicate_handling: 'replace',
    });
    expect(replaced.file_name).toBe(`dups-${dialect}/a.txt`);
    await settle();
    const files = await h.server.client.folders.files.list(folder.id);
    expect(files.items.map((f) => f.id)).toEqual([replaced.id]);
    const named = await h.server.client.folders.files.upload(folder.id, {
      file: await toFile(Buffer.from('x'), 'ignored.txt'),
      name: 'custom.txt',
    });
    expect(named.original_file_name).toBe('custom.txt');
    await settle();
    await http('DELETE', url(`/folders/${folder.id}/${named.id}`));
    expect((await h.server.client.folders.files.list(folder.id)).items.map((f) => f.id)).toEqual([replaced.id]);
    const passages = (await http('GET', url(`/sources/${folder.id}/passages`))).body as { text: string }[];
    expect(passages.map((p) => p.text)).toEqual(['version two']);
  });

  it('attaches folders to agents: the prompt renders <directories> as Letta does, with open/close state and the limit', async () => {
    const folder = await h.server.client.folders.create({
      name: `docs-${dialect}`,
      description: 'Project docs',
      instructions: 'Read carefully',
    });
    for (const [name, body] of <[string, string][]>[
      ['a.txt', 'alpha\nbeta'],
      ['b.txt', 'gamma'],
      ['c.txt', 'delta'],
      ['d.txt', 'epsilon'],
    ])
      await h.server.client.folders.files.upload(folder.id, { file: await toFile(Buffer.from(body), name) });
    await settle();
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      context_window_limit: 8000,
      memory_blocks: [],
      include_base_tools: false,
    });
    expect(await h.server.client.agents.folders.attach(folder.id, { agent_id: agent.id })).toBeNull();
    expect((await http('GET', url(`/folders/${folder.id}/agents`))).body).toEqual([agent.id]);
    expect((await h.server.client.agents.folders.list(agent.id)).items.map((f) => f.id)).toEqual([folder.id]);
    expect((await http('GET', url(`/agents/${agent.id}/sources`))).body.map((f: { id: string }) => f.id)).toEqual([
      folder.id,
    ]);
    const withTools = await h.server.client.agents.retrieve(agent.id, { include: ['agent.tools'] });
    expect(withTools.tools.map((t) => t.name).sort()).toEqual(['grep_files', 'open_files', 'semantic_search_files']);

    // A context window of 8k allows 3 open files (Letta's defaults): the oldest of four is closed.
    const files = await h.server.client.agents.files.list(agent.id);
    expect(files.files).toHaveLength(4);
    expect(files.files.filter((f) => f.is_open).map((f) => f.file_name)).toEqual([
      `docs-${dialect}/b.txt`,
      `docs-${dialect}/c.txt`,
      `docs-${dialect}/d.txt`,
    ]);
    const a = files.files.find((f) => f.file_name.endsWith('a.txt'))!;
    const closed = await h.server.client.agents.files.open(a.file_id, { agent_id: agent.id });
    expect(closed).toEqual([`docs-${dialect}/b.txt`]);
    await h.server.client.agents.files.close(files.files.find((f) => f.file_name.endsWith('c.txt'))!.file_id, {
      agent_id: agent.id,
    });

    const system = (await http('POST', url(`/agents/${agent.id}/recompile`))).body as string;
    const view = '[Viewing file start (out of 2 lines)]\n1: alpha\n2: beta';
    const d = '[Viewing file start (out of 1 lines)]\n1: epsilon';
    const file = (name: string, value?: string) =>
      value === undefined
        ? `<file status="closed" name="docs-${dialect}/${name}">\n<metadata>\n- read_only=true\n- chars_current=0\n- chars_limit=5000\n</metadata>\n</file>\n`
        : `<file status="open" name="docs-${dialect}/${name}">\n<metadata>\n- read_only=true\n- chars_current=${value.length}\n- chars_limit=5000\n</metadata>\n<value>\n${value}\n</value>\n</file>\n`;
    const expected =
      '\n\n<directories>\n<file_limits>\n- current_files_open=2\n- max_files_open=3\n</file_limits>\n' +
      `<directory name="docs-${dialect}">\n<description>Project docs</description>\n<instructions>Read carefully</instructions>\n` +
      file('a.txt', view) +
      file('b.txt') +
      file('c.txt') +
      file('d.txt', d) +
      '</directory>\n</directories>\n\n<memory_metadata>';
    expect(system).toContain(expected);

    expect(await h.server.client.agents.files.closeAll(agent.id)).toEqual([
      `docs-${dialect}/a.txt`,
      `docs-${dialect}/d.txt`,
    ]);
    const page = await http('GET', url(`/agents/${agent.id}/files?limit=3&is_open=false`));
    expectLettaSchema('PaginatedAgentFiles', page.body);
    expect(page.body).toMatchObject({ has_more: true });
    expect(page.body.files).toHaveLength(3);
    const rest = await http('GET', url(`/agents/${agent.id}/files?limit=3&after=${page.body.next_cursor}`));
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(rest.body.files).toHaveLength(1);

    // A file uploaded to an attached folder joins every agent's view.
    await h.server.client.folders.files.upload(folder.id, { file: await toFile(Buffer.from('zeta'), 'e.txt') });
    await settle();
    expect(
      (await h.server.client.agents.files.list(agent.id, { is_open: true })).files.map((f) => f.file_name),
    ).toEqual([`docs-${dialect}/e.txt`]);

    await h.server.client.agents.folders.detach(folder.id, { agent_id: agent.id });
    expect((await h.server.client.agents.files.list(agent.id)).files).toEqual([]);
    const after = await h.server.client.agents.retrieve(agent.id, { include: ['agent.tools'] });
    expect(after.tools).toEqual([]);
    expect((await http('POST', url(`/agents/${agent.id}/recompile`))).body).not.toContain('<directories>');
    const legacy = await http('PATCH', url(`/agents/${agent.id}/sources/attach/${folder.id}`), undefined, {
      'user-agent': 'python-requests/2.32',
    });
    expect(legacy.body.id).toBe(agent.id);
  });

  it('stores max_files_open and per_file_view_window_char_limit per agent, honours them, and lists sources on the agent', async () => {
    const folder = await h.server.client.folders.create({ name: `limits-${dialect}` });
    for (const name of ['a.txt', 'b.txt', 'c.txt'])
      await h.server.client.folders.files.upload(folder.id, { file: await toFile(Buffer.from(`${name} body`), name) });
    await settle();
    const agent = await h.server.client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [],
      include_base_tools: false,
      max_files_open: 1,
      per_file_view_window_char_limit: 900,
    });
    expect(agent).toMatchObject({ max_files_open: 1, per_file_view_window_char_limit: 900 });
    await h.server.client.agents.folders.attach(folder.id, { agent_id: agent.id });
    const open = (await h.server.client.agents.files.list(agent.id, { is_open: true })).files;
    expect(open.map((f) => f.file_name)).toEqual([`limits-${dialect}/c.txt`]);
    const system = (await http('POST', url(`/agents/${agent.id}/recompile`))).body as string;
    expect(system).toContain('- max_files_open=1\n');
    expect(system).toContain('- chars_limit=900\n');

    const retrieved = await h.server.client.agents.retrieve(agent.id, { include: ['agent.sources'] });
    expect(retrieved.sources.map((s) => s.id)).toEqual([folder.id]);
    expect((await h.server.client.agents.retrieve(agent.id)).sources).toEqual([]);

    const updated = await h.server.client.agents.update(agent.id, { max_files_open: 2 });
    expect(updated).toMatchObject({ max_files_open: 2, per_file_view_window_char_limit: 900 });
    expect((await h.server.client.agents.retrieve(agent.id)).max_files_open).toBe(2);
    expect((await http('PATCH', url(`/agents/${agent.id}`), { max_files_open: 0 })).status).toBe(422);
  });

  it('runs the file tools in a turn with Letta arguments and texts', async () => {
    const folder = await h.server.client.folders.create({ name: `code-${dialect}` });
    const source = Array.from({ length: 30 }, (_, i) => (i === 11 ? 'const PORT = 8080;' : `// line ${i + 1}`)).join(
      '\n',
    );
    await h.server.client.folders.files.upload(folder.id, { file: await toFile(Buffer.from(source), 'server.ts') });
    await h.server.client.folders.files.upload(folder.id, {
      file: await toFile(Buffer.from('The deployment pipeline runs nightly on the staging cluster.'), 'ops.md'),
    });
    await settle();
    const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini', include_base_tools: false });
    await h.server.client.agents.folders.attach(folder.id, { agent_id: agent.id });
    const uploaded = await h.server.client.folders.files.list(folder.id);
    for (const f of uploaded.items) await done(folder.id, f.id);

    h.llm.script(
      { toolCalls: [{ name: 'grep_files', arguments: { pattern: 'PORT\\s*=', context_lines: 1 } }] },
      {
        toolCalls: [
          {
            name: 'open_files',
            arguments: { file_requests: [{ file_name: `code-${dialect}/server.ts`, offset: 10, length: 3 }] },
          },
        ],
      },
      { toolCalls: [{ name: 'semantic_search_files', arguments: { query: 'when does the deployment pipeline run' } }] },
      { toolCalls: [{ name: 'open_files', arguments: { file_requests: [{ file_name: 'missing.txt' }] } }] },
      { text: 'Done.' },
    );
    const reply = await h.server.client.agents.messages.create(agent.id, { input: 'find the port' });
    const returns = reply.messages.filter((m) => m.message_type === 'tool_return_message') as {
      status: string;
      tool_return: string;
    }[];
    expect(returns).toHaveLength(4);
    expect(returns[0]!.tool_return).toBe(
      [
        'Found 1 total matches across 1 files (showing matches 1-1 of 1)',
        '='.repeat(80),
        '\nFiles with matches:',
        `  - code-${dialect}/server.ts: 1 matches`,
        '',
        `\n=== code-${dialect}/server.ts:12 ===\n  11: // line 11\n> 12: const PORT = 8080;\n  13: // line 13`,
        '',
        'No more matches to show.',
      ].join('\n'),
    );
    expect(returns[1]).toMatchObject({
      status: 'success',
      tool_return: `* Opened code-${dialect}/server.ts (lines 11-13) (previously full file)`,
    });
    expect(returns[2]!.tool_return).toContain(`=== code-${dialect}/ops.md (passage #1) ===`);
    expect(returns[2]!.tool_return).toContain('  The deployment pipeline runs nightly on the staging cluster.');
    expect(returns[3]).toMatchObject({ status: 'error' });
    expect(returns[3]!.tool_return).toContain('missing.txt not attached - did you get the filename correct?');

    const opened = await h.server.client.agents.files.list(agent.id, { is_open: true });
    expect(opened.files.find((f) => f.file_name.endsWith('server.ts'))).toMatchObject({
      start_line: 11,
      end_line: 13,
      visible_content:
        '[Viewing lines 11 to 13 (out of 30 lines)]\n11: // line 11\n12: const PORT = 8080;\n13: // line 13',
    });
    // The tool's definition went to the model with Letta's arguments.
    const tools = (h.llm.requests[0]!.body as { tools: { function: { name: string; parameters: unknown } }[] }).tools;
    expect(tools.find((t) => t.function.name === 'open_files')?.function.parameters).toMatchObject({
      required: ['file_requests'],
    });
  });
  it("keeps a folder's archive out of /v1/archives and fails files a stopped process was parsing", async () => {
    const folder = await h.server.client.folders.create({ name: `own-${dialect}` });
    const archives = await h.server.client.archives.list();
    expect(archives.items.some((a) => a.name.startsWith(`own-${dialect}`))).toBe(false);

    const uploaded = await h.server.client.folders.files.upload(folder.id, {
      file: await toFile(Buffer.from('text'), 'x.txt'),
    });
    await settle();
    // As a process that stopped mid-parse leaves it: its last heartbeat a minute old.
    const minuteAgo = new Date(Date.now() - 60_000).toISOString();
    await h.server.cairn.stores.folders.updateFile(uploaded.id, { processing_status: 'parsing' });
    await h.server.cairn.stores.folders.heartbeatFiles([uploaded.id], minuteAgo);
    await h.server.cairn.services.folders.failFilesSilentSince(
      new Date(Date.now() - 1000).toISOString(),
      new Date().toISOString(),
    );
    const failed = await h.server.client.folders.files.retrieve(uploaded.id, { folder_id: folder.id });
    expect(failed).toMatchObject({ processing_status: 'error' });
    expect(failed.error_message).toContain('upload it again');
  });
});
