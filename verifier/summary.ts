/** The human summary of an aggregate snapshot, as `cutover verify` prints it. */
import { stringifyExact } from './json-exact.js';
import type { AggregateSnapshot, PathAggregate } from './types.js';

function pct(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}

function show(v: unknown): string {
  if (v === undefined) return '(absent)';
  const s = stringifyExact(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function pad(s: string | number, n: number, right = false): string {
  const t = String(s);
  return right ? t.padStart(n) : t.padEnd(n);
}

function pathLine(route: string, p: PathAggregate, count: number, routePairs: number): string {
  const ex = p.examples[0];
  const example = ex ? `  e.g. ${ex.method} ${ex.path} ${ex.pointer}: legacy ${show(ex.legacy)} -> v2 ${show(ex.v2)}` : '';
  return `  ${route}  ${p.path || '(root)'}  ${p.kind}  ${count} pair${count === 1 ? '' : 's'} (${pct(routePairs ? count / routePairs : 0)})${example}`;
}

export function renderSummary(snap: AggregateSnapshot, header: string): string {
  const lines: string[] = [header, ''];
  const w = Math.max(5, ...snap.routes.map((r) => r.route.length));
  lines.push(`${pad('route', w)}  ${pad('pairs', 7, true)}  ${pad('match', 7, true)}  ${pad('mismatch', 8, true)}  ${pad('waived', 6, true)}  ${pad('noise', 6, true)}  ${pad('error', 6, true)}  ${pad('mismatch rate', 13, true)}`);
  for (const r of snap.routes) {
    lines.push(
      `${pad(r.route, w)}  ${pad(r.pairs, 7, true)}  ${pad(r.match, 7, true)}  ${pad(r.mismatch, 8, true)}  ${pad(r.waived, 6, true)}  ${pad(r.noise, 6, true)}  ${pad(r.error, 6, true)}  ${pad(pct(r.mismatchRate), 13, true)}`,
    );
  }
  const open = snap.routes.flatMap((r) => r.paths.filter((p) => p.count > 0).map((p) => pathLine(r.route, p, p.count, r.pairs)));
  const waived = snap.routes.flatMap((r) => r.paths.filter((p) => p.waived > 0).map((p) => pathLine(r.route, p, p.waived, r.pairs)));
  const noise = snap.routes.flatMap((r) => r.paths.filter((p) => p.noise > 0).map((p) => pathLine(r.route, p, p.noise, r.pairs)));
  const volatile = snap.routes.flatMap((r) => r.paths.filter((p) => p.suspectedVolatile).map((p) => `  ${r.route}  ${p.path}`));
  if (open.length) lines.push('', 'open findings:', ...open);
  if (waived.length) lines.push('', 'waived:', ...waived);
  if (noise.length) lines.push('', 'noise (legacy differs from its replica as often):', ...noise);
  if (volatile.length) lines.push('', 'suspected volatile (ids or clocks; consider compare.ignore):', ...volatile);
  const errors = snap.routes.filter((r) => r.error > 0).map((r) => `  ${r.route}: ${r.error} pair${r.error === 1 ? '' : 's'} not compared (an upstream did not answer)`);
  if (errors.length) lines.push('', 'errors:', ...errors);
  const tooLarge = snap.routes.filter((r) => r.tooLarge > 0).map((r) => `  ${r.route}: ${r.tooLarge} pair${r.tooLarge === 1 ? '' : 's'} over maxBodyBytes (bodies not compared)`);
  if (tooLarge.length) lines.push('', 'too large:', ...tooLarge);
  return lines.join('\n') + '\n';
}
