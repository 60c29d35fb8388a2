// `npm run mutate [-- <group|file>...] [--concurrency N]`: Stryker over the safety cores.
// A selector is a group name (plan, verifier, state, routing) or part of a core's file name
// (`analysis`, `normalize.ts`); with none, every group runs, one after the other. Prints, per
// file: total, killed, survived, no coverage and score; survivors go to
// .stryker-tmp/survivors-<group>.txt. Not part of `npm test`: a full run takes minutes.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Stryker } from '@stryker-mutator/core';
import { MUTATION_GROUPS, type MutationGroup } from './groups.js';

type MutantResult = Awaited<ReturnType<Stryker['runMutationTest']>>[number];

interface Selection {
  readonly group: MutationGroup;
  readonly cores: readonly string[];
}

const TEMP_DIR = '.stryker-tmp';

function parseArgs(argv: readonly string[]): { selectors: string[]; concurrency: number } {
  const selectors: string[] = [];
  let concurrency = 2;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--concurrency' || arg === '-c') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) {
        throw new UsageError(`--concurrency must be a whole number of at least 1, got "${argv[i] ?? ''}"`);
      }
      concurrency = value;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option "${arg}"; use a group or file name, or --concurrency N`);
    } else {
      selectors.push(arg);
    }
  }
  return { selectors, concurrency };
}

class UsageError extends Error {}

function select(selectors: readonly string[]): Selection[] {
  if (selectors.length === 0) return MUTATION_GROUPS.map((group) => ({ group, cores: group.cores }));
  const picked = new Map<MutationGroup, Set<string>>();
  for (const selector of selectors) {
    const byGroup = MUTATION_GROUPS.find((g) => g.name === selector);
    const matches = byGroup
      ? byGroup.cores.map((core) => [byGroup, core] as const)
      : MUTATION_GROUPS.flatMap((g) => g.cores.filter((core) => core.includes(selector)).map((core) => [g, core] as const));
    if (matches.length === 0) {
      const names = MUTATION_GROUPS.map((g) => g.name).join(', ');
      throw new UsageError(`"${selector}" names no mutation group (${names}) and no core file`);
    }
    for (const [group, core] of matches) {
      const cores = picked.get(group) ?? new Set<string>();
      cores.add(core);
      picked.set(group, cores);
    }
  }
  return [...picked].map(([group, cores]) => ({ group, cores: [...cores] }));
}

async function runGroup(selection: Selection, concurrency: number): Promise<MutantResult[]> {
  const { group } = selection;
  const stryker = new Stryker({
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: `mutation/vitest.${group.name}.config.ts`, related: false },
    mutate: [...selection.cores],
    coverageAnalysis: 'perTest',
    concurrency,
    reporters: [process.stdout.isTTY ? 'progress' : 'progress-append-only', 'json'],
    jsonReporter: { fileName: `${TEMP_DIR}/reports/${group.name}.json` },
    tempDirName: TEMP_DIR,
    cleanTempDir: true,
    ignorePatterns: ['dist', 'reports/out', 'reports/bench', 'reports/soak', 'test-artifacts', '.cutover', 'soak', 'benchmarks'],
    timeoutMS: 10_000,
  });
  return stryker.runMutationTest();
}

interface Row {
  file: string;
  total: number;
  killed: number;
  survived: number;
  noCoverage: number;
  score: number;
}

function tally(results: readonly MutantResult[]): Row[] {
  const rows = new Map<string, Row>();
  for (const mutant of results) {
    const file = path.relative(process.cwd(), path.resolve(mutant.fileName));
    const row = rows.get(file) ?? { file, total: 0, killed: 0, survived: 0, noCoverage: 0, score: 0 };
    rows.set(file, row);
    // Stryker's score: detected (killed or timed out) over valid mutants; mutants that do
    // not compile or crash the runner are not counted.
    if (mutant.status === 'Killed' || mutant.status === 'Timeout') row.killed++;
    else if (mutant.status === 'Survived') row.survived++;
    else if (mutant.status === 'NoCoverage') row.noCoverage++;
    else continue;
    row.total++;
  }
  for (const row of rows.values()) row.score = row.total === 0 ? 100 : (100 * row.killed) / row.total;
  return [...rows.values()];
}

function formatRows(rows: readonly Row[]): string {
  const lines = ['| file | total | killed | survived | no coverage | score |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| \`${r.file}\` | ${r.total} | ${r.killed} | ${r.survived} | ${r.noCoverage} | ${r.score.toFixed(1)} % |`);
  }
  return lines.join('\n');
}

function survivorLines(results: readonly MutantResult[]): string[] {
  return results
    .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    .map((m) => {
      const file = path.relative(process.cwd(), path.resolve(m.fileName));
      const at = `${file}:${m.location.start.line}:${m.location.start.column + 1}`;
      return `${at} ${m.status} ${m.mutatorName}: ${JSON.stringify(m.replacement)}`;
    })
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

async function main(): Promise<void> {
  const { selectors, concurrency } = parseArgs(process.argv.slice(2));
  const selections = select(selectors);
  const summaries: string[] = [];
  for (const selection of selections) {
    const started = Date.now();
    const results = await runGroup(selection, concurrency);
    const seconds = Math.round((Date.now() - started) / 1000);
    const survivors = survivorLines(results);
    await mkdir(TEMP_DIR, { recursive: true });
    const survivorFile = `${TEMP_DIR}/survivors-${selection.group.name}.txt`;
    await writeFile(survivorFile, survivors.join('\n') + '\n');
    summaries.push(
      `group ${selection.group.name}: ${seconds} s at concurrency ${concurrency}; ` +
        `${survivors.length} survivors in ${survivorFile}\n${formatRows(tally(results))}`,
    );
  }
  process.stdout.write(`\n${summaries.join('\n\n')}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`cutover mutate: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`cutover mutate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
