/**
 * The cutover.yaml reference (docs/config.md), generated from the zod schema in config.ts:
 * every field the schema accepts, its type, default and rule come from the schema itself, so a
 * change there shows up here on the next `npm run docs:config` (and test/docs/config-docs.test.ts
 * fails until it does). Only the explanations are written by hand, below, keyed by field path.
 */
import { z } from 'zod';
import { configSchema } from './config.js';

/** Explanations by path; `route.X` covers both `routes[].X` and `defaultRoute.X`. */
const EXPLAIN: Record<string, string> = {
  upstreams:
    'The services traffic moves between, by name: `NAME: URL` or `NAME: { url, connections, timeoutMs, legacyReplica }`. Names are 1 to 63 lower-case letters, digits, `_` or `-` (they become the `upstream` label of metrics). Every route has a legacy side and a V2 side, by default the upstreams called `legacy` and `v2`; when V2 is several services, each route names its own (`routes[].v2: statements-v2`). `legacy: URL` and `v2: URL` alone is the one-V2 setup.',
  'upstreams.legacyReplica': 'A second instance of the upstream called `legacy`, asked for a sample of mirrored GETs only to measure noise (how much legacy differs from itself); see `verifier.noise`. Another legacy-side upstream names its own inside its entry.',
  'upstreams.<name>.url': 'Base URL of the service (`http://` or `https://`).',
  'upstreams.<name>.connections': 'Keep-alive connections to this service (default `limits.upstreamConnections`).',
  'upstreams.<name>.timeoutMs': 'The longest any call to this service may take: a route whose `timeoutMs` is longer is cut to it.',
  'upstreams.<name>.legacyReplica': 'A second instance of this legacy-side service, for noise measurement (see `verifier.noise`).',
  'route.legacy': 'The upstream that serves this route\'s legacy side (default: the one called `legacy`). An extracted endpoint keeps the monolith here; a route moving between two new services names the older one.',
  'route.v2': 'The upstream that serves this route\'s V2 side (default: the one called `v2`). Must be a different service from its legacy side (by name and by URL).',
  listen: 'Where the proxy listens.',
  'listen.data': 'The data plane (client traffic), `HOST:PORT`.',
  'listen.admin': 'The admin plane (state, stats, diffs, `/metrics`), `HOST:PORT`. Keep it on loopback unless `adminToken` is set and the network is trusted.',
  state: 'Where the rollout state lives: `file://PATH` (one machine) or `redis://HOST:PORT/DB` (many proxy replicas). Overridden by `--state`.',
  adminToken:
    'Bearer token the admin plane requires for every change and every read of customer data (diffs, history, state, stats), at least 16 characters. Use `${CUTOVER_ADMIN_TOKEN}` to keep it out of the file: `${NAME}` is replaced from the environment when the file is loaded. The CLI sends it from `--token`, `CUTOVER_ADMIN_TOKEN` or this field.',
  replicaId: 'This proxy\'s name in the replica registry (health, abort acknowledgements). Default: host name, pid and a random suffix.',
  routes: 'The named routes, matched in order; a request no route matches goes to `defaultRoute`.',
  'routes[].name': 'Route name (letters, digits, `_ . -`), used by the CLI (`cutover set-weight NAME`), plans, stats and reports. `default` is reserved.',
  'routes[].match': 'Which requests the route takes.',
  'routes[].match.method': 'HTTP method.',
  'routes[].match.path': 'Path pattern; `:name` matches one segment and names it for `stickyBy: param:name` (`/accounts/:accountId/balance`).',
  defaultRoute: 'The route for requests no named route matches. Same fields as a route, without `match`.',
  'defaultRoute.name': 'Its name in stats and reports.',
  'route.mode': '`legacy` (all to legacy), `mirror` (clients get legacy; a copy goes to V2 and the pair is diffed), `canary` (`weight` % served by V2), `v2` (all to V2). The state store\'s value wins once the rollout has started; this is the first value.',
  'route.weight': 'V2\'s share in `canary` mode, 0 to 100 with at most two decimals (0.01 % steps).',
  'route.stickyBy': 'What keeps one caller on one side while the weight holds: `param:NAME` (a path parameter), `header:NAME`, `cookie:NAME`, or `none` (random per request). Raising the weight only moves keys from legacy to V2.',
  'route.target': 'Requests that always go to V2 whatever the weight (test accounts, internal callers).',
  'route.target.v2': 'Lists of values per header, path parameter or cookie name.',
  'route.target.v2.header': '`{ x-tenant: [internal] }`: requests with one of these header values go to V2.',
  'route.target.v2.param': '`{ accountId: [A-000001] }`: requests with one of these path parameter values go to V2.',
  'route.target.v2.cookie': '`{ beta: ["1"] }`: requests with one of these cookie values go to V2.',
  'route.mirror': 'How mirror copies are sent. Copies never change what the client gets, nor when.',
  'route.mirror.sample': 'Percent of requests copied to V2.',
  'route.mirror.maxInFlight': 'Copies in flight at most; more are dropped and counted (`shadow.dropped`).',
  'route.mirror.timeoutMs': 'A copy V2 has not answered by then is abandoned and counted (`shadow.timeouts`).',
  'route.mirror.maxRequestBodyBytes': 'Requests with a larger body are served but not copied (`shadow.skippedBody`).',
  'route.mirror.suspendAfterFailures': 'After this many copies in a row got no answer, copies are suspended for a cool-down (at least 1 s, doubling) and one probe tests V2 again; `0` never suspends.',
  'route.mirrorUnsafe':
    'Allow mirroring POST, PUT, PATCH and DELETE (and method overrides naming them). Off by default: a copy of a payment would be a second payment. Turn it on only for a V2 that cannot apply writes (a dry-run or read replica); copies carry `x-cutover-shadow: 1`. Canarying such requests is always allowed (one side serves each).',
  'route.fallbackToLegacy': 'A safe-method request (GET, HEAD, OPTIONS) V2 could not be connected for is sent to legacy instead, once, and counted.',
  'route.timeoutMs': 'Upstream timeout for requests this route serves; past it the client gets 504 `CUTOVER_ERR_UPSTREAM_TIMEOUT`.',
  'route.compare': 'How the verifier compares a legacy/V2 pair of this route. Pointers are JSON Pointers; `*` matches any array index or key.',
  'route.compare.ignore': 'Fields never compared (`/requestId`, `/asOf`).',
  'route.compare.decimal': 'Fields compared as exact decimals, so `"10.50"` equals `10.5` and money is never compared as floats.',
  'route.compare.timestamp': 'Fields compared as instants, so `2026-01-01T00:00:00Z` equals `2026-01-01T00:00:00.000+00:00`.',
  'route.compare.unorderedArrays': 'Arrays compared as sets keyed by a field: `{ /holds: id }` pairs elements by `id` whatever their order.',
  'route.compare.tolerance':
    'Numeric fields allowed to differ by at most an absolute amount: `{ /fxRate: 0.0001 }` or `{ /fxRate: { abs: 0.0001, reason: "V2 rounds later" } }`. Compared as exact decimals; a difference within it is no mismatch. Keep it off money amounts.',
  'route.compare.tolerance.<pointer>.abs': 'The largest absolute difference accepted.',
  'route.compare.tolerance.<pointer>.reason': 'Why, shown in reports.',
  'route.compare.headers': 'Response headers compared (names, lower case).',
  'route.maxBodyBytes': 'Bodies larger than this are not diffed: the pair counts as `tooLarge`, never as a match.',
  verifier: 'The diffing of mirrored pairs, off the proxy\'s hot path.',
  'verifier.queueSize': 'Pairs waiting to be diffed at most; more are dropped and counted.',
  'verifier.queueBytes': 'Bytes of bodies waiting or being diffed at most.',
  'verifier.workers': 'Worker threads that diff pairs (`0`: diff on the main thread, for tests and tiny setups).',
  'verifier.diffDir':
    'Folder where every verdict (the result of diffing one pair: route, differing fields, statuses, latencies) is appended as JSON lines to `verdicts.jsonl`, rotated to `verdicts-TIME-N.jsonl`. Useful for audits and for `cutover report`/`verify --pairs` later. Unset: verdicts are kept in memory only (the admin API\'s recent diffs and the aggregate).',
  'verifier.diffFileMaxBytes': 'Size at which a verdict file is rotated.',
  'verifier.diffFileMaxFiles': 'Verdict files kept; the oldest is deleted.',
  'verifier.examplesPerPath': 'Example pairs kept per differing path.',
  'verifier.maxPaths': 'Distinct differing paths kept per route; the rest are counted in an "other" bucket.',
  'verifier.noise': 'Noise measurement with `upstreams.legacyReplica`: a path where legacy differs from its own replica about as often as from V2 is marked noise, not a finding.',
  'verifier.noise.replicaSample': 'Percent of mirrored GETs also sent to the legacy replica.',
  'verifier.noise.relative': 'A path is noise when legacy-vs-V2 differences exceed legacy-vs-replica ones by at most this share…',
  'verifier.noise.absolute': '…or by at most this rate.',
  redact: 'What every sink (logs, verdicts, recordings, reports) masks.',
  'redact.headers': 'Exact names of headers, query parameters and JSON keys whose values are masked.',
  'redact.paths': 'JSON Pointers of body fields whose values are masked (`/card/number`).',
  record:
    'Request recording: a sampled share of the requests the proxy serves is appended to `file` as JSON lines (credentials and `redact` fields masked), for `cutover verify --replay` to send to legacy and V2 later. Unset: nothing is recorded.',
  'record.file': 'The JSONL file (relative to the working folder).',
  'record.sample': 'Percent of requests recorded.',
  adminOpen: 'Admin paths that answer without the token even when `adminToken` is set (probes and scrapes). Remove one to require the token for it too.',
  'redact.patterns': 'Name fragments that make a header, query parameter or JSON key a secret, masked wherever it appears ([docs/secrets.md](secrets.md)).',
  localState:
    "This replica's own folder for its last applied state and a break-glass abort the store has not yet taken; a proxy starting on an empty store restores from it ([docs/break-glass.md](break-glass.md)). Default: `.cutover/local/<replicaId>` when `replicaId` is set, otherwise kept in memory only.",
  breakGlass: 'Where `cutover abort` finds the replicas\' admin planes when the state store cannot be written ([docs/break-glass.md](break-glass.md)).',
  'breakGlass.admins': 'Admin plane URLs of every replica (`http://10.0.0.5:8081`).',
  'breakGlass.adminDns': '`HOST:PORT` whose every DNS address is a replica\'s admin plane (a Kubernetes headless service).',
  limits: 'Data-plane limits against slow or hostile clients, and what the proxy holds in memory ([docs/data-plane.md](data-plane.md)).',
  'limits.upstreamConnections': 'Keep-alive connections per upstream pool.',
  'limits.bodyIdleTimeoutMs': 'A request body that makes no progress for this long gets 408 and frees its upstream connection.',
  'limits.uploadShare': 'Share of an upstream\'s connections that streamed uploads may hold at once (the rest stay for other requests).',
  'limits.bufferBodyBytes': 'Request bodies up to this size are read whole before an upstream connection is taken (a slow client then holds none); larger ones are streamed and take an upload place.',
  'limits.maxHeaders': 'Request header fields allowed; more gets 431.',
  'limits.mirrorCaptureBytes': 'Bytes of captured mirror bodies (in flight and waiting for the verifier) for the whole proxy; past it pairs are dropped and counted.',
  shadow: '`cutover shadow`: the target for requests mirrored by another data plane (nginx, Envoy, Istio, GoReplay); it calls legacy and V2 and feeds the same verifier.',
  'shadow.listen': 'Where `cutover shadow` listens, `HOST:PORT` (not the admin port).',
  'shadow.legacy': 'Which legacy the shadow calls: `replica` (`upstreams.legacyReplica`; the default when set) or `primary` (`upstreams.legacy`).',
  'shadow.copyHeader': 'The header the mirroring side adds to mark a copy; never forwarded.',
  'shadow.requireCopyMark': 'Refuse (403) requests that carry neither the copy header nor Envoy\'s `-shadow` Host suffix.',
  'shadow.maxConcurrent': 'Pairs (legacy call + V2 call) in progress at once.',
  'shadow.queueSize': 'Copies waiting for a free place at most; more are dropped and counted.',
  stats: 'The proxy\'s own stats window (admin `GET /admin/stats`).',
  'stats.windowSeconds': 'Seconds of traffic the stats keep (10 to 3600).',
};

interface Row {
  path: string;
  type: string;
  dflt: string;
  rule: string;
  text: string;
}

type Js = Record<string, unknown> & { type?: string | string[]; properties?: Record<string, Js>; items?: Js; additionalProperties?: Js | boolean; anyOf?: Js[]; default?: unknown; enum?: unknown[]; minimum?: number; maximum?: number; minLength?: number; required?: string[] };

function typeOf(s: Js): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') return `map to ${typeOf(s.additionalProperties)}`;
  if (s.type === 'integer') return 'whole number';
  return String(s.type ?? 'any');
}

function ruleOf(s: Js, required: boolean): string {
  const r: string[] = [];
  if (required) r.push('required');
  if (s.minimum !== undefined && s.maximum !== undefined) r.push(`${s.minimum} to ${s.maximum}`);
  else if (s.minimum !== undefined) r.push(`at least ${s.minimum}`);
  else if (s.maximum !== undefined) r.push(`at most ${s.maximum}`);
  if (s.minLength !== undefined && s.minLength > 1) r.push(`at least ${s.minLength} characters`);
  return r.join(', ');
}

function explain(path: string): string {
  if (EXPLAIN[path]) return EXPLAIN[path]!;
  const shared = path.replace(/^(routes\[\]|defaultRoute)\./, 'route.');
  return EXPLAIN[shared] ?? '';
}

function walk(s: Js, path: string, required: boolean, rows: Row[]): void {
  if (path) {
    const dflt = s.default === undefined ? '' : JSON.stringify(s.default);
    rows.push({ path, type: typeOf(s), dflt: dflt.length > 60 ? '(see below)' : dflt, rule: ruleOf(s, required), text: explain(path) });
  }
  const obj = s.anyOf?.find((a) => a.type === 'object' && a.properties) ?? s;
  if (obj.type === 'object' && obj.properties) {
    for (const [k, v] of Object.entries(obj.properties)) walk(v, path ? `${path}.${k}` : k, (obj.required ?? []).includes(k) && v.default === undefined, rows);
  }
  if (s.type === 'array' && s.items?.type === 'object') walk({ ...s.items, default: undefined }, '', false, []);
  if (s.type === 'array' && s.items?.properties) {
    for (const [k, v] of Object.entries(s.items.properties)) walk(v, `${path}[].${k}`, (s.items.required ?? []).includes(k) && v.default === undefined, rows);
  }
  const ap = s.additionalProperties;
  if (ap && typeof ap === 'object') {
    const inner = ap.anyOf?.find((a) => a.type === 'object' && a.properties);
    if (inner?.properties) for (const [k, v] of Object.entries(inner.properties)) walk(v, `${path}.${path === 'upstreams' ? '<name>' : '<pointer>'}.${k}`, (inner.required ?? []).includes(k), rows);
  }
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The whole of docs/config.md. */
export function renderConfigReference(): string {
  const js = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Js;
  const rows: Row[] = [];
  walk(js, '', false, rows);
  const out: string[] = [
    '# cutover.yaml reference',
    '',
    '<!-- Generated from shared/config.ts by `npm run docs:config` (shared/config-reference.ts). Do not edit by hand: test/docs/config-docs.test.ts fails when this file and the schema disagree. -->',
    '',
    'The proxy, the CLI and the reports read one YAML file, `cutover.yaml` by default (`--config PATH`). It is validated when loaded: a bad field is an error that names its path, the rule and the value (exit 2), and nothing starts. `${NAME}` anywhere in the file is replaced by the environment variable `NAME` first (an unset variable is an error naming it).',
    '',
    'A small complete file: [examples/demo.cutover.yaml](../examples/demo.cutover.yaml). Plans for `cutover run` are described in [examples/plan.yaml](../examples/plan.yaml).',
    '',
    '`routes[].X` and `defaultRoute.X` take the same fields except `name` and `match`.',
    '',
    '| field | type | default | rule | what it does |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) out.push(`| \`${cell(r.path)}\` | ${cell(r.type)} | ${r.dflt ? `\`${cell(r.dflt)}\`` : ''} | ${cell(r.rule)} | ${cell(r.text)} |`);
  out.push('');
  return out.join('\n');
}
