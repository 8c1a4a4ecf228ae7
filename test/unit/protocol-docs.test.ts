// The protocol's documents come from the code and cannot drift from it: the README's generated
// sections equal what the code generates now, the AsyncAPI document is valid AsyncAPI 3.0, and
// every event, error code and state transition appears in them.
import { readFileSync } from 'node:fs';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { transitionEdges } from '../../gateway/calls/state-diagram.js';
import { readmeSections, sectionsIn, withSections } from '../../gateway/docs.js';
import { agentAsyncApi } from '../../gateway/protocol/asyncapi.js';
import { WIRE_ERROR_CODES } from '../../gateway/protocol/errors.js';
import { AGENT_PROTOCOL } from '../../gateway/protocol/events.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the protocol documents', () => {
  it('README holds every generated section, exactly as the code generates it (npm run docs)', () => {
    expect(sectionsIn(README).sort()).toEqual(Object.keys(readmeSections()).sort());
    expect(withSections(README)).toBe(README);
  });

  it('shows every transition of the state machine in the README diagram', () => {
    for (const edge of transitionEdges()) {
      expect(README).toContain(`  ${edge.from} --> ${edge.to}: ${edge.labels.join(', ')}`);
    }
  });

  it('lists every error code with its retry advice in the README', () => {
    for (const code of WIRE_ERROR_CODES)
      expect(README).toMatch(new RegExp(`\\| \`${code}\` \\| \\d{3} \\| (yes|no) \\|`));
  });

  it('is a valid AsyncAPI 3.0 document with every event and error code', async () => {
    const doc = agentAsyncApi('test');
    const { diagnostics, document } = await new Parser().parse(doc as never);
    const errors = diagnostics.filter((d) => Number(d.severity) === Number(DiagnosticSeverity.Error));
    expect(errors, JSON.stringify(errors.slice(0, 3))).toEqual([]);
    expect(document).toBeDefined();
    const names = document!
      .allMessages()
      .all()
      .map((m) => m.name());
    for (const event of [...Object.keys(AGENT_PROTOCOL.client), ...Object.keys(AGENT_PROTOCOL.server)]) {
      expect(names).toContain(event);
    }
    const refusal = JSON.stringify(doc);
    for (const code of WIRE_ERROR_CODES) expect(refusal).toContain(`"${code}"`);
  });
});
