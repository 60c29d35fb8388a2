import type { ChangeMeta, HistoryEntry } from './types.js';

/** The history entry a store appends for a change (optional fields only when set). */
export function historyEntry(version: number, at: string, meta: ChangeMeta, changes: HistoryEntry['changes']): HistoryEntry {
  const e: HistoryEntry = { version, at, by: meta.by, action: meta.action, changes };
  if (meta.reason) e.reason = meta.reason;
  if (meta.ticket) e.ticket = meta.ticket;
  if (meta.data) e.data = meta.data;
  return e;
}
