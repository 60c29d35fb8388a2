import { storeUrlProblem } from '../store-url.js';
import { badStateUrl } from './errors.js';
import { FileStateStore, type FileStoreOptions } from './file-store.js';
import { RedisStateStore, type RedisStoreOptions } from './redis-store.js';
import { isRedisUrl } from './redis-connection.js';
import type { StateStore } from './types.js';

export type OpenStateStoreOptions = FileStoreOptions & RedisStoreOptions;

/**
 * `file://PATH` (relative to the working directory unless absolute), `redis://[:PASSWORD@]HOST:PORT/DB`
 * (`rediss://` for TLS), or `redis+sentinel://H1:26379,H2:26379/MASTERNAME/DB` (redis-connection.ts).
 */
export function openStateStore(url: string, opts: OpenStateStoreOptions = {}): StateStore {
  if (typeof url !== 'string' || url === '') throw badStateUrl(String(url), 'is empty');
  if (url.startsWith('file://')) {
    if (url.length === 'file://'.length) throw badStateUrl(url, 'names no file');
    return new FileStateStore(url, opts);
  }
  if (isRedisUrl(url)) {
    const problem = storeUrlProblem(url);
    if (problem) throw badStateUrl(url, problem);
    return new RedisStateStore(url, opts);
  }
  throw badStateUrl(url, 'unsupported scheme');
}
