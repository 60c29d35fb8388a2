/**
 * `npm run bench` (also `cutover bench`): the proxy, verifier, abort, mirror-with-V2-hanging and report benchmarks in one go,
 * plus nginx beside cutover when nginx is installed, each as its own process, one after the
 * other; then `reports/bench/summary.md` (and summary.json) from their JSON files. Not a test.
 *
 * Options: --quick (shorter rounds everywhere), --only proxy,verifier,abort,nginx,mirror-hang,report,shadow (abort also
 * measures CLI start-up; `cli` is an alias for it), --no-build (use dist/ as it is),
 * --summary-only (run nothing: write summary.md from the JSON files already in reports/bench/).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { renderSummary, type BenchFiles } from './summary.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT_DIR = join(ROOT, 'reports', 'bench');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv.includes('--only') ? (argv[argv.indexOf('--only') + 1] ?? '') : '';
const ALL = ['proxy', 'verifier', 'abort', 'nginx', 'mirror-hang', 'report', 'shadow'] as const;
type Part = (typeof ALL)[number];
const only = new Set(
  onlyArg
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (s === 'cli' ? 'abort' : s)),
);
for (const o of only) {
  if (!(ALL as readonly string[]).includes(o)) {
    process.stderr.write(`bench: --only: unknown benchmark ${JSON.stringify(o)} (known: ${ALL.join(', ')}, cli)\n`);
    process.exit(2);
  }
}
const chosen = (p: Part) => only.size === 0 || only.has(p);
const summaryOnly = argv.includes('--summary-only');

function nginxPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  return [found, '/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => p && existsSync(p)) ?? null;
}

/** Runs one benchmark script, its output passed through; resolves with its exit code. */
function runScript(script: string, args: string[]): Promise<number> {
  process.stdout.write(`\n### ${script} ${args.join(' ')}\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'benchmarks', script), ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const stop = () => child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise((res) =>
    child.on('exit', (code, sig) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      res(code ?? (sig ? 130 : 1));
    }),
  );
}

function readJson(name: string): unknown {
  const p = join(OUT_DIR, name);
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
}

async function main(): Promise<number> {
  mkdirSync(OUT_DIR, { recursive: true });
  const startedAt = new Date().toISOString();
  const machine = {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    nginx: nginxPath(),
  };
  process.stdout.write(`bench: ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}${quick ? ', quick' : ''}\n`);
  if (!argv.includes('--no-build') && !summaryOnly && chosen('abort')) {
    // abort.ts times the built CLI (bin/cutover.js -> dist/): build it first.
    process.stdout.write('building dist/ for the CLI start-up figures (npm run build)\n');
    const b = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) process.stdout.write('bench: npm run build reported errors; dist/ may be stale\n');
  }
  const codes: Record<string, number | 'skipped'> = {};
  const q = quick ? ['--quick'] : [];
  const runPart = summaryOnly ? async () => 0 : runScript;
  if (chosen('proxy')) codes.proxy = await runPart('proxy.ts', q);
  if (chosen('verifier')) codes.verifier = await runPart('verifier.ts', q);
  if (chosen('abort')) codes.abort = await runPart('abort.ts', quick ? ['--iterations', '20'] : []);
  if (chosen('nginx')) codes.nginx = machine.nginx ? await runPart('nginx.ts', q) : 'skipped';
  if (chosen('mirror-hang')) codes['mirror-hang'] = await runPart('mirror-hang.ts', q);
  if (chosen('report')) codes.report = await runPart('report.ts', quick ? ['--rounds', '2'] : []);
  // Prints its own table and writes reports/bench/shadow.json (not in summary.md yet).
  if (chosen('shadow')) codes.shadow = machine.nginx ? await runPart('shadow.ts', q) : 'skipped';

  const files: BenchFiles = {
    proxy: chosen('proxy') ? readJson('proxy.json') : null,
    verifier: chosen('verifier') ? readJson('verifier.json') : null,
    abort: chosen('abort') ? readJson('abort.json') : null,
    nginx: chosen('nginx') && machine.nginx ? readJson('nginx.json') : null,
    mirrorHang: chosen('mirror-hang') ? readJson('mirror-hang.json') : null,
  } as BenchFiles;
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const md = renderSummary({ machine, startedAt, finishedAt: new Date().toISOString(), command, codes, files });
  writeFileSync(join(OUT_DIR, 'summary.md'), md);
  writeFileSync(join(OUT_DIR, 'summary.json'), JSON.stringify({ schemaVersion: 1, machine, startedAt, command, exitCodes: codes, files: Object.fromEntries(Object.entries(files).filter(([, v]) => v !== null).map(([k]) => [k, `reports/bench/${k}.json`])) }, null, 2) + '\n');
  process.stdout.write(`\n${md}\nwrote ${join(OUT_DIR, 'summary.md')}\n`);
  return Object.values(codes).every((c) => c === 0 || c === 'skipped') ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
