/**
 * `npm run soak [-- --quick] [-- --faults 1,3]` (faults 1..8, see soak/faults.ts): runs the suite, writes reports/soak/summary.json
 * and summary.md, exits 1 when an invariant breaks (2 on bad arguments).
 */
import { join } from 'node:path';
import { ROOT } from '../test/helpers/processes.js';
import { FAULTS, runSoak, writeSummary, type FaultId } from './index.js';

function parseArgs(argv: string[]): { quick: boolean; faults?: FaultId[]; out: string; badInput: boolean } {
  const out = { quick: false, faults: undefined as FaultId[] | undefined, out: join(ROOT, 'reports', 'soak'), badInput: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') out.quick = true;
    else if (a === '--no-bad-input') out.badInput = false;
    else if (a === '--out') out.out = argv[++i] ?? '';
    else if (a === '--faults') {
      const ids = (argv[++i] ?? '').split(',').map(Number);
      if (ids.length === 0 || ids.some((n) => !FAULTS.some((f) => f.id === n))) throw new Error(`--faults: must be a comma list of 1..8 (got ${argv[i]})`);
      out.faults = ids as FaultId[];
    } else throw new Error(`${a}: unknown option (known: --quick, --faults 1,2, --out DIR, --no-bad-input)`);
  }
  return out;
}

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
const log = (line: string) => process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
try {
  const summary = await runSoak({ quick: args.quick, faults: args.faults, badInput: args.badInput, log });
  const files = writeSummary(args.out, summary);
  for (const c of summary.invariants.filter((x) => !x.ok)) log(`FAILED: ${c.name} — ${c.detail}`);
  log(`${summary.ok ? 'PASS' : 'FAIL'}: ${summary.invariants.filter((c) => c.ok).length}/${summary.invariants.length} invariants; ${files.json}, ${files.md}`);
  process.exit(summary.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
