// plainLead, the bulk path's lead check, against the schema it stands in for: whenever it answers,
// zod accepts the same input with the same output; whatever zod refuses, it leaves to zod.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leadInputSchema, plainLead } from '../../engine/lead.js';

const newLeadSchema = leadInputSchema.omit({ id: true });

// Values near every edge of the schema: valid ones, just past a limit, of the wrong type.
const text = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: max + 2 }),
    fc.string({ minLength: max - 1, maxLength: max + 1 }),
    fc.constantFrom('', 'a\x01b', 'tab\there', '\x7f', 'Zoë Åström', '😀'.repeat(40)),
  );
const id = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  fc.constantFrom('', 'a b', 'x'.repeat(65), 'ok-1'),
  fc.integer(),
);
const phone = fc.oneof(
  fc.stringMatching(/^\+[1-9]\d{6,14}$/),
  fc.constantFrom('+1212555', '+0123456789', '+1234567890123456', '12125550100', ' +12125550100'),
  fc.integer(),
);
const zone = fc.oneof(fc.constantFrom('America/New_York', 'Europe/Paris', '', 'x'.repeat(65)), text(64));
const whole = (max: number) =>
  fc.oneof(
    fc.integer({ min: -2, max: max + 2 }),
    fc.constantFrom(max, max + 1, -0, 0.5, Number.NaN, Infinity, 2 ** 53, '3', null),
  );
const fields = fc.oneof(
  fc.dictionary(fc.oneof(fc.string({ maxLength: 65 }), fc.constantFrom('', 'a\nb', 'City')), text(1000), {
    maxKeys: 6,
  }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ minLength: 900, maxLength: 1000 }), {
    minKeys: 3,
    maxKeys: 6,
  }),
  fc.constantFrom(null, [], 'x', { a: 1 }, Object.create(null) as object, undefined),
);
// Mostly valid values, so that the fast path answers often; now and then one near an edge.
const mostly = <T, U>(valid: fc.Arbitrary<T>, edge: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: edge, weight: 1 });
const lead = fc.record(
  {
    id: mostly(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), id),
    phone: mostly(fc.stringMatching(/^\+[1-9]\d{6,14}$/), phone),
    name: mostly(fc.string({ maxLength: 40 }), fc.oneof(text(120), fc.constantFrom(undefined, 7))),
    timeZone: mostly(
      fc.oneof(
        fc.constantFrom('America/New_York', null),
        fc.array(fc.constantFrom('Europe/Paris', 'Asia/Tokyo'), { maxLength: 8 }),
      ),
      fc.oneof(
        zone,
        fc.array(zone, { maxLength: 9 }),
        fc.constantFrom(null, undefined, 5, [undefined], ['America/Chicago', 3]),
      ),
    ),
    priority: mostly(fc.integer({ min: 0, max: 255 }), whole(255)),
    attempts: mostly(fc.integer({ min: 0, max: 100_000 }), whole(100_000)),
    dueAt: mostly(
      fc.integer({ min: 0, max: 8.64e15 }),
      fc.oneof(whole(8.64e15), fc.constantFrom(undefined, 8.64e15, 8.64e15 + 2)),
    ),
    pinnedAgentId: mostly(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.oneof(id, fc.constant(undefined))),
    fields: mostly(
      fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
      fields,
    ),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

describe('plainLead', () => {
  it('answers only what leadInputSchema accepts, with its output', () => {
    let answered = 0;
    fc.assert(
      fc.property(lead, (input) => {
        const fast = plainLead(input, true);
        const slow = leadInputSchema.safeParse(input);
        if (fast !== undefined) {
          answered++;
          expect(slow.success).toBe(true);
          expect(fast).toStrictEqual(slow.data);
        }
        const fastNew = plainLead(input, false);
        const slowNew = newLeadSchema.safeParse(input);
        if (fastNew !== undefined) {
          expect(slowNew.success).toBe(true);
          expect(fastNew).toStrictEqual(slowNew.data);
          // The fields come out in the input's order (the stored JSON is built from them).
          expect(JSON.stringify(fastNew.fields)).toBe(JSON.stringify(slowNew.data!.fields));
        }
      }),
      { numRuns: 5_000 },
    );
    // The generator reaches the fast path often enough for the comparison to mean something.
    expect(answered).toBeGreaterThan(100);
  });

  it('answers the leads an import makes', () => {
    const imported = {
      phone: '+12125550100',
      name: 'Lead 1',
      timeZone: ['America/Chicago', 'America/New_York'],
      priority: 0,
      fields: { City: 'City 1', ext: '12' },
      alternates: [{ phone: '+12125550101', timeZone: ['America/New_York'] }],
    };
    const out = plainLead(imported, false);
    expect(out).toStrictEqual(newLeadSchema.parse(imported));
    expect(out).not.toHaveProperty('alternates');
    expect(out!.timeZone).not.toBe(imported.timeZone);
    expect(plainLead({ ...imported, id: '42' }, true)).toStrictEqual(
      leadInputSchema.parse({ ...imported, id: '42' }),
    );
    // Valid, but an optional key given as undefined is left to zod.
    expect(plainLead({ ...imported, dueAt: undefined }, false)).toBeUndefined();
    expect(newLeadSchema.safeParse({ ...imported, dueAt: undefined }).success).toBe(true);
  });
});
