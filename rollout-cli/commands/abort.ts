/**
 * `cutover abort [--route R] --reason TEXT [--timeout ms]`: the on-call button. Sends every route
 * (or R) to legacy and returns when every live replica has applied it, saying how long that
 * took; after the timeout it names the replicas that have not and exits 1.
 */
import type { ReplicaInfo } from '../../shared/state/types.js';
import { usageError } from '../errors.js';
import { formatAge, painter, printJson, println } from '../output.js';
import { asCliError, defaultBy, resolveTarget } from '../target.js';

function describe(r: ReplicaInfo): string {
  return `${r.id} (pid ${r.pid} on ${r.host}${r.adminUrl ? `, ${r.adminUrl}` : ''}; applied version ${r.appliedVersion}, last heartbeat ${formatAge(Date.now() - Date.parse(r.lastSeen))})`;
}

export async function run(_args: string[], opts: Record<string, any>): Promise<number> {
  const reason = typeof opts.reason === 'string' ? opts.reason.trim() : '';
  if (!reason) throw usageError('--reason', 'is required: say why you abort (it goes into the history)');
  const timeoutText = String(opts.timeout ?? '2000');
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) < 1 || Number(timeoutText) > 600_000) {
    throw usageError('--timeout', `must be a whole number of milliseconds between 1 and 600000 (got ${timeoutText})`);
  }
  const staleText = String(opts.staleAfter ?? '5000');
  if (!/^\d+$/.test(staleText) || Number(staleText) < 1) throw usageError('--stale-after', `must be a whole number of milliseconds (got ${staleText})`);
  const target = await resolveTarget(opts);
  try {
    const r = await target.abort({ reason, route: opts.route, by: opts.by ?? defaultBy(), timeoutMs: Number(timeoutText), staleMs: Number(staleText) });
    if (opts.json) {
      printJson({
        command: 'abort',
        ok: r.ok,
        version: r.state.version,
        elapsedMs: r.elapsedMs,
        appliedBy: r.appliedBy,
        notApplied: r.notApplied,
        stale: r.stale,
        state: r.state,
      });
    } else {
      const p = painter();
      const what = opts.route ? `route ${opts.route} to legacy` : 'every route to legacy';
      const live = r.appliedBy.length + r.notApplied.length;
      if (live === 0) {
        println(`${p.yellow('abort')}: ${what} (version ${r.state.version}); no live replica is registered, so none had to apply it`);
      } else if (r.ok) {
        println(`${p.green('abort applied')}: ${what} (version ${r.state.version}); all ${live} live replicas applied it in ${r.elapsedMs} ms`);
      } else {
        println(`${p.red('abort NOT applied everywhere')}: ${what} (version ${r.state.version} is written); after ${r.elapsedMs} ms ${r.notApplied.length} of ${live} live replicas have not applied it:`);
        for (const n of r.notApplied) println(`  ${describe(n)}`);
        println(`check those replicas (they keep routing on their old state until they apply it), then run \`cutover status\``);
      }
      if (r.stale.length) println(p.dim(`not waited for (stale heartbeat): ${r.stale.map((s) => s.id).join(', ')}`));
    }
    return r.ok ? 0 : 1;
  } catch (err) {
    throw asCliError(err);
  } finally {
    await target.close();
  }
}
