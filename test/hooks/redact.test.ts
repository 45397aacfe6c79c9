import { describe, expect, it } from 'vitest';
import { redactSecrets, sanitize, stripPrivate } from '../../src/hooks/redact.js';
import { parseTranscript } from '../../src/hooks/transcript.js';

describe('secret redaction', () => {
  const cases: [string, string][] = [
    ['key sk-proj-abcdefghijklmnopqrstuvwxyz123456 here', 'key [REDACTED] here'],
    ['anthropic sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA', 'anthropic [REDACTED]'],
    ['gh ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 'gh [REDACTED]'],
    ['pat github_pat_11ABCDEFG0123456789_abcdefghijklmnop', 'pat [REDACTED]'],
    ['aws AKIAIOSFODNN7EXAMPLE!', 'aws [REDACTED]!'],
    ['slack xoxb-1234567890-abcdefghij', 'slack [REDACTED]'],
    ['Authorization: Bearer abc.def-ghi_jkl012345', 'Authorization: Bearer [REDACTED]'],
    [
      'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'jwt [REDACTED JWT]',
    ],
    ['postgres://admin:s3cretpw@db:5432/app', 'postgres://admin:[REDACTED]@db:5432/app'],
    ['export API_KEY="abcd1234efgh"', 'export API_KEY="[REDACTED]"'],
    ['password=hunter2hunter2 and db_password: letmein99', 'password=[REDACTED] and db_password: [REDACTED]'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----', '[REDACTED PRIVATE KEY]'],
  ];
  it.each(cases)('%s', (input, expected) => expect(redactSecrets(input)).toBe(expected));

  it('leaves ordinary prose and code alone', () => {
    const text = 'The tokenizer splits words; set max_tokens: 512 and pass the password field name to the form.';
    expect(redactSecrets(text)).toBe(text);
  });

  it('drops <private> spans, including an unterminated one', () => {
    expect(stripPrivate('a <private>secret</private> b')).toBe('a  b');
    expect(stripPrivate('a <PRIVATE>x</PRIVATE> b <private>rest')).toBe('a  b');
    expect(sanitize('<private>only this</private>')).toBe('');
  });
});

describe('transcript parsing', () => {
  it('keeps user and assistant text; drops tool traffic, thinking, sidechains, meta and command scaffolding', () => {
    const lines = [
      { type: 'user', uuid: 'u1', timestamp: '2026-01-01T00:00:00Z', message: { content: 'Hello there' } },
      {
        type: 'assistant',
        uuid: 'a1',
        message: {
          content: [
            { type: 'thinking', thinking: 'hmm' },
            { type: 'text', text: 'Hi' },
            { type: 'tool_use', id: 't', name: 'Read', input: {} },
          ],
        },
      },
      { type: 'user', uuid: 'u2', message: { content: [{ type: 'tool_result', tool_use_id: 't', content: 'file' }] } },
      { type: 'assistant', uuid: 'a2', isSidechain: true, message: { content: 'sub' } },
      { type: 'user', uuid: 'u3', isMeta: true, message: { content: 'meta' } },
      { type: 'user', uuid: 'u4', message: { content: '<command-name>/clear</command-name>' } },
      { type: 'summary', summary: 's' },
    ];
    const text = `${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`;
    expect(parseTranscript(text)).toEqual([
      { role: 'user', content: 'Hello there', created_at: '2026-01-01T00:00:00Z', otid: 'u1' },
      { role: 'assistant', content: 'Hi', otid: 'a1' },
    ]);
  });
});
