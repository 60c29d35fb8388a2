/**
 * How a Redis URL becomes an ioredis connection, for the state store, the verdict stream and
 * the report's stream reader alike (pure parsing, then one factory):
 *
 * - `redis://[[USER]:PASSWORD@]HOST:PORT[/DB]`, `rediss://...` (TLS): one server;
 * - `redis+sentinel://[[USER]:PASSWORD@]H1:26379,H2:26379,H3:26379/MASTERNAME[/DB]`
 *   (`rediss+sentinel://` for TLS to the master and its replicas): ask the sentinels which
 *   server is the master, follow it when they fail over. Query options, as ioredis names them:
 *   `sentinelUsername`, `sentinelPassword`, `sentinelTls=true` (TLS to the sentinels too),
 *   `tlsRejectUnauthorized=false`, `minReplicas=N` (see below). The password in the userinfo is
 *   the master's (`password`), as in ioredis.
 *
 * Any URL may also carry `?prefix=NAME` (read by the state store, ignored here).
 *
 * Sentinel failover is asynchronous: a change the old master took but had not passed to a
 * replica is gone once a replica is promoted. So with Sentinel a state change is acknowledged
 * only after `WAIT` confirms a connected replica has it. By default that is one replica when
 * the master has any connected (after a failover that left the master alone, changes, aborts
 * above all, must still go through); `?minReplicas=N` makes it strict: N replicas, or the
 * change is not acknowledged. A single server confirms nothing unless `?minReplicas=N`.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { CutoverError, InputError } from '../errors.js';
import { STATE_ERR_URL, redactUrl } from './errors.js';

export interface RedisConnectionSpec {
  kind: 'single' | 'sentinel';
  /** Options for `new Redis(options)`, before the caller's own (timeouts, queueing). */
  options: RedisOptions;
  /** Replicas that must confirm a state change before it is acknowledged. */
  minReplicas: number;
  /**
   * true (`?minReplicas=N` given): always N, so with fewer replicas up no change is acknowledged.
   * false (the Sentinel default): at most N, as many as are connected at the time (none connected: none asked).
   */
  strictReplicas: boolean;
  /** The URL without credentials, for messages. */
  label: string;
  /** Sentinel: the master's name, and where the sentinels are. */
  sentinel?: { name: string; sentinels: Array<{ host: string; port: number }> };
}

export const SENTINEL_SCHEMES = ['redis+sentinel:', 'rediss+sentinel:'] as const;

/** True for every URL this module opens (redis, rediss and their +sentinel forms). */
export function isRedisUrl(url: string): boolean {
  return /^rediss?(\+sentinel)?:\/\//.test(url);
}

function bad(url: string, reason: string): InputError {
  const err = new InputError(
    STATE_ERR_URL,
    '--state',
    `${redactUrl(url)}: ${reason} (use redis://HOST:PORT/DB or redis+sentinel://HOST:PORT,HOST:PORT/MASTERNAME/DB)`,
  );
  return Object.assign(err, { reason });
}

/** Why a Sentinel URL cannot be used, or undefined when it can (the password never appears). */
export function sentinelUrlProblem(url: string): string | undefined {
  try {
    parseRedisUrl(url);
    return undefined;
  } catch (err) {
    return (err as { reason?: string }).reason ?? (err as Error).message;
  }
}

function parseDb(url: string, text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,5}$/.test(text)) throw bad(url, `the database must be a number, got "${text}"`);
  return Number(text);
}

function parseBool(url: string, name: string, value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw bad(url, `?${name} must be true or false, got "${value}"`);
}

const KNOWN_PARAMS = new Set(['prefix', 'sentinelUsername', 'sentinelPassword', 'sentinelTls', 'tlsRejectUnauthorized', 'minReplicas']);

/** Parse a Redis URL. Throws an InputError naming the rule and the value (the password hidden). */
export function parseRedisUrl(url: string): RedisConnectionSpec {
  const m = /^(rediss?)(\+sentinel)?:\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(url);
  if (!m) throw bad(url, 'is not a redis URL');
  const [, scheme, sentinelMark, userinfo, hostsText, pathText, query] = m;
  const tls = scheme === 'rediss';
  const params = new URLSearchParams(query ?? '');
  for (const k of params.keys()) if (!KNOWN_PARAMS.has(k)) throw bad(url, `unknown option ?${k} (known: ${[...KNOWN_PARAMS].join(', ')})`);
  const rejectUnauthorized = parseBool(url, 'tlsRejectUnauthorized', params.get('tlsRejectUnauthorized'));
  const tlsOptions = rejectUnauthorized === false ? { rejectUnauthorized: false } : {};
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon)) || undefined;
    password = colon === -1 ? undefined : decodeURIComponent(userinfo.slice(colon + 1)) || undefined;
    if (colon === -1) {
      // `redis://PASSWORD@host` is how many tools write a password alone.
      password = username;
      username = undefined;
    }
  }
  const hosts = hostsText.split(',').map((h) => h.trim());
  const parsedHosts = hosts.map((h) => {
    const hm = /^(\[[0-9a-fA-F:]+\]|[^\s:[\]]+)(?::(\d{1,5}))?$/.exec(h);
    if (!hm) throw bad(url, `"${h}" is not HOST:PORT`);
    const port = hm[2] === undefined ? (sentinelMark ? 26379 : 6379) : Number(hm[2]);
    if (port < 1 || port > 65535) throw bad(url, `port ${port} is out of range`);
    return { host: hm[1].replace(/^\[|\]$/g, ''), port };
  });
  const segments = (pathText ?? '').split('/').filter((s, i) => i > 0 || s !== '');
  const minText = params.get('minReplicas');
  if (minText !== null && !/^\d{1,2}$/.test(minText)) throw bad(url, `?minReplicas must be a whole number, got "${minText}"`);

  if (!sentinelMark) {
    if (parsedHosts.length !== 1) throw bad(url, 'names several hosts: list sentinels with redis+sentinel://');
    if (segments.length > 1) throw bad(url, `has a path "${pathText}": only /DB may follow the host`);
    const db = parseDb(url, segments[0]);
    const { host, port } = parsedHosts[0];
    return {
      kind: 'single',
      options: { host, port, db, username, password, ...(tls ? { tls: tlsOptions } : {}) },
      minReplicas: minText === null ? 0 : Number(minText),
      strictReplicas: minText !== null,
      label: `${scheme}://${hostsText}/${db}`,
    };
  }

  const name = segments[0] !== undefined ? decodeURIComponent(segments[0]) : '';
  if (name === '') throw bad(url, 'names no master: redis+sentinel://HOST:PORT,.../MASTERNAME/DB');
  if (segments.length > 2) throw bad(url, `has a path "${pathText}": only /MASTERNAME/DB may follow the sentinels`);
  const db = parseDb(url, segments[1]);
  const sentinelTls = parseBool(url, 'sentinelTls', params.get('sentinelTls'));
  return {
    kind: 'sentinel',
    options: {
      sentinels: parsedHosts,
      name,
      role: 'master',
      db,
      username,
      password,
      sentinelUsername: params.get('sentinelUsername') ?? undefined,
      sentinelPassword: params.get('sentinelPassword') ?? undefined,
      ...(tls ? { tls: tlsOptions } : {}),
      ...(sentinelTls ? { enableTLSForSentinelMode: true, sentinelTLS: tlsOptions } : {}),
      // Subscribe to the sentinels' +switch-master: reconnect to the new master at once
      // instead of waiting for the old connection to fail.
      failoverDetector: true,
      // A master demoted to replica answers writes with READONLY: reconnect, asking the sentinels again.
      reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 1 : false),
    },
    minReplicas: minText === null ? 1 : Number(minText),
    strictReplicas: minText !== null,
    label: `${scheme}+sentinel://${hostsText}/${name}/${db}`,
    sentinel: { name, sentinels: parsedHosts },
  };
}

/** A new ioredis client for `url` with the caller's options on top (timeouts, queueing, retries). ioredis is loaded on first use. */
export async function createRedisClient(url: string, extra: RedisOptions = {}): Promise<Redis> {
  const spec = parseRedisUrl(url);
  const { Redis: RedisClient } = await import('ioredis');
  return new RedisClient({ ...spec.options, ...extra });
}

/** The same, synchronously, for callers that already import ioredis. */
export function redisClientSync(RedisClient: new (o: RedisOptions) => Redis, url: string, extra: RedisOptions = {}): Redis {
  return new RedisClient({ ...parseRedisUrl(url).options, ...extra });
}

/**
 * Wait until `minReplicas` replicas have every write this connection made (Redis `WAIT`).
 * Returns how many confirmed; the caller decides what an unconfirmed change means.
 */
export async function confirmReplicated(client: Redis, minReplicas: number, timeoutMs: number): Promise<number> {
  if (minReplicas <= 0) return 0;
  return Number(await client.wait(minReplicas, timeoutMs));
}

/** Replicas connected to the master this connection talks to (ROLE). */
export async function connectedReplicas(client: Redis): Promise<number> {
  const role = (await client.call('ROLE')) as unknown[];
  return role[0] === 'master' && Array.isArray(role[2]) ? role[2].length : 0;
}

/** The server a connection talks to (`host:port`) and its role, for `cutover status`. */
export async function describeServer(client: Redis): Promise<{ address: string; role: string }> {
  const role = (await client.call('ROLE')) as unknown[];
  const s = (client as unknown as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  const host = s?.remoteAddress ?? '?';
  return { address: `${host.includes(':') ? `[${host}]` : host}:${s?.remotePort ?? '?'}`, role: String(role[0]) };
}

export const STATE_ERR_UNCONFIRMED = 'CUTOVER_ERR_STATE_UNCONFIRMED';

/** A change the master took that no replica confirmed: not acknowledged, and said so. */
export function unconfirmedChange(label: string, version: number, wanted: number, got: number, waitMs: number): CutoverError {
  return new CutoverError(
    STATE_ERR_UNCONFIRMED,
    `the change to version ${version} reached the master of ${label} but ${got} of ${wanted} replica(s) confirmed it within ${waitMs} ms (a failover may be under way); it is not acknowledged and may be lost: run \`cutover status\` and \`cutover history\` to see whether version ${version} holds before you retry`,
    { exitCode: 1, status: 503 },
  );
}
