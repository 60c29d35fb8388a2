/**
 * Per-project rate limiting for V2. With Redis, every V2 process takes tokens from one
 * bucket per project through a single Lua script (atomic, Redis clock). Without Redis, or
 * while it is unhealthy, each process uses its own local bucket with the same limits, so a
 * Redis outage degrades the limit (N processes allow up to N times the rate) and never
 * fails a request.
 */
import type { Redis } from 'ioredis';
import { LocalBuckets } from './token-bucket.js';
import { redisUsable } from './redis.js';
import type { Project } from './api-keys.js';

const TAKE_TOKEN_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate / 1000)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return { allowed, retry }
`;

type TakeTokenCommand = (key: string, rate: number, burst: number) => Promise<[number, number]>;

export interface LimitDecision {
  allowed: boolean;
  retryAfterMs: number;
  source: 'redis' | 'local';
}

/** After a Redis error, stay on local buckets this long before trying Redis again. */
const REDIS_BACKOFF_MS = 1000;

export class RateLimiter {
  private readonly local = new LocalBuckets();
  private redisDownUntil = 0;
  readonly counts = { redis: 0, local: 0, redisErrors: 0 };

  constructor(
    private readonly redis?: Redis,
    private readonly keyPrefix = 'cutover:demo:v2:ratelimit',
  ) {
    if (redis && !(redis as unknown as { cutoverTakeToken?: unknown }).cutoverTakeToken) {
      redis.defineCommand('cutoverTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN_LUA });
    }
  }

  async take(project: Project): Promise<LimitDecision> {
    const redis = this.redis;
    if (redisUsable(redis) && Date.now() >= this.redisDownUntil) {
      try {
        const take = (redis as unknown as { cutoverTakeToken: TakeTokenCommand }).cutoverTakeToken.bind(redis);
        const [allowed, retry] = await take(`${this.keyPrefix}:${project.id}`, project.ratePerSecond, project.burst);
        this.counts.redis++;
        return { allowed: allowed === 1, retryAfterMs: Number(retry), source: 'redis' };
      } catch {
        this.counts.redisErrors++;
        this.redisDownUntil = Date.now() + REDIS_BACKOFF_MS;
      }
    }
    this.counts.local++;
    const r = this.local.take(project.id, project.ratePerSecond, project.burst);
    return { allowed: r.allowed, retryAfterMs: r.retryAfterMs, source: 'local' };
  }
}
