/**
 * The admin token check: `Authorization: Bearer <token>`, compared in constant time (SHA-256
 * digests of equal length through crypto.timingSafeEqual). 401 without a token, 403 with a
 * wrong one. With no token configured every change is refused (401 saying how to set one).
 *
 * Reads of customer data (diffs, history, state, stats, replicas) need the token whenever one
 * is configured; with none they stay open (the admin plane is then loopback-only, see
 * proxy/index.ts). /healthz, /readyz and /metrics are open unless `adminOpen` leaves them out.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminTokenUnsetVar, type CutoverConfig } from '../shared/config.js';
import { InputError } from '../shared/errors.js';
import { PROXY_ERR } from './errors.js';

export const ADMIN_TOKEN_ENV = 'CUTOVER_ADMIN_TOKEN';

/** The configured token: config.adminToken, else $CUTOVER_ADMIN_TOKEN (same rule: 16+ characters). */
export function resolveAdminToken(config: Pick<CutoverConfig, 'adminToken'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (config.adminToken) return config.adminToken;
  const unset = adminTokenUnsetVar(config);
  if (unset !== undefined) {
    // The config asks for a token the environment does not give: starting without one would
    // leave the admin plane without the protection the config asked for.
    throw new InputError(
      'CUTOVER_ERR_CONFIG',
      'adminToken',
      `\${${unset}} is not set in the environment: the proxy needs the admin token the config names (export ${unset}, or remove adminToken from the config)`,
    );
  }
  const fromEnv = env[ADMIN_TOKEN_ENV];
  if (fromEnv === undefined || fromEnv === '') return undefined;
  if (fromEnv.length < 16) throw new InputError('CUTOVER_ERR_CONFIG', ADMIN_TOKEN_ENV, 'must be at least 16 characters');
  return fromEnv;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Pure check of an Authorization header against the expected token. */
export function checkBearer(header: string | undefined, expected: string | undefined): 'ok' | 'missing' | 'wrong' | 'unconfigured' {
  if (expected === undefined) return 'unconfigured';
  if (typeof header !== 'string') return 'missing';
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!m) return 'missing';
  return timingSafeEqual(digest(m[1]), digest(expected)) ? 'ok' : 'wrong';
}

export type RequireToken = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/** A Fastify preHandler for reads: the token when one is configured, else open. */
export function makeRequireReadToken(expected: string | undefined): RequireToken {
  if (expected === undefined) return async () => undefined;
  return async function requireReadToken(request, reply) {
    const result = checkBearer(request.headers.authorization, expected);
    if (result === 'ok') return undefined;
    if (result === 'wrong') return reply.code(403).send({ error: { code: PROXY_ERR.forbidden, message: 'the admin token is wrong' } });
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: { code: PROXY_ERR.unauthorized, message: 'this read needs Authorization: Bearer <admin token> (a token is configured on this proxy)' } });
  };
}

/** A Fastify preHandler for routes that change something. */
export function makeRequireToken(expected: string | undefined): RequireToken {
  return async function requireToken(request, reply) {
    const result = checkBearer(request.headers.authorization, expected);
    if (result === 'ok') return undefined;
    if (result === 'wrong') {
      return reply.code(403).send({ error: { code: PROXY_ERR.forbidden, message: 'the admin token is wrong' } });
    }
    const message =
      result === 'unconfigured'
        ? `no admin token is configured on this proxy, so changes are refused: set adminToken in the config or ${ADMIN_TOKEN_ENV}`
        : 'this change needs Authorization: Bearer <admin token>';
    return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: PROXY_ERR.unauthorized, message } });
  };
}
