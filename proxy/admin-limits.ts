/**
 * Bounds on what one admin request may cost: a request whose headers and body have not all
 * arrived within ADMIN_REQUEST_TIMEOUT_MS gets `408 Request Timeout` and its connection is
 * closed (a body shorter than its Content-Length would otherwise hold a socket forever); a
 * body over ADMIN_BODY_LIMIT_BYTES gets 413.
 */
import http from 'node:http';
import type { FastifyServerOptions } from 'fastify';

export const ADMIN_REQUEST_TIMEOUT_MS = 10_000;
export const ADMIN_BODY_LIMIT_BYTES = 1_048_576;

export function adminServerOptions(): FastifyServerOptions & { serverFactory: (handler: http.RequestListener) => http.Server } {
  return {
    logger: false,
    return503OnClosing: false,
    forceCloseConnections: true,
    bodyLimit: ADMIN_BODY_LIMIT_BYTES,
    // Node answers 408 itself once the whole request has not arrived in time; it checks every second.
    serverFactory: (handler) =>
      http.createServer({ requestTimeout: ADMIN_REQUEST_TIMEOUT_MS, headersTimeout: ADMIN_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1000 }, handler),
  };
}
