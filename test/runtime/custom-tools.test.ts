import { describe, expect, it } from 'vitest';
import { testDialects } from '../support/cairn.js';
import { useRuntime } from './harness.js';

/** Tests that run Python boot Pyodide, which takes tens of seconds on a loaded two-core machine. */
const PYODIDE_BOOT_MS = 120_000;

const PYTHON_TOOL = `
import os

def lookup_order(order_id: str, agent_state: "AgentState") -> dict:
    """
    Looks up an order in the shop's system.

    Args:
        order_id (str): The order's number.

    Returns:
        dict: The order.
    """
    print("looking up", order_id)
    return {"order": order_id, "status": "shipped", "agent": agent_state.name, "shop": os.environ["SHOP_NAME"]}
`;

const JS_TOOL = 'function shout(text) { return text.toUpperCase() + "!".repeat(200); }';

describe.each(testDialects())(
  'custom tools in a turn [%s]',
  (dialect) => {
    const h = useRuntime(dialect);

    it('runs a Python tool and a JS tool the model calls, packages their returns, and completes the turn', async () => {
      const python = await h.server.client.tools.create({ source_code: PYTHON_TOOL });
      const js = await h.server.client.tools.create({
        source_code: JS_TOOL,
        source_type: 'javascript',
        return_char_limit: 20,
        json_schema: {
          name: 'shout',
          description: 'Shouts a text.',
          parameters: {
            type: 'object',
            properties: { text: { type: 'string', description: 'What to shout.' } },
            required: ['text'],
          },
        },
      });
      const agent = await h.server.client.agents.create({
        name: 'shop-agent',
        model: 'openai/gpt-4o-mini',
        tool_ids: [python.id, js.id],
        secrets: { SHOP_NAME: 'Dice & Co' },
      });
      h.llm.script(
        { toolCalls: [{ name: 'lookup_order', arguments: { order_id: 'A-17', not_declared: 1 } }] },
        { toolCalls: [{ name: 'shout', arguments: { text: 'shipped' } }] },
        { text: 'Your order A-17 has shipped.' },
      );
      const response = await h.server.client.agents.messages.create(agent.id, { input: 'where is order A-17?' });

      const returns = response.messages.filter((m) => m.message_type === 'tool_return_message') as unknown as {
        name: string;
        status: string;
        tool_return: string;
        stdout: string[] | null;
      }[];
      expect(returns).toHaveLength(2);
      expect(returns[0]).toMatchObject({ name: 'lookup_order', status: 'success' });
      expect(JSON.parse(returns[0]!.tool_return)).toEqual({
        order: 'A-17',
        status: 'shipped',
        agent: 'shop-agent',
        shop: 'Dice & Co',
      });
      expect(returns[0]!.stdout).toEqual([expect.stringContaining('looking up A-17')]);
      // return_char_limit truncates with Letta's notice, as for the base tools.
      expect(returns[1]).toMatchObject({ name: 'shout', status: 'success' });
      expect(returns[1]!.tool_return).toBe(
        'SHIPPED!!!!!!!!!!!!!... [NOTE: function output was truncated since it exceeded the character limit (207 > 20)]',
      );
      expect(response.stop_reason).toMatchObject({ stop_reason: 'end_turn' });
      const last = response.messages.at(-1) as { message_type: string; content: string };
      expect(last).toMatchObject({ message_type: 'assistant_message', content: 'Your order A-17 has shipped.' });

      // The model saw Letta's packed envelope for each return.
      const toolMessages = h.llm.calls[2]!.body.messages.filter((m: { role: string }) => m.role === 'tool');
      expect(JSON.parse(toolMessages[0].content)).toMatchObject({ status: 'OK' });
      expect(toolMessages[1].content).toContain('function output was truncated');
    });

    it('a failing custom tool gives the model an error return and the turn goes on', async () => {
      const tool = await h.server.client.tools.create({
        source_code:
          'def explode(n: int) -> int:\n    """Divides.\n\n    Args:\n        n: The divisor.\n    """\n    return 1 // n\n',
      });
      const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [tool.id] });
      h.llm.script({ toolCalls: [{ name: 'explode', arguments: { n: 0 } }] }, { text: 'That failed.' });
      const response = await h.server.client.agents.messages.create(agent.id, { input: 'divide' });
      const ret = response.messages.find((m) => m.message_type === 'tool_return_message') as unknown as {
        status: string;
        tool_return: string;
      };
      expect(ret).toMatchObject({
        status: 'error',
        tool_return: expect.stringMatching(
          /^Error executing function explode: ZeroDivisionError: .*division.* by zero$/,
        ),
      });
      expect(response.stop_reason).toMatchObject({ stop_reason: 'end_turn' });
    });

    it('asks for approval before a tool whose per-agent approval was switched on', async () => {
      const tool = await h.server.client.tools.create({
        source_code:
          'def deploy(env: str) -> str:\n    """Deploys.\n\n    Args:\n        env: Where to.\n    """\n    return "deployed to " + env\n',
      });
      const agent = await h.server.client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [tool.id] });
      await h.server.client.agents.tools.updateApproval('deploy', { agent_id: agent.id, body_requires_approval: true });
      h.llm.script({ toolCalls: [{ name: 'deploy', arguments: { env: 'prod' } }] });
      const asked = await h.server.client.agents.messages.create(agent.id, { input: 'ship it' });
      expect(asked.stop_reason).toMatchObject({ stop_reason: 'requires_approval' });
      const request = asked.messages.find((m) => m.message_type === 'approval_request_message') as unknown as {
        tool_call: { tool_call_id: string; name: string };
      };
      expect(request.tool_call.name).toBe('deploy');

      h.llm.script({ text: 'Deployed.' });
      const approved = await h.server.client.agents.messages.create(agent.id, {
        messages: [
          {
            type: 'approval',
            approvals: [{ type: 'approval', tool_call_id: request.tool_call.tool_call_id, approve: true }],
          },
        ],
      } as never);
      const ret = approved.messages.find((m) => m.message_type === 'tool_return_message') as unknown as {
        tool_return: string;
      };
      expect(ret.tool_return).toBe('deployed to prod');

      await h.server.client.agents.tools.updateApproval('deploy', {
        agent_id: agent.id,
        body_requires_approval: false,
      });
      h.llm.script({ toolCalls: [{ name: 'deploy', arguments: { env: 'staging' } }] }, { text: 'Done.' });
      const direct = await h.server.client.agents.messages.create(agent.id, { input: 'again, to staging' });
      expect(direct.stop_reason).toMatchObject({ stop_reason: 'end_turn' });
    });
  },
  PYODIDE_BOOT_MS,
);
