/**
 * Validation of documents that arrive over HTTP (PUT /admin/state, POST /admin/change): zod
 * schemas whose errors name the field. Kept apart from transitions.ts so that the CLI verbs do
 * not load zod.
 */
import { z } from 'zod';
import { MODES } from '../config.js';
import { formatPath, issueLine } from '../validation.js';
import { stateInput } from './errors.js';
import { CHANGE_ACTIONS, parseWeight, type ChangeRequest, type StateDraft } from './transitions.js';
import { STATE_SCHEMA_VERSION } from './types.js';

const weightSchema = z.number({ message: 'must be a number' }).superRefine((n, ctx) => {
  try {
    parseWeight(n);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^weight: /, '') });
  }
});

const stateDocumentSchema = z.strictObject({
  schemaVersion: z.literal(STATE_SCHEMA_VERSION, { message: `must be ${STATE_SCHEMA_VERSION}` }).default(STATE_SCHEMA_VERSION),
  version: z.number().int().nonnegative().optional(),
  epoch: z.string().min(1).optional(),
  routes: z.record(
    z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'route names are letters, digits, _ . or -' }),
    z.strictObject({ mode: z.enum(MODES, { message: `must be one of ${MODES.join(', ')}` }), weight: weightSchema }),
  ),
  paused: z.boolean({ message: 'must be true or false' }),
  aborted: z.boolean({ message: 'must be true or false' }),
  abortReason: z.string().max(4096, { message: 'must be at most 4096 characters' }).optional(),
  updatedBy: z.string().default(''),
  updatedAt: z.string().default(''),
  plan: z
    .strictObject({
      planId: z.string().min(1),
      step: z.number().int().nonnegative(),
      stepStartedAt: z.string(),
      detail: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  waivers: z
    .array(
      z.strictObject({
        id: z.string().min(1),
        route: z.string().min(1),
        path: z.string(),
        kind: z.string().min(1),
        reason: z.string().min(1).max(4096, { message: 'must be at most 4096 characters' }),
        author: z.string().min(1),
        createdAt: z.string(),
        expiresAt: z.string(),
      }),
    )
    .optional(),
});

/** Checks a state document that arrived over HTTP. Throws an input error naming the field (`state.routes.balance.weight: ...`). */
export function validateStateDocument(doc: unknown, field = 'state'): StateDraft {
  const r = stateDocumentSchema.safeParse(doc);
  if (r.success) {
    if (r.data.aborted === false && r.data.abortReason !== undefined) delete r.data.abortReason;
    return r.data as StateDraft;
  }
  throw documentError(r.error.issues, doc, [field]);
}

/** Every problem of a document in one error: the first field names it, the message lists them all. */
function documentError(issues: readonly z.core.$ZodIssue[], raw: unknown, prefix: PropertyKey[]): Error {
  // each line once, in order, with the field it names (taken from the path: a key may hold ": ")
  const lines = new Map<string, string>();
  const add = (path: PropertyKey[], text: string) => {
    const field = formatPath(path);
    lines.set(`${field}: ${text}`, field);
  };
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) add([...prefix, ...i.path, k], 'unknown field');
    } else if (i.code === 'invalid_key') {
      // a record key that breaks its rule (a route name): zod's own line is "Invalid key in record"
      for (const k of i.issues) add([...prefix, ...i.path], `${k.message} (got ${JSON.stringify(i.path.at(-1))})`);
    } else {
      const path = [...prefix, ...i.path];
      add(path, issueLine(i, raw, prefix).slice(formatPath(path).length + 2));
    }
  }
  const [[firstLine, firstField], ...rest] = lines;
  const first = firstLine.slice(firstField.length + 2);
  return stateInput(firstField === '(root)' ? 'body' : firstField, rest.length === 0 ? first : `${first}; and ${rest.map(([line]) => line).join('; ')}`);
}

/** A service: the change applies to the routes whose V2 side it is (resolved against the replica's config). */
const upstreamName = z.string({ message: 'must be a string naming a V2 upstream' }).min(1, { message: 'must name a V2 upstream' }).optional();

const changeRequestSchema = z.discriminatedUnion(
  'action',
  [
    z.strictObject({
      action: z.literal('set-weight'),
      route: z.string().min(1).optional(),
      all: z.boolean().optional(),
      /** Several routes in one change (`set-weight --all`: the named routes it chose). */
      routes: z.array(z.string().min(1, { message: 'must name a route' }), { message: 'must be a list of route names' }).min(1, { message: 'must name at least one route' }).max(1000, { message: 'must name at most 1000 routes' }).optional(),
      // JSON numbers only: "10" in a JSON body is a type error, not a weight
      weight: z.number({ message: 'must be a number between 0 and 100' }),
      maxStep: z.number({ message: 'must be a number' }).optional(),
      force: z.boolean().optional(),
      upstream: upstreamName,
    }),
    z.strictObject({
      action: z.literal('mode'),
      // a missing field reads "is required" (issueLine); these are for a value of the wrong type
      route: z.string({ message: 'must be a string naming a route' }).optional(),
      mode: z.string({ message: `must be one of ${MODES.join(', ')}` }),
      upstream: upstreamName,
    }),
    z.strictObject({ action: z.literal('pause') }),
    z.strictObject({ action: z.literal('resume') }),
    z.strictObject({ action: z.literal('promote'), full: z.boolean().optional(), upstream: upstreamName }),
    z.strictObject({ action: z.literal('abort'), route: z.string().min(1).optional(), upstream: upstreamName }),
  ],
  { message: `must be one of ${CHANGE_ACTIONS.join(', ')}` },
);

/** Checks a change request body (POST /admin/change, without its meta fields). Throws an input error naming the field. */
export function validateChangeRequest(body: unknown): ChangeRequest {
  const r = changeRequestSchema.safeParse(body);
  if (r.success) return r.data as ChangeRequest;
  // an unknown or missing action: zod's issue already sits at `action` with the union's message
  throw documentError(r.error.issues, body, []);
}
