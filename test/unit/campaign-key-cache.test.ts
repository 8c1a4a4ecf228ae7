// The store's campaign keys are built once per campaign: the same answer as campaignKeys every
// time, per campaign and tenant, and bounded.
import { describe, expect, it } from 'vitest';
import { campaignRef } from '../../engine/ids.js';
import { CampaignKeyCache, campaignKeys, campaignKeySet } from '../../engine/keys.js';

describe('the campaign key cache', () => {
  it('answers what campaignKeys does, built once per campaign', () => {
    const cache = new CampaignKeyCache('p:');
    const a = campaignRef('t1', 'c1');
    const first = cache.get(a);
    expect(first.keys.cfg).toBe(campaignKeys('p:', a).cfg);
    expect(first.keys.ready(3)).toBe(campaignKeys('p:', a).ready(3));
    expect(first.set).toEqual(campaignKeySet(campaignKeys('p:', a)));
    expect(Object.isFrozen(first.set)).toBe(true);
    // A ref built again for the same campaign finds the same entry.
    expect(cache.get(campaignRef('t1', 'c1'))).toBe(first);
    expect(cache.size).toBe(1);
  });

  it('keeps tenants and campaigns apart', () => {
    const cache = new CampaignKeyCache('p:');
    const refs = [campaignRef('t1', 'c1'), campaignRef('t1', 'c2'), campaignRef('t2', 'c1')];
    const cfgs = refs.map((r) => cache.get(r).keys.cfg);
    expect(new Set(cfgs).size).toBe(3);
    refs.forEach((r, i) => expect(cfgs[i]).toBe(campaignKeys('p:', r).cfg));
    expect(cache.size).toBe(3);
  });

  it('starts again empty past its limit, still answering right', () => {
    const cache = new CampaignKeyCache('p:', 3);
    for (let i = 0; i < 3; i++) cache.get(campaignRef('t', `c${i}`));
    expect(cache.size).toBe(3);
    const fourth = cache.get(campaignRef('t', 'c3'));
    expect(cache.size).toBe(1);
    expect(fourth.keys.base).toBe('p:{c:t:c3}:');
    expect(cache.get(campaignRef('t', 'c0')).keys.base).toBe('p:{c:t:c0}:');
    expect(cache.size).toBe(2);
  });
});
