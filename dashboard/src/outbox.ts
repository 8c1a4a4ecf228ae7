// Outcomes not yet acknowledged, kept in IndexedDB so a completion made while offline (or in a
// tab that was closed) is sent when the connection returns — with the same lease id, so the
// gateway saves it once however many times it is sent.
import type { CompletePayload } from '../../gateway/protocol/schemas.js';

const DB = 'dialhub-console';
const STORE = 'outbox';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'leaseId' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('indexedDB open failed'));
  });
}

async function run<T>(mode: IDBTransactionMode, work: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = work(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('indexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

export const outbox = {
  put: (c: CompletePayload) => run('readwrite', (s) => s.put(c)),
  remove: (leaseId: string) => run('readwrite', (s) => s.delete(leaseId)),
  all: () => run<CompletePayload[]>('readonly', (s) => s.getAll() as IDBRequest<CompletePayload[]>),
};
