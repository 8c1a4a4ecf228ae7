// The bench's latency budget for a ready -> offer: stages are summed only for a ready that went
// through every stage in order, and the sums are per stage, so their means add up to the whole.
import { describe, expect, it } from 'vitest';
import { OfferBudget } from '../../gateway/offer-budget.js';

const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('OfferBudget', () => {
  it('sums each stage of a ready that reached its offer, from the stage before it', () => {
    const b = new OfferBudget();
    b.received('t\0a1');
    spin(2);
    b.stamp('t\0a1', 'submitted');
    b.stamp('t\0a1', 'flushed');
    spin(3);
    b.stamp('t\0a1', 'scripted');
    b.stamp('t\0a1', 'sent');
    const c = b.counters();
    expect(c.budget_offers).toBe(1);
    expect(c.budget_session_us).toBeGreaterThanOrEqual(2_000);
    expect(c.budget_script_us).toBeGreaterThanOrEqual(3_000);
    expect(c.budget_batch_wait_us).toBeLessThan(c.budget_script_us);
  });

  it('leaves out a ready without an offer of its own, and one whose stages came out of order', () => {
    const b = new OfferBudget();
    b.received('t\0a1');
    b.stamp('t\0a1', 'submitted');
    b.drop('t\0a1'); // nothing to dial: its ready ended without an offer
    b.stamp('t\0a1', 'flushed');
    b.stamp('t\0a1', 'scripted');
    b.stamp('t\0a1', 'sent');
    b.received('t\0a2');
    b.stamp('t\0a2', 'submitted');
    b.stamp('t\0a2', 'submitted'); // retried after a released orphan: not one clean pass
    b.stamp('t\0a2', 'flushed');
    b.stamp('t\0a2', 'scripted');
    b.stamp('t\0a2', 'sent');
    // An offer delivered to an agent that is not waiting on its own ready.
    b.stamp('t\0a3', 'sent');
    expect(b.counters()).toEqual({
      budget_offers: 0,
      budget_session_us: 0,
      budget_batch_wait_us: 0,
      budget_script_us: 0,
      budget_after_script_us: 0,
    });
  });
});
