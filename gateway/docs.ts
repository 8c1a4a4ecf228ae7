// The README's generated sections: the /agent events, the agent state diagram and the error code
// catalogue, each written from the one definition in code (the protocol module and the state
// machine's transition table). `npm run docs` rewrites them in README.md; a test fails when the
// README and the code disagree, so the documents cannot drift.
import { stateDiagram } from './calls/state-diagram.js';
import { WIRE_ERRORS } from './protocol/errors.js';
import type { WireErrorCode } from './protocol/errors.js';
import { AGENT_PROTOCOL } from './protocol/events.js';

const cell = (s: string | undefined) => (s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function fieldsOf(schema: {
  shape?: Record<string, { description?: string; isOptional?: () => boolean }>;
}): string {
  const shape = schema.shape ?? {};
  return Object.entries(shape)
    .map(([name, f]) => `${name}${f.isOptional?.() ? '?' : ''}`)
    .join(', ');
}

function protocolTables(): string {
  const lines = [
    '| client → server | payload | the acknowledgement adds | what it does |',
    '| --- | --- | --- | --- |',
  ];
  for (const [event, spec] of Object.entries(AGENT_PROTOCOL.client)) {
    lines.push(
      `| \`${event}\` | \`{ ${fieldsOf(spec.payload)} }\` | ${fieldsOf(spec.ack) || '—'} | ${cell(spec.payload.description)} |`,
    );
  }
  lines.push('', '| server → client | payload | what it means |', '| --- | --- | --- |');
  for (const [event, spec] of Object.entries(AGENT_PROTOCOL.server)) {
    lines.push(`| \`${event}\` | \`{ ${fieldsOf(spec.payload)} }\` | ${cell(spec.payload.description)} |`);
  }
  return lines.join('\n');
}

function errorTable(): string {
  const lines = ['| code | HTTP | retry? | meaning |', '| --- | --- | --- | --- |'];
  for (const [code, e] of Object.entries(WIRE_ERRORS) as [
    WireErrorCode,
    (typeof WIRE_ERRORS)[WireErrorCode],
  ][]) {
    lines.push(`| \`${code}\` | ${e.status} | ${e.retryable ? 'yes' : 'no'} | ${cell(e.meaning)} |`);
  }
  return lines.join('\n');
}

/** Section name → its generated Markdown. */
export function readmeSections(): Record<string, string> {
  return {
    'agent-protocol': protocolTables(),
    'agent-states': ['```mermaid', stateDiagram(), '```'].join('\n'),
    'error-codes': errorTable(),
  };
}

const SECTION = /<!-- generated: ([a-z-]+) -->\n[\s\S]*?<!-- \/generated -->/g;

/** The README with every generated section replaced by what the code says now. */
export function withSections(readme: string): string {
  const sections = readmeSections();
  return readme.replace(SECTION, (whole, name: string) => {
    const body = sections[name];
    if (body === undefined) return whole;
    // Prettier leaves the section as generated (it would realign the tables).
    return `<!-- generated: ${name} -->\n<!-- prettier-ignore-start -->\n${body}\n<!-- prettier-ignore-end -->\n<!-- /generated -->`;
  });
}

/** The names of the generated sections the README holds. */
export function sectionsIn(readme: string): string[] {
  return [...readme.matchAll(SECTION)].map((m) => m[1]!);
}
