// One group commit: a batch of validated completions written in one transaction with a handful
// of multi-row statements (never a statement per row), each answered from the rows stored.
//
//  1. Insert one call_attempts row per lease, ON CONFLICT (tenant_id, lease_id) DO NOTHING. The
//     insert joins leads on tenant, campaign and id, so an attempt can only attach to a lead of
//     its own tenant and campaign; a completion naming any other lead inserts nothing.
//  2. For the new rows only: move each lead to where the engine sent it, close the lead's pending
//     callbacks and open the new one; for dnc outcomes list the number and take its other
//     queued leads out.
//  3. Completions whose lease already had a row (a repeated completion, possibly from another
//     gateway) are answered from that row, marked duplicate. Any left are for unknown leads and
//     are rejected alone; the rest of the batch still commits.
//
// A repeated lease id within the batch is answered like a repeat across batches: the first
// occurrence is written, the later ones get its record with duplicate: true.
//
// The common batch (no dnc outcome among its fresh rows) is steps 1 and 2 in ONE statement,
// `COMMIT_OUTCOMES`: data-modifying CTEs, atomic on their own, prepared once per connection
// (node-postgres named statement), so a group commit costs one round trip instead of BEGIN,
// INSERT, UPDATE, COMMIT through knex. Step 3's read runs after it only when some lease already
// had a row. A batch with a dnc outcome takes the transaction below: it lists numbers and takes
// queued leads out with the shared `removeQueuedByPhone`.
import type { Knex } from 'knex';
import type { Disposition } from '../engine/disposition.js';
import { encodeDisposition } from '../engine/disposition.js';
import { DbError } from './errors.js';
import { removeQueuedByPhone } from './leads.js';
import type { LeadStatus } from './leads.js';
import type { ValidOutcome } from './outcome-input.js';
import { toStoredOutcome } from './outcomes.js';
import type { CallAttemptRow, OutcomeRecord } from './outcomes.js';
import { toTimestamp } from './validate.js';

export type OutcomeResult = { ok: true; record: OutcomeRecord } | { ok: false; error: DbError };

interface LeadState {
  status: Extract<LeadStatus, 'queued' | 'final'>;
  nextDueAt: number | null;
  pinnedAgentId: string | null;
}

/** Where a disposition leaves the lead's row: the engine's decision, mirrored in Postgres. */
export function leadStateAfter(d: Disposition): LeadState {
  switch (d.kind) {
    case 'final':
    case 'exhausted':
    case 'dnc':
      return { status: 'final', nextDueAt: null, pinnedAgentId: null };
    case 'retry':
      return { status: 'queued', nextDueAt: d.dueAt, pinnedAgentId: null };
    case 'callback':
      return { status: 'queued', nextDueAt: d.dueAt, pinnedAgentId: d.pinnedAgentId };
    default: {
      const never: never = d;
      throw new Error(`unknown disposition ${JSON.stringify(never)}`);
    }
  }
}

const keyOf = (o: { tenantId: string; leaseId: string }) => `${o.tenantId}\u0000${o.leaseId}`;
const leadKeyOf = (o: { tenantId: string; leadId: string }) => `${o.tenantId}\u0000${o.leadId}`;

// The number an attempt dialled (migration 0006) is its lead's when the outcome is committed: a
// number never changes under a live lease (an edit waits for the call; a move to the next number
// runs after the outcome is saved), and the statement reads the row as it was before it moves the
// lead. Its place among the lead's numbers is 1 for a lead of one number (no lead_phones rows).
const DIALLED_POSITION = `coalesce((SELECT p.position FROM lead_phones p
    WHERE p.tenant_id = l.tenant_id AND p.lead_id = l.id AND p.phone = l.phone), 1)`;

const INSERT_ATTEMPTS = `
  INSERT INTO call_attempts AS a (
    tenant_id, lease_id, campaign_id, lead_id, agent_id, device_id, outcome, disposition, attempts,
    late, duration_sec, notes, tags, callback_at, callback_scope, follow_up, completed_at, phone,
    phone_position)
  SELECT v.tenant_id, v.lease_id, v.campaign_id, v.lead_id, v.agent_id, v.device_id, v.outcome,
    v.disposition, v.attempts, v.late, v.duration_sec, v.notes, v.tags, v.callback_at,
    v.callback_scope, v.follow_up, v.completed_at, l.phone, ${DIALLED_POSITION}
  FROM jsonb_to_recordset(?::jsonb) AS v(
    ord integer, tenant_id text, lease_id text, campaign_id text, lead_id bigint, agent_id text,
    device_id text, outcome text, disposition text, attempts integer, late boolean,
    duration_sec integer, notes text, tags text[], callback_at timestamptz, callback_scope text,
    follow_up jsonb, completed_at timestamptz)
  JOIN leads l ON l.tenant_id = v.tenant_id AND l.id = v.lead_id AND l.campaign_id = v.campaign_id
  ORDER BY v.ord
  ON CONFLICT (tenant_id, lease_id) DO NOTHING
  RETURNING a.*`;

// A lead only moves forward: attempts grow with every completion the engine accepts, so an
// update carrying fewer attempts than the row already has is an older completion arriving
// after a newer one (two gateways) and must not undo it. A removed lead stays removed (DNC and
// erasure outrank any outcome), and a final one stays final (a lead leased again in the
// moment its final outcome was being applied must not be reopened by that second call).
const UPDATE_LEADS = `
  WITH moved AS (
    UPDATE leads l SET
      status = CASE WHEN l.status IN ('removed', 'final') THEN l.status ELSE v.status END,
      attempts = v.attempts,
      next_due_at = CASE WHEN l.status IN ('removed', 'final') THEN NULL ELSE v.next_due_at END,
      pinned_agent_id = CASE WHEN l.status IN ('removed', 'final') THEN NULL ELSE v.pinned_agent_id END,
      updated_at = now()
    FROM jsonb_to_recordset(?::jsonb) AS v(
      tenant_id text, lead_id bigint, status text, attempts integer, next_due_at timestamptz,
      pinned_agent_id text)
    WHERE l.tenant_id = v.tenant_id AND l.id = v.lead_id AND l.attempts <= v.attempts
    RETURNING l.tenant_id, l.id, l.status
  ), closed AS (
    -- Any completion of a lead consumes the callback that scheduled it.
    UPDATE callbacks c SET status = 'done', updated_at = now()
    FROM moved m
    WHERE c.tenant_id = m.tenant_id AND c.lead_id = m.id AND c.status = 'pending'
  )
  INSERT INTO callbacks (tenant_id, campaign_id, lead_id, agent_id, due_at, lease_id)
  SELECT v.tenant_id, v.campaign_id, v.lead_id, v.agent_id, v.due_at, v.lease_id
  FROM jsonb_to_recordset(?::jsonb) AS v(
    tenant_id text, campaign_id text, lead_id bigint, agent_id text, due_at timestamptz, lease_id text)
  JOIN moved m ON m.tenant_id = v.tenant_id AND m.id = v.lead_id AND m.status = 'queued'`;

const LIST_DNC = `
  WITH numbers AS (
    SELECT DISTINCT v.tenant_id, coalesce(v.phone, l.phone) AS phone
    FROM jsonb_to_recordset(?::jsonb) AS v(tenant_id text, lead_id bigint, phone text)
    JOIN leads l ON l.tenant_id = v.tenant_id AND l.id = v.lead_id
  ), listed AS (
    INSERT INTO dnc (tenant_id, phone, source)
    SELECT tenant_id, phone, 'outcome' FROM numbers
    ON CONFLICT (tenant_id, phone) DO NOTHING
  )
  SELECT tenant_id, phone FROM numbers`;

const SELECT_STORED = `
  SELECT a.* FROM call_attempts a
  JOIN jsonb_to_recordset(?::jsonb) AS v(tenant_id text, lease_id text)
    ON a.tenant_id = v.tenant_id AND a.lease_id = v.lease_id`;

// Steps 1 and 2 in one statement, for a batch without dnc outcomes. `$1` holds one row per
// first occurrence of a lease, with the lead state the engine decided (`leadStateAfter`) and the
// callback to open, if any. The winner per lead is picked as `applyToLeads` does: most attempts,
// the later one in the batch on a tie. Every CTE sees the snapshot the statement started with,
// so the callbacks closed are the ones pending before this batch, never the one it opens.
const COMMIT_OUTCOMES = `
  WITH v AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(
      ord integer, tenant_id text, lease_id text, campaign_id text, lead_id bigint, agent_id text,
      device_id text, outcome text, disposition text, attempts integer, late boolean,
      duration_sec integer, notes text, tags text[], callback_at timestamptz, callback_scope text,
      follow_up jsonb, completed_at timestamptz, status text, next_due_at timestamptz,
      pinned_agent_id text, opens_callback boolean)
  ), ins AS (
    INSERT INTO call_attempts AS a (
      tenant_id, lease_id, campaign_id, lead_id, agent_id, device_id, outcome, disposition,
      attempts, late, duration_sec, notes, tags, callback_at, callback_scope, follow_up,
      completed_at, phone, phone_position)
    SELECT v.tenant_id, v.lease_id, v.campaign_id, v.lead_id, v.agent_id, v.device_id, v.outcome,
      v.disposition, v.attempts, v.late, v.duration_sec, v.notes, v.tags, v.callback_at,
      v.callback_scope, v.follow_up, v.completed_at, l.phone, ${DIALLED_POSITION}
    FROM v
    JOIN leads l ON l.tenant_id = v.tenant_id AND l.id = v.lead_id AND l.campaign_id = v.campaign_id
    ORDER BY v.ord
    ON CONFLICT (tenant_id, lease_id) DO NOTHING
    RETURNING a.*
  ), win AS (
    SELECT DISTINCT ON (v.tenant_id, v.lead_id) v.*
    FROM v JOIN ins ON ins.tenant_id = v.tenant_id AND ins.lease_id = v.lease_id
    ORDER BY v.tenant_id, v.lead_id, v.attempts DESC, v.ord DESC
  ), moved AS (
    UPDATE leads l SET
      status = CASE WHEN l.status IN ('removed', 'final') THEN l.status ELSE w.status END,
      attempts = w.attempts,
      next_due_at = CASE WHEN l.status IN ('removed', 'final') THEN NULL ELSE w.next_due_at END,
      pinned_agent_id = CASE WHEN l.status IN ('removed', 'final') THEN NULL ELSE w.pinned_agent_id END,
      updated_at = now()
    FROM win w
    WHERE l.tenant_id = w.tenant_id AND l.id = w.lead_id AND l.attempts <= w.attempts
    RETURNING l.tenant_id, l.id, l.status
  ), closed AS (
    UPDATE callbacks c SET status = 'done', updated_at = now()
    FROM moved m
    WHERE c.tenant_id = m.tenant_id AND c.lead_id = m.id AND c.status = 'pending'
  ), opened AS (
    INSERT INTO callbacks (tenant_id, campaign_id, lead_id, agent_id, due_at, lease_id)
    SELECT w.tenant_id, w.campaign_id, w.lead_id, w.pinned_agent_id, w.next_due_at, w.lease_id
    FROM win w
    JOIN moved m ON m.tenant_id = w.tenant_id AND m.id = w.lead_id AND m.status = 'queued'
    WHERE w.opens_callback
  )
  SELECT * FROM ins`;

const SELECT_STORED_BY_LEASE = `
  SELECT a.* FROM call_attempts a
  JOIN jsonb_to_recordset($1::jsonb) AS v(tenant_id text, lease_id text)
    ON a.tenant_id = v.tenant_id AND a.lease_id = v.lease_id`;

/** The pg client knex's pool hands out (only `query` is used). */
interface PooledClient {
  query<R>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

/** knex's pool, as its `client` exposes it (typed `any` by knex). */
interface KnexPool {
  acquireConnection(): Promise<PooledClient>;
  releaseConnection(client: PooledClient): Promise<void>;
}

/**
 * Write a batch in one transaction. Resolves (after COMMIT) with one result per input, in input
 * order; rejects, with nothing written, if the transaction fails.
 */
export async function commitOutcomeBatch(
  knex: Knex,
  inputs: readonly ValidOutcome[],
): Promise<OutcomeResult[]> {
  // First occurrence of each lease id in the batch.
  const keys = inputs.map(keyOf);
  const primaries = new Map<string, number>();
  keys.forEach((key, index) => {
    if (!primaries.has(key)) primaries.set(key, index);
  });
  const firsts = [...primaries.values()].map((index) => inputs[index]!);

  const { inserted, stored } = firsts.some(listsNumber)
    ? await inTransaction(knex, firsts)
    : await inOneStatement(knex, firsts);

  const answers = new Map<string, OutcomeRecord | DbError>();
  for (const row of inserted) {
    answers.set(keyOf({ tenantId: row.tenant_id, leaseId: row.lease_id }), {
      ...toStoredOutcome(row),
      duplicate: false,
    });
  }
  for (const row of stored) {
    const key = keyOf({ tenantId: row.tenant_id, leaseId: row.lease_id });
    // A lease on record as void was fenced out by the reaper (its lead went back to the queue):
    // this completion must not land. A lease id on record for another lead is refused outright,
    // never answered from that row.
    answers.set(
      key,
      row.voided
        ? new DbError('LEASE_VOID', undefined, { leaseId: row.lease_id })
        : { ...toStoredOutcome(row), duplicate: true },
    );
  }

  return inputs.map((input, index): OutcomeResult => {
    const answer = answers.get(keys[index]!);
    if (answer === undefined) {
      return {
        ok: false,
        error: new DbError('LEAD_UNKNOWN', undefined, { leaseId: input.leaseId, leadId: input.leadId }),
      };
    }
    if (answer instanceof DbError) return { ok: false, error: answer };
    if (answer.leadId !== input.leadId) {
      return {
        ok: false,
        error: new DbError('LEASE_CONFLICT', undefined, { leaseId: input.leaseId }),
      };
    }
    const repeatInBatch = primaries.get(keys[index]!) !== index;
    return { ok: true, record: repeatInBatch && !answer.duplicate ? { ...answer, duplicate: true } : answer };
  });
}

/** A completion that puts a number on the do-not-call list (then the batch takes the transaction). */
const listsNumber = (o: ValidOutcome): boolean =>
  o.disposition.kind === 'dnc' || (o.dncPhone ?? null) !== null;

/**
 * One completion's row for the batch's statements: the call_attempts columns, `ord` keeping the
 * batch order, and where the completion leaves its lead (read by the one-statement commit; the
 * transaction's INSERT takes only the attempt's columns). One object per completion, built once.
 */
const batchRow = (o: ValidOutcome, ord: number) => {
  const next = leadStateAfter(o.disposition);
  return {
    ord,
    tenant_id: o.tenantId,
    lease_id: o.leaseId,
    campaign_id: o.campaignId,
    lead_id: o.leadId,
    agent_id: o.agentId,
    device_id: o.deviceId,
    outcome: o.outcome,
    disposition: encodeDisposition(o.disposition),
    attempts: o.attempts,
    late: o.late,
    duration_sec: o.durationSec,
    notes: o.notes ?? null,
    tags: o.tags ?? [],
    callback_at: o.callback ? toTimestamp(o.callback.at) : null,
    callback_scope: o.callback?.scope ?? null,
    follow_up: o.followUp ?? null,
    completed_at: toTimestamp(o.completedAt),
    status: next.status,
    next_due_at: next.nextDueAt === null ? null : toTimestamp(next.nextDueAt),
    pinned_agent_id: next.pinnedAgentId,
    opens_callback: o.disposition.kind === 'callback',
  };
};

interface Written {
  inserted: CallAttemptRow[];
  stored: CallAttemptRow[];
}

/** Steps 1 and 2 as one prepared statement, then step 3's read when some lease had a row. */
async function inOneStatement(knex: Knex, firsts: readonly ValidOutcome[]): Promise<Written> {
  const rows = firsts.map(batchRow);
  const pool = knex.client as KnexPool;
  const client = await pool.acquireConnection();
  try {
    const { rows: inserted } = await client.query<CallAttemptRow>({
      name: 'dialhub_commit_outcomes_v2',
      text: COMMIT_OUTCOMES,
      values: [JSON.stringify(rows)],
    });
    const insertedKeys = new Set(inserted.map((r) => keyOf({ tenantId: r.tenant_id, leaseId: r.lease_id })));
    const seen = firsts.filter((o) => !insertedKeys.has(keyOf(o)));
    if (seen.length === 0) return { inserted, stored: [] };
    // Its own statement (a fresh snapshot): a row another gateway committed while ours waited on
    // its conflict is visible here, as it would be to the transaction's next statement.
    const { rows: stored } = await client.query<CallAttemptRow>({
      name: 'dialhub_stored_outcomes_v1',
      text: SELECT_STORED_BY_LEASE,
      values: [JSON.stringify(seen.map((o) => ({ tenant_id: o.tenantId, lease_id: o.leaseId })))],
    });
    return { inserted, stored };
  } finally {
    await pool.releaseConnection(client);
  }
}

/** Steps 1 to 3 in one knex transaction: the path for batches that list numbers. */
async function inTransaction(knex: Knex, firsts: readonly ValidOutcome[]): Promise<Written> {
  return knex.transaction(async (trx) => {
    const attemptRows = firsts.map(batchRow);
    const { rows: insertedRows } = await trx.raw<{ rows: CallAttemptRow[] }>(INSERT_ATTEMPTS, [
      JSON.stringify(attemptRows),
    ]);
    const insertedKeys = new Set(
      insertedRows.map((r) => keyOf({ tenantId: r.tenant_id, leaseId: r.lease_id })),
    );
    const fresh = firsts.filter((o) => insertedKeys.has(keyOf(o)));

    if (fresh.length > 0) await applyToLeads(trx, fresh);

    const seen = firsts.filter((o) => !insertedKeys.has(keyOf(o)));
    let storedRows: CallAttemptRow[] = [];
    if (seen.length > 0) {
      const pairs = seen.map((o) => ({ tenant_id: o.tenantId, lease_id: o.leaseId }));
      ({ rows: storedRows } = await trx.raw<{ rows: CallAttemptRow[] }>(SELECT_STORED, [
        JSON.stringify(pairs),
      ]));
    }
    return { inserted: insertedRows, stored: storedRows };
  });
}

/** Step 2 of the header, for the completions that inserted a row. */
async function applyToLeads(trx: Knex.Transaction, fresh: readonly ValidOutcome[]): Promise<void> {
  // One update per lead: if a batch holds two completions of one lead (a late one and a newer
  // one), the one with more attempts wins, the later one on a tie. UPDATE ... FROM with two
  // source rows for one target row would apply an arbitrary one of them.
  const winners = new Map<string, ValidOutcome>();
  for (const o of fresh) {
    const current = winners.get(leadKeyOf(o));
    if (current === undefined || o.attempts >= current.attempts) winners.set(leadKeyOf(o), o);
  }
  const leadRows = [...winners.values()].map((o) => {
    const next = leadStateAfter(o.disposition);
    return {
      tenant_id: o.tenantId,
      lead_id: o.leadId,
      status: next.status,
      attempts: o.attempts,
      next_due_at: next.nextDueAt === null ? null : toTimestamp(next.nextDueAt),
      pinned_agent_id: next.pinnedAgentId,
    };
  });
  const callbackRows = [...winners.values()].flatMap((o) =>
    o.disposition.kind === 'callback'
      ? [
          {
            tenant_id: o.tenantId,
            campaign_id: o.campaignId,
            lead_id: o.leadId,
            agent_id: o.disposition.pinnedAgentId,
            due_at: toTimestamp(o.disposition.dueAt),
            lease_id: o.leaseId,
          },
        ]
      : [],
  );
  await trx.raw(UPDATE_LEADS, [JSON.stringify(leadRows), JSON.stringify(callbackRows)]);

  const dncRows = fresh
    .filter((o) => o.disposition.kind === 'dnc' || (o.dncPhone ?? null) !== null)
    .map((o) => ({ tenant_id: o.tenantId, lead_id: o.leadId, phone: o.dncPhone ?? null }));
  if (dncRows.length > 0) {
    // The lead's own number when the engine did not pass it on: a dnc outcome always lists it.
    const { rows: numbers } = await trx.raw<{ rows: { tenant_id: string; phone: string }[] }>(LIST_DNC, [
      JSON.stringify(dncRows),
    ]);
    await removeQueuedByPhone(trx, numbers);
  }
}
