// The /agent protocol as an AsyncAPI 3.0 document, generated from the protocol module's zod
// schemas (events.ts AGENT_PROTOCOL, schemas.ts, errors.ts): every event, payload, limit and error
// code an integrator needs, with nothing typed twice. Served at /api/v1/asyncapi.json; a test
// validates it with @asyncapi/parser and checks every event and code is in it.
import { z } from 'zod';
import { WIRE_ERRORS } from './errors.js';
import type { WireErrorCode } from './errors.js';
import { AGENT_NAMESPACE, AGENT_PROTOCOL, MAX_FRAME_BYTES } from './events.js';
import { agentStateSchema } from './schemas.js';

type Json = Record<string, unknown>;

/** A zod schema as AsyncAPI schema (JSON Schema draft-07), for what a client sends or receives. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

/** `agent:ready` -> `agentReady` (AsyncAPI component keys). */
const key = (event: string) => event.replace(/:([a-z])/g, (_m, c: string) => c.toUpperCase());

const errorCatalogue = (): string =>
  (Object.entries(WIRE_ERRORS) as [WireErrorCode, (typeof WIRE_ERRORS)[WireErrorCode]][])
    .map(([code, e]) => `- ${code}${e.retryable ? ' (retryable)' : ''}: ${e.meaning}`)
    .join('\n');

export function agentAsyncApi(version: string): Json {
  const messages: Json = {};
  const operations: Json = {};
  const channelMessages: Json = {};
  const ackSchema = (ok: Json): Json => ({
    oneOf: [
      {
        type: 'object',
        required: ['ok', 'state'],
        properties: {
          ok: { const: true },
          state: { $ref: '#/components/schemas/AgentState' },
          ...((ok.properties as Json) ?? {}),
        },
      },
      { $ref: '#/components/schemas/Refusal' },
    ],
  });

  for (const [event, spec] of Object.entries(AGENT_PROTOCOL.client)) {
    const k = key(event);
    messages[k] = {
      name: event,
      title: event,
      summary: spec.payload.description,
      payload: jsonSchema(spec.payload, 'input'),
    };
    messages[`${k}Ack`] = {
      name: `${event} acknowledgement`,
      summary: `The acknowledgement of ${event}: { ok: true, state, ... } or { ok: false, error }.`,
      payload: ackSchema(jsonSchema(spec.ack, 'output')),
    };
    channelMessages[k] = { $ref: `#/components/messages/${k}` };
    channelMessages[`${k}Ack`] = { $ref: `#/components/messages/${k}Ack` };
    operations[`receive${k[0]!.toUpperCase()}${k.slice(1)}`] = {
      action: 'receive',
      channel: { $ref: '#/channels/agent' },
      summary: `The device sends ${event}; the gateway always acknowledges it.`,
      messages: [{ $ref: `#/channels/agent/messages/${k}` }],
      reply: {
        channel: { $ref: '#/channels/agent' },
        messages: [{ $ref: `#/channels/agent/messages/${k}Ack` }],
      },
    };
  }
  for (const [event, spec] of Object.entries(AGENT_PROTOCOL.server)) {
    const k = key(event);
    messages[k] = {
      name: event,
      title: event,
      summary: spec.payload.description,
      payload: jsonSchema(spec.payload, 'output'),
    };
    channelMessages[k] = { $ref: `#/components/messages/${k}` };
    const operation: Json = {
      action: 'send',
      channel: { $ref: '#/channels/agent' },
      summary: `The gateway sends ${event}.`,
      messages: [{ $ref: `#/channels/agent/messages/${k}` }],
    };
    if ('ack' in spec) {
      messages[`${k}Ack`] = {
        name: `${event} acknowledgement`,
        summary: spec.ack.description,
        payload: jsonSchema(spec.ack, 'input'),
      };
      channelMessages[`${k}Ack`] = { $ref: `#/components/messages/${k}Ack` };
      operation.reply = {
        channel: { $ref: '#/channels/agent' },
        messages: [{ $ref: `#/channels/agent/messages/${k}Ack` }],
      };
    }
    operations[`send${k[0]!.toUpperCase()}${k.slice(1)}`] = operation;
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'dialhub /agent protocol',
      version,
      description: [
        `Socket.IO namespace \`${AGENT_NAMESPACE}\` (websocket transport). The handshake \`auth\` is the AgentHandshake schema.`,
        "Every client event takes an acknowledgement: `{ ok: true, state, ... }` with the agent's new state, or `{ ok: false, error: { code, message, retryable, issues? } }`. A client event without a payload, or with an unknown name, is acknowledged with PAYLOAD_INVALID / EVENT_UNKNOWN.",
        `A frame larger than ${MAX_FRAME_BYTES} bytes closes the connection with WebSocket close code 1009 (message too big).`,
        'A session starts paused (reason login). A device that reconnects with auth.leaseId inside the grace period resumes its call (call:resumed) in the state it was in; without leaseId nothing is resumed. The agent stays in wrap_up after a call until it sends agent:ready (or completes with ready: true).',
        '',
        'Error codes:',
        errorCatalogue(),
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    channels: {
      agent: {
        address: AGENT_NAMESPACE,
        title: 'The agent device namespace',
        messages: channelMessages,
      },
    },
    operations,
    components: {
      messages,
      schemas: {
        AgentHandshake: jsonSchema(AGENT_PROTOCOL.handshake, 'input'),
        AgentState: jsonSchema(agentStateSchema, 'output'),
        Refusal: {
          type: 'object',
          required: ['ok', 'error'],
          properties: {
            ok: { const: false },
            error: {
              type: 'object',
              required: ['code', 'message', 'retryable'],
              properties: {
                code: {
                  type: 'string',
                  enum: Object.keys(WIRE_ERRORS),
                  description: 'See the error codes in the description',
                },
                message: { type: 'string' },
                retryable: { type: 'boolean', description: 'The same request may succeed later unchanged' },
                issues: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { path: { type: 'string' }, message: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}
