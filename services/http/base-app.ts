/**
 * What legacy and V2 share as HTTP services: JSON error bodies, request ids, request
 * counters, fault injection on business routes, and the demo-only `/_admin` endpoints
 * (faults, request counters, idempotency records). Each service adds its own routes.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isCutoverError, InputError } from '../../shared/errors.js';
import { errorBody, ServiceError, SVC_ERR } from '../errors.js';
import { ENDPOINT_NAMES, type Endpoint } from '../endpoints.js';
import type { FaultState } from '../faults.js';
import type { Ledger, ServiceName } from '../data/ledger.js';
import { RequestCounters } from './counters.js';

export interface RouteConfig {
  endpoint?: Endpoint;
  admin?: boolean;
}

export interface BaseAppOptions {
  /** Which implementation (legacy or V2). */
  service: ServiceName;
  /** The name it answers to (default: `service`), e.g. `statements-v2`. */
  name?: string;
  /** The endpoints it serves when not every one: its 404 says which. */
  endpoints?: readonly Endpoint[];
  ledger: Ledger;
  faults: FaultState;
  genReqId: () => string;
  /** Extra fields for GET /healthz (V2 adds its Redis status). */
  health?: () => Record<string, unknown>;
}

export interface BaseApp {
  app: FastifyInstance;
  counters: RequestCounters;
}

export const SHADOW_HEADER = 'x-cutover-shadow';
const BODY_LIMIT = 64 * 1024;

export function routeConfig(req: FastifyRequest): RouteConfig {
  return (req.routeOptions.config ?? {}) as RouteConfig;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createBaseApp(opts: BaseAppOptions): BaseApp {
  const name = opts.name ?? opts.service;
  const servesAll = opts.endpoints === undefined || ENDPOINT_NAMES.every((e) => opts.endpoints!.includes(e));
  const notServed = servesAll ? '' : ` on ${name}: it serves ${opts.endpoints!.join(', ')}`;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    genReqId: opts.genReqId,
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  // JSON only: a text/plain body is a 415, not a string that reaches the handlers
  app.removeContentTypeParser('text/plain');
  const counters = new RequestCounters();

  app.addHook('onRequest', async (req) => {
    if (routeConfig(req).admin) return;
    counters.record(req.method, req.routeOptions.url, req.headers[SHADOW_HEADER] !== undefined);
  });

  app.addHook('preHandler', async (req) => {
    const endpoint = routeConfig(req).endpoint;
    if (!endpoint) return;
    const f = opts.faults;
    const delay = f.get(endpoint, 'latencyMs') + Math.floor(Math.random() * f.get(endpoint, 'jitterMs'));
    if (delay > 0) await sleep(delay);
    if (Math.random() < f.get(endpoint, 'errorRate')) {
      throw new ServiceError(f.get(endpoint, 'errorStatus'), SVC_ERR.INJECTED_FAULT, `injected failure (fault knob errorRate on ${name})`);
    }
    if (Math.random() < f.get(endpoint, 'throttleRate')) {
      throw new ServiceError(429, SVC_ERR.INJECTED_THROTTLE, `injected throttling (fault knob throttleRate on ${name}); retry after 1 s`, {
        headers: { 'retry-after': '1' },
      });
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-request-id', req.id);
    return payload;
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ServiceError) {
      return reply.code(err.status).headers(err.headers).send(errorBody(err.code, err.message));
    }
    if (err instanceof InputError) return reply.code(400).send(errorBody(err.code, err.message));
    const e = err as { statusCode?: number; code?: string; message?: string };
    const status = e.statusCode ?? 500;
    if (status === 413) return reply.code(413).send(errorBody(SVC_ERR.PAYLOAD_TOO_LARGE, `body: larger than ${BODY_LIMIT} bytes`));
    if (status === 415) {
      return reply.code(415).send(errorBody(SVC_ERR.UNSUPPORTED_MEDIA_TYPE, 'content-type: must be application/json'));
    }
    if (status >= 400 && status < 500) {
      const what = e.code?.startsWith('FST_ERR_CTP') ? `body: is not valid JSON (${e.message})` : (e.message ?? 'bad request');
      return reply.code(status).send(errorBody(SVC_ERR.BAD_REQUEST, what));
    }
    if (isCutoverError(err)) return reply.code(err.status).send(errorBody(err.code, err.message));
    req.log.error(err);
    return reply.code(500).send(errorBody(SVC_ERR.INTERNAL, `internal error in ${name}: ${e.message ?? String(err)}`));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody(SVC_ERR.ROUTE_NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}${notServed} (docs/services.md lists the API)`));
  });

  registerAdminRoutes(app, { ...opts, name }, counters);
  return { app, counters };
}

function registerAdminRoutes(app: FastifyInstance, opts: BaseAppOptions & { name: string }, counters: RequestCounters): void {
  const admin = { config: { admin: true } satisfies RouteConfig };
  const faultBody = (body: unknown): Record<string, unknown> => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ServiceError(400, SVC_ERR.BAD_REQUEST, 'body: must be a JSON object of knobs, e.g. {"latencyMs": 50, "errorRate:balance": 0.2}');
    }
    return body as Record<string, unknown>;
  };

  app.get('/healthz', admin, async () => ({ status: 'ok', service: opts.name, kind: opts.service, pid: process.pid, ...opts.health?.() }));
  app.get('/_admin/faults', admin, async () => ({ service: opts.name, ...opts.faults.toJSON() }));
  app.put('/_admin/faults', admin, async (req) => {
    opts.faults.replace(faultBody(req.body));
    return { service: opts.name, ...opts.faults.toJSON() };
  });
  app.patch('/_admin/faults', admin, async (req) => {
    opts.faults.merge(faultBody(req.body));
    return { service: opts.name, ...opts.faults.toJSON() };
  });
  app.delete('/_admin/faults', admin, async () => {
    opts.faults.reset();
    return { service: opts.name, ...opts.faults.toJSON() };
  });
  app.get('/_admin/requests', admin, async () => counters.toJSON(opts.name));
  app.delete('/_admin/requests', admin, async () => {
    counters.reset();
    return counters.toJSON(opts.name);
  });
  app.get('/_admin/postings', admin, async (req) => {
    const { key } = req.query as { key?: string };
    const all = opts.ledger.postings();
    const postings = key === undefined ? all : all.filter((p) => p.idempotencyKey === key);
    return {
      service: opts.name,
      total: postings.length,
      appliedMoreThanOnce: postings.filter((p) => p.applied > 1).length,
      appliedByV2: postings.reduce((n, p) => n + p.appliedBy.v2, 0),
      appliedByLegacy: postings.reduce((n, p) => n + p.appliedBy.legacy, 0),
      postings,
    };
  });
}
