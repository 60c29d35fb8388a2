/**
 * Errors of the demo services. Every HTTP error body is `{ error: { code, message } }` with a
 * stable `CUTOVER_ERR_SVC_*` code; 4xx messages name the field or parameter and what to send.
 */
import { CutoverError, InputError } from '../shared/errors.js';

export const SVC_ERR = {
  BAD_REQUEST: 'CUTOVER_ERR_SVC_BAD_REQUEST',
  NOT_FOUND: 'CUTOVER_ERR_SVC_NOT_FOUND',
  ROUTE_NOT_FOUND: 'CUTOVER_ERR_SVC_ROUTE_NOT_FOUND',
  IDEMPOTENCY_CONFLICT: 'CUTOVER_ERR_SVC_IDEMPOTENCY_CONFLICT',
  UNAUTHENTICATED: 'CUTOVER_ERR_SVC_UNAUTHENTICATED',
  FORBIDDEN: 'CUTOVER_ERR_SVC_FORBIDDEN',
  RATE_LIMITED: 'CUTOVER_ERR_SVC_RATE_LIMITED',
  INJECTED_FAULT: 'CUTOVER_ERR_SVC_INJECTED_FAULT',
  INJECTED_THROTTLE: 'CUTOVER_ERR_SVC_INJECTED_THROTTLE',
  PAYLOAD_TOO_LARGE: 'CUTOVER_ERR_SVC_PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'CUTOVER_ERR_SVC_UNSUPPORTED_MEDIA_TYPE',
  INTERNAL: 'CUTOVER_ERR_SVC_INTERNAL',
  FAULT_SPEC: 'CUTOVER_ERR_SVC_FAULT_SPEC',
  START: 'CUTOVER_ERR_SVC_START',
} as const;

/** An error answered over HTTP with a status, a stable code and optional extra headers. */
export class ServiceError extends CutoverError {
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, opts: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(code, message, { status, exitCode: status < 500 ? 2 : 1, cause: opts.cause });
    this.name = 'ServiceError';
    this.headers = opts.headers ?? {};
  }
}

/** 400 naming the field (body field, query or path parameter, header) and the rule it broke. */
export function badRequest(field: string, reason: string): ServiceError {
  return new ServiceError(400, SVC_ERR.BAD_REQUEST, `${field}: ${reason}`);
}

export function notFound(kind: string, id: string): ServiceError {
  return new ServiceError(404, SVC_ERR.NOT_FOUND, `${kind} ${id} does not exist`);
}

/** A bad `--fault` / `PUT /_admin/faults` spec: exit 2 on the CLI, 400 over HTTP. */
export function faultSpecError(field: string, reason: string): InputError {
  return new InputError(SVC_ERR.FAULT_SPEC, field, reason);
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
