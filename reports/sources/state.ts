/** `--state URL`: history and waivers straight from the state store (file:// or redis://). */
import { openStateStore } from '../../shared/state/index.js';
import type { HistoryEntry, Waiver } from '../../shared/state/types.js';
import { reportSourceError } from '../errors.js';

const TIMEOUT_MS = 10_000;

export async function readStateStore(url: string): Promise<{ history: HistoryEntry[]; waivers: Waiver[] }> {
  let store: ReturnType<typeof openStateStore>;
  try {
    store = openStateStore(url);
  } catch (err) {
    throw reportSourceError('--state', (err as Error).message, err);
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    });
    const [history, state] = await Promise.race([Promise.all([store.history(), store.read()]), timeout]);
    return { history, waivers: state?.waivers ?? [] };
  } catch (err) {
    throw reportSourceError('--state', `cannot read ${url}: ${(err as Error).message}`, err);
  } finally {
    clearTimeout(timer);
    await store.close().catch(() => undefined);
  }
}
