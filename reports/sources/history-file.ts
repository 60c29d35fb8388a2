/**
 * `--history FILE`: history entries as JSONL (one entry a line, as `cutover history --json`
 * or a store export writes them) or as one JSON array / `{ entries: [...] }` document.
 */
import { readFile } from 'node:fs/promises';
import type { HistoryEntry } from '../../shared/state/types.js';
import { reportInputError } from '../errors.js';

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Checks one entry; names where it came from. */
export function checkHistoryEntry(v: unknown, where: string): HistoryEntry {
  if (!isObj(v)) throw reportInputError(where, 'must be a history entry object');
  if (typeof v.version !== 'number' || !Number.isInteger(v.version)) throw reportInputError(where, 'version must be a whole number');
  if (typeof v.at !== 'string' || !Number.isFinite(Date.parse(v.at))) throw reportInputError(where, 'at must be an ISO 8601 time');
  if (typeof v.action !== 'string' || v.action === '') throw reportInputError(where, 'action must be a non-empty string');
  if (v.changes !== undefined && !Array.isArray(v.changes)) throw reportInputError(where, 'changes must be an array');
  for (const [i, c] of ((v.changes as unknown[]) ?? []).entries()) {
    if (!isObj(c) || typeof c.path !== 'string') throw reportInputError(where, `changes[${i}].path must be a string`);
  }
  if (v.data !== undefined && !isObj(v.data)) throw reportInputError(where, 'data must be an object');
  return {
    ...(v as unknown as HistoryEntry),
    by: typeof v.by === 'string' ? v.by : '',
    changes: (v.changes as HistoryEntry['changes']) ?? [],
  };
}

export function parseHistoryText(text: string, file: string): HistoryEntry[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[') || (trimmed.startsWith('{') && !trimmed.includes('\n'))) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (err) {
      if (trimmed.startsWith('[')) throw reportInputError(`--history ${file}`, `is not valid JSON: ${(err as Error).message}`, err);
      doc = undefined;
    }
    if (Array.isArray(doc)) return doc.map((e, i) => checkHistoryEntry(e, `--history ${file}[${i}]`));
    if (isObj(doc) && Array.isArray(doc.entries)) return doc.entries.map((e, i) => checkHistoryEntry(e, `--history ${file} entries[${i}]`));
  }
  const out: HistoryEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw reportInputError(`--history ${file}:${i + 1}`, `is not valid JSON (${(err as Error).message}); each line must be one history entry`, err);
    }
    out.push(checkHistoryEntry(v, `--history ${file}:${i + 1}`));
  });
  return out;
}

export async function readHistoryFile(file: string): Promise<HistoryEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw reportInputError('--history', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  return parseHistoryText(text, file);
}
