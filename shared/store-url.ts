/**
 * The state store URL rule, checked before anything opens it (config `state:`, `--state`):
 * `file://PATH`, or `redis://[USER[:PASSWORD]@]HOST[:PORT][/DB][?prefix=P]` (`rediss://` for
 * TLS) with a numeric port 1..65535 and a numeric database 0..9999, or
 * `redis+sentinel://H1:26379,H2:26379/MASTERNAME/DB` (state/redis-connection.ts has its rules).
 */
import { sentinelUrlProblem } from './state/redis-connection.js';

/** Why `url` cannot be a state store URL, or undefined when it can. The URL's password never appears. */
export function storeUrlProblem(url: string): string | undefined {
  if (url === '') return 'is empty';
  if (url.startsWith('file://')) return url.length === 'file://'.length ? 'names no file' : undefined;
  if (/^rediss?\+sentinel:\/\//.test(url)) return sentinelUrlProblem(url);
  if (!url.startsWith('redis://') && !url.startsWith('rediss://')) return 'unsupported scheme';
  const m = /^rediss?:\/\/(?:[^@/]*@)?(\[[0-9a-fA-F:]+\]|[^:/?#@\s]*)(?::([^/?#]*))?(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  if (!m) return 'is not a redis URL';
  const [, host, port, db] = m;
  if (!host) return 'names no host';
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) {
    return `port ${JSON.stringify(port.length > 20 ? `${port.slice(0, 20)}…` : port)} must be a number between 1 and 65535`;
  }
  if (db !== undefined && db !== '/' && !/^\/\d{1,4}$/.test(db)) return `database ${JSON.stringify(db.slice(1, 21))} must be a number between 0 and 9999`;
  return undefined;
}
