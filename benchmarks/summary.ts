/**
 * The Markdown summary of one `npm run bench`: the machine, then one table per benchmark from
 * its JSON file, with the targets of shared/performance.md beside the figures. Pure: data in,
 * text out. A benchmark that did not run (or whose file is missing) says so.
 */

interface Spread {
  median: number;
  min: number;
  max: number;
}
interface ProxySetup {
  rps: Spread;
  p99Ms: Spread;
  cpuUsPerRequest: Spread | null;
  /** Mirror setups: pairs the verifier took during the measured runs, and pairs dropped. */
  pairs?: { accepted: number; dropped: number } | null;
  vsDirect: number;
  vsBare: number | null;
  cpuVsBare?: number | null;
}
interface ProxyFile {
  at: string;
  method: { rounds: number; durationSeconds: number; connections: number };
  machine: { pinned: boolean };
  setups: Record<string, ProxySetup>;
}
interface NginxSetup extends ProxySetup {
  vsNginx: number;
}
interface NginxFile {
  at: string;
  machine: { nginx: string; pinned: boolean };
  method: { rounds: number; durationSeconds: number; connections: number };
  setups: Record<string, NginxSetup>;
  targets: { canaryVsNginx: { target: number; measured: number }; mirrorVsNginxMirror: { target: number; measured: number } };
}
interface VerifierFile {
  generatedAt: string;
  smallPair: { bytesPerSide: number; pairsPerCpuSecond: Spread; target: number };
  largePair: { bytesPerSide: number; pairsPerCpuSecond: Spread };
  hierarchy200k: { workerMs: Spread; inlineThreadCpuMs: Spread; targetMs: number };
  eventLoop: { offerRatePerSecond: number; diffingOffP99Ms: Spread; diffingOnP99Ms: Spread; pipelineMainThreadUsPerPair: Spread };
}
interface Quantiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}
interface AbortFile {
  at: string;
  iterations: number;
  replicas: number;
  redis: { applied: Quantiles; acknowledged: Quantiles; failures: number };
  file: { applied: Quantiles; acknowledged: Quantiles; failures: number };
  cli: { help: Quantiles & { median: number; min: number }; statusJsonRedis: Quantiles & { median: number; min: number }; statusJsonFile: Quantiles & { median: number; min: number } };
}

interface MirrorHangFile {
  method: { rounds: number; runSeconds: number; offeredRate: number; connections: number; memorySeconds: number };
  results: {
    latency: { healthy: { p99Ms: Spread; p50Ms: number }; hanging: { p99Ms: Spread; p50Ms: number } };
    memory: { seconds: number; startRssMb: number; peakRssMb: number; endRssMb: number; rps: number; non2xx: number; errors: number };
    client: { non2xx: number; errors: number };
  };
  targets: { p99Ratio: { target: number; measured: number }; peakRssMb: { target: number; measured: number } };
}

export interface BenchFiles {
  proxy: ProxyFile | null;
  verifier: VerifierFile | null;
  abort: AbortFile | null;
  mirrorHang?: MirrorHangFile | null;
  nginx: NginxFile | null;
}

export interface SummaryInput {
  machine: { cores: number; cpuModel: string; memoryGiB: number; node: string; platform: string; loadAverageAtStart: number[]; nginx: string | null };
  startedAt: string;
  finishedAt: string;
  command: string;
  codes: Record<string, number | 'skipped'>;
  files: BenchFiles;
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const f1 = (x: number) => (Math.round(x * 10) / 10).toString();
const f2 = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(2));
const spread = (s: Spread, f: (x: number) => string = n0) => `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
const met = (ok: boolean) => (ok ? 'met' : '**not met**');

export function machineLine(m: SummaryInput['machine']): string {
  return `${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; load average at start ${m.loadAverageAtStart.join(' / ')} (a shared machine: ratios measured in the same run, not absolute figures, are what carries over)`;
}

function proxySection(p: ProxyFile): string[] {
  const order = ['direct', 'bare-http-proxy', 'bare+copy', 'cutover-legacy', 'cutover-canary', 'cutover-mirror', 'cutover-mirror-mismatch', 'cutover-mirror-noverify'];
  const names: Record<string, string> = {
    direct: 'direct to the origin',
    'bare-http-proxy': 'bare Fastify 5 + @fastify/http-proxy',
    'bare+copy': 'bare + fire-and-forget copy to V2',
    'cutover-legacy': 'cutover, mode legacy',
    'cutover-canary': 'cutover, canary 10 % (sticky by accountId)',
    'cutover-mirror': 'cutover, mirror 100 %, every pair diffed',
    'cutover-mirror-mismatch': 'cutover, mirror 100 %, every pair diffed, every pair a mismatch',
    'cutover-mirror-noverify': 'cutover, mirror 100 %, verifier off',
  };
  const lines = [
    `## Proxy (\`npm run bench:proxy\`, ${p.method.rounds} rounds x ${p.method.durationSeconds} s, ${p.method.connections} connections, ${p.machine.pinned ? 'proxy pinned to core 0, origin + load to core 1' : 'not pinned'})`,
    '',
    '| setup | rps median (min-max) | p99 ms | proxy CPU µs/req | vs direct | vs bare |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const k of order) {
    const s = p.setups[k];
    if (!s) continue;
    lines.push(`| ${names[k] ?? k} | ${spread(s.rps)} | ${f1(s.p99Ms.median)} | ${s.cpuUsPerRequest ? f1(s.cpuUsPerRequest.median) : '-'} | ${f2(s.vsDirect)} | ${f2(s.vsBare)} |`);
  }
  const canary = p.setups['cutover-canary'];
  const mirror = p.setups['cutover-mirror'];
  const bare = p.setups['bare-http-proxy'];
  lines.push('');
  if (canary) {
    const cpu = canary.cpuUsPerRequest?.median;
    // The 40 µs target was set on a machine where bare @fastify/http-proxy costs 46 µs; this
    // machine's speed is gauged by bare's CPU per request in the same run.
    const scaled = cpu !== undefined && bare?.cpuUsPerRequest ? (cpu * REFERENCE_BARE_CPU_US) / bare.cpuUsPerRequest.median : undefined;
    lines.push(
      `- target canary >= 1.0x bare: ${f2(canary.vsBare)} (${met((canary.vsBare ?? 0) >= 1)}); <= 40 µs CPU/req: ${cpu !== undefined ? f1(cpu) : '-'} here` +
        (scaled !== undefined ? `, ${f1(scaled)} scaled to the reference machine (bare ${f1(bare!.cpuUsPerRequest!.median)} µs here, ${REFERENCE_BARE_CPU_US} there) (${met(scaled <= 40)})` : ` (${met(cpu !== undefined && cpu <= 40)})`),
    );
  }
  if (mirror) lines.push(`- target mirror (diffing every pair) >= 0.7x bare: ${f2(mirror.vsBare)} (${met((mirror.vsBare ?? 0) >= 0.7)})`);
  for (const k of ['cutover-mirror', 'cutover-mirror-mismatch']) {
    const pairs = p.setups[k]?.pairs;
    if (pairs) lines.push(`- ${names[k]}: ${n0(pairs.accepted)} pairs to the verifier in the measured runs, ${n0(pairs.dropped)} dropped`);
  }
  return lines;
}

function nginxSection(x: NginxFile): string[] {
  const order = ['direct', 'nginx-proxy', 'nginx-split-clients-10', 'nginx-mirror', 'bare-http-proxy', 'cutover-canary-10', 'cutover-mirror'];
  const names: Record<string, string> = {
    direct: 'direct to the origin',
    'nginx-proxy': 'nginx reverse proxy, upstream keepalive',
    'nginx-split-clients-10': 'nginx `split_clients` canary 10 %',
    'nginx-mirror': 'nginx `mirror` to V2',
    'bare-http-proxy': 'bare Fastify 5 + @fastify/http-proxy',
    'cutover-canary-10': 'cutover, canary 10 %',
    'cutover-mirror': 'cutover, mirror, every pair diffed',
  };
  const lines = [
    `## Beside nginx (\`npm run bench:nginx\`, ${x.machine.nginx}, ${x.method.rounds} rounds x ${x.method.durationSeconds} s, ${x.method.connections} connections, same run)`,
    '',
    '| setup | rps median (min-max) | p99 ms | proxy CPU µs/req | vs direct | vs nginx | vs bare |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const k of order) {
    const s = x.setups[k];
    if (!s) continue;
    lines.push(`| ${names[k] ?? k} | ${spread(s.rps)} | ${f1(s.p99Ms.median)} | ${s.cpuUsPerRequest ? f1(s.cpuUsPerRequest.median) : '-'} | ${f2(s.vsDirect)} | ${f2(s.vsNginx)} | ${f2(s.vsBare)} |`);
  }
  const t = x.targets;
  lines.push('', `- target canary >= 0.6x nginx: ${f2(t.canaryVsNginx.measured)} (${met(t.canaryVsNginx.measured >= 0.6)}); mirror >= 1.5x nginx's mirror: ${f2(t.mirrorVsNginxMirror.measured)} (${met(t.mirrorVsNginxMirror.measured >= 1.5)})`);
  return lines;
}

function verifierSection(v: VerifierFile): string[] {
  return [
    '## Verifier (`npm run bench:verifier`)',
    '',
    '| measure | median (min-max) | target |',
    '| --- | --- | --- |',
    `| pairs diffed per CPU-second, ~${v.smallPair.bytesPerSide} B a side | ${spread(v.smallPair.pairsPerCpuSecond)} | >= ${n0(v.smallPair.target)} (${met(v.smallPair.pairsPerCpuSecond.median >= v.smallPair.target)}) |`,
    `| pairs diffed per CPU-second, ~${Math.round(v.largePair.bytesPerSide / 1000)} KB a side | ${spread(v.largePair.pairsPerCpuSecond)} | - |`,
    `| the 200,000-account pair in a worker, wall ms | ${spread(v.hierarchy200k.workerMs)} | <= ${v.hierarchy200k.targetMs} (${met(v.hierarchy200k.workerMs.median <= v.hierarchy200k.targetMs)}) |`,
    `| the same pair, CPU ms of the diffing thread | ${spread(v.hierarchy200k.inlineThreadCpuMs)} | - |`,
    `| event-loop p99 ms at ${n0(v.eventLoop.offerRatePerSecond)} pairs/s, diffing off -> on | ${f2(v.eventLoop.diffingOffP99Ms.median)} -> ${f2(v.eventLoop.diffingOnP99Ms.median)} | - |`,
    `| proxy-thread µs per pair handed to the verifier | ${spread(v.eventLoop.pipelineMainThreadUsPerPair, f1)} | - |`,
  ];
}

/** Bare @fastify/http-proxy's CPU per request on the machine shared/performance.md's targets were set on. */
const REFERENCE_BARE_CPU_US = 46;

function mirrorHangSection(m: MirrorHangFile): string[] {
  const l = m.results.latency;
  const mem = m.results.memory;
  return [
    `## Mirror with V2 hanging (\`npm run bench:mirror-hang\`, ${m.method.rounds} rounds x ${m.method.runSeconds} s at ${n0(m.method.offeredRate)} req/s, then ${mem.seconds} s at max rate)`,
    '',
    '| measure | healthy V2 | hanging V2 |',
    '| --- | --- | --- |',
    `| client p50 ms | ${f2(l.healthy.p50Ms)} | ${f2(l.hanging.p50Ms)} |`,
    `| client p99 ms, median (min-max) | ${spread(l.healthy.p99Ms, f2)} | ${spread(l.hanging.p99Ms, f2)} |`,
    '',
    `- target client p99 unchanged (hanging <= 1.1x healthy): ${f2(m.targets.p99Ratio.measured)} (${met(m.targets.p99Ratio.measured <= m.targets.p99Ratio.target)}); the healthy proxy diffs every pair, the hanging one diffs none (its copies wait for the timeout or are dropped at the cap)`,
    `- target RSS <= 300 MB after ${mem.seconds} s of max-rate mirroring with V2 hanging: peak ${f1(mem.peakRssMb)} MB (start ${f1(mem.startRssMb)}, end ${f1(mem.endRssMb)}) at ${n0(mem.rps)} req/s (${met(mem.peakRssMb <= m.targets.peakRssMb.target)}); client non-2xx ${m.results.client.non2xx + mem.non2xx}, errors ${m.results.client.errors + mem.errors}`,
  ];
}

function abortSection(a: AbortFile): string[] {
  const row = (name: string, q: Quantiles) => `| ${name} | ${f1(q.p50)} | ${f1(q.p99)} | ${f1(q.max)} | ${q.n} |`;
  return [
    `## Abort propagation and CLI start-up (\`npm run bench:abort\`, ${a.replicas} replicas, ${a.iterations} aborts)`,
    '',
    '| measure, ms | p50 | p99 | max | n |',
    '| --- | --- | --- | --- | --- |',
    row('abort applied by every replica, Redis store', a.redis.applied),
    row('abort acknowledged to the CLI, Redis store', a.redis.acknowledged),
    row('abort applied by every replica, file store', a.file.applied),
    row('`cutover --help` (built CLI, wall)', a.cli.help),
    row('`cutover status --json`, Redis (wall)', a.cli.statusJsonRedis),
    row('`cutover status --json`, file (wall)', a.cli.statusJsonFile),
    '',
    `- target abort p99 <= 50 ms on Redis: ${f1(a.redis.applied.p99)} (${met(a.redis.applied.p99 <= 50)}); \`--help\` <= 300 ms: median ${f1(a.cli.help.median)} (${met(a.cli.help.median <= 300)}); failures: Redis ${a.redis.failures}, file ${a.file.failures}`,
  ];
}

export function renderSummary(s: SummaryInput): string {
  const out = [
    '# cutover benchmarks',
    '',
    `Command: \`${s.command}\`, ${s.startedAt} to ${s.finishedAt}.`,
    '',
    `Machine: ${machineLine(s.machine)}.`,
    '',
  ];
  const missing = (name: string, why: string) => out.push(`## ${name}`, '', why, '');
  const code = (k: string) => s.codes[k];
  const why = (k: string) => (code(k) === undefined ? 'not run (--only)' : code(k) === 'skipped' ? 'skipped' : `no result file (exit ${code(k)})`);
  if (s.files.proxy) out.push(...proxySection(s.files.proxy), '');
  else missing('Proxy', why('proxy'));
  if (s.files.nginx) out.push(...nginxSection(s.files.nginx), '');
  else missing('Beside nginx', code('nginx') === 'skipped' ? 'skipped: nginx is not installed (`apt-get install nginx-light`)' : why('nginx'));
  if (s.files.mirrorHang) out.push(...mirrorHangSection(s.files.mirrorHang), '');
  else missing('Mirror with V2 hanging', why('mirror-hang'));
  if (s.files.verifier) out.push(...verifierSection(s.files.verifier), '');
  else missing('Verifier', why('verifier'));
  if (s.files.abort) out.push(...abortSection(s.files.abort), '');
  else missing('Abort propagation and CLI start-up', why('abort'));
  const failed = Object.entries(s.codes).filter(([, c]) => c !== 0 && c !== 'skipped');
  if (failed.length) out.push(`Benchmarks that exited non-zero: ${failed.map(([k, c]) => `${k} (${c})`).join(', ')}.`, '');
  out.push('JSON: `reports/bench/{proxy,nginx,mirror-hang,verifier,abort}.json`. Benchmarks are not tests and do not run in CI.', '');
  return out.join('\n');
}
