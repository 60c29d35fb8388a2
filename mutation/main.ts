// `npm run mutate [-- <group|file>...] [--concurrency N] [--force]`: Stryker over the safety
// cores. A selector is a group name (plan, verifier, state, routing, request, authority) or part of a core's file
// name (`analysis`, `normalize.ts`); with none, every group runs, one after the other. Prints,
// per file: total, killed, survived, no coverage and score; survivors go to
// .stryker-tmp/survivors-<selection>.txt. Runs are incremental (unchanged mutants with
// unchanged tests keep their last result); --force tests every mutant. Not part of `npm test`:
// a full run of a group takes 5 to 40 minutes on two busy cores.
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

interface Options {
  selectors: string[];
  concurrency: number;
  /** Test every mutant again instead of reusing unchanged results from the last run. */
  force: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const selectors: string[] = [];
  let concurrency = 2;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--concurrency' || arg === '-c') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) {
        throw new UsageError(`--concurrency must be a whole number of at least 1, got "${argv[i] ?? ''}"`);
      }
      concurrency = value;
    } else if (arg === '--force') {
      force = true;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option "${arg}"; use a group or file name, --concurrency N or --force`);
    } else {
      selectors.push(arg);
    }
  }
  return { selectors, concurrency, force };
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

/** One result file per selection: a run of one core does not overwrite its group's results. */
function selectionKey(selection: Selection): string {
  if (selection.cores.length === selection.group.cores.length) return selection.group.name;
  return [selection.group.name, ...selection.cores.map((c) => path.basename(c, '.ts'))].join('-');
}

async function runGroup(selection: Selection, options: Options): Promise<MutantResult[]> {
  const { group } = selection;
  const key = selectionKey(selection);
  const stryker = new Stryker({
    testRunner: 'vitest',
    plugins: ['@stryker-mutator/vitest-runner'],
    vitest: { configFile: `mutation/vitest.${group.name}.config.ts`, related: false },
    mutate: [...selection.cores],
    coverageAnalysis: 'perTest',
    concurrency: options.concurrency,
    // Stryker's incremental mode: a mutant whose code and covering tests did not change since
    // the last run keeps its result (the report names what it reused); --force tests all.
    incremental: true,
    incrementalFile: `${TEMP_DIR}/incremental/${key}.json`,
    force: options.force,
    reporters: [process.stdout.isTTY ? 'progress' : 'progress-append-only', 'json'],
    jsonReporter: { fileName: `${TEMP_DIR}/reports/${key}.json` },
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
  const options = parseArgs(process.argv.slice(2));
  const selections = select(options.selectors);
  const summaries: string[] = [];
  for (const selection of selections) {
    const started = Date.now();
    const results = await runGroup(selection, options);
    const seconds = Math.round((Date.now() - started) / 1000);
    const survivors = survivorLines(results);
    await mkdir(TEMP_DIR, { recursive: true });
    const survivorFile = `${TEMP_DIR}/survivors-${selectionKey(selection)}.txt`;
    await writeFile(survivorFile, survivors.join('\n') + '\n');
    summaries.push(
      `${selectionKey(selection)}: ${seconds} s at concurrency ${options.concurrency}${options.force ? ', every mutant' : ''}; ` +
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
