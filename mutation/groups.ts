// The safety cores under mutation testing, in groups that share their tests. Each group runs
// with its own small vitest config (mutation/vitest.<group>.config.ts) that includes only
// the pure test files below: Stryker's `testFiles` option would leave module-level mutants
// (regexes, constant tables) inactive, a config's `include` does not.

export interface MutationGroup {
  readonly name: string;
  readonly cores: readonly string[];
  readonly tests: readonly string[];
}

export const MUTATION_GROUPS: readonly MutationGroup[] = [
  {
    name: 'plan',
    cores: ['rollout-cli/plan/mann-whitney.ts', 'rollout-cli/plan/step-machine.ts', 'rollout-cli/plan/analysis.ts'],
    tests: ['test/run/mann-whitney.test.ts', 'test/run/step-machine.test.ts', 'test/run/analysis.test.ts', 'test/run/analysis-edges.test.ts', 'test/run/step-machine-edges.test.ts'],
  },
  {
    name: 'verifier',
    // json-exact.ts (exact number comparison) and verdict.ts (a pair not compared is never a
    // match) came with the data-plane/verifier issue's work.
    cores: ['shared/decimal.ts', 'verifier/timestamp.ts', 'verifier/compare.ts', 'verifier/normalize.ts', 'verifier/json-exact.ts', 'verifier/verdict.ts'],
    tests: [
      'test/shared/decimal.test.ts',
      'test/verifier/timestamp.test.ts',
      'test/verifier/compare.test.ts',
      'test/verifier/patch-property.test.ts',
      'test/verifier/noise.test.ts',
      'test/verifier/aggregate.test.ts',
      'test/verifier/waivers.test.ts',
      'test/verifier/timestamp-edges.test.ts',
      'test/verifier/compare-edges.test.ts',
      'test/verifier/compare-rules.test.ts',
      'test/shared/decimal-rules.test.ts',
      'test/verifier/json-exact-rules.test.ts',
      'test/verifier/timestamp-rules.test.ts',
      'test/verifier/verdict-rules.test.ts',
      'test/verifier/normalize-rules.test.ts',
    ],
  },
  {
    name: 'state',
    // override-rules.ts: the break-glass override's decision on each applied store state.
    cores: ['shared/state/transitions.ts', 'shared/state/documents.ts', 'shared/state/override-rules.ts'],
    tests: ['test/state/transitions.test.ts', 'test/state/transitions-edges.test.ts', 'test/state/service-transitions.test.ts', 'test/state/documents.test.ts', 'test/state/documents-messages.test.ts', 'test/state/documents-load.test.ts', 'test/state/override-rules.test.ts'],
  },
  {
    name: 'routing',
    cores: ['proxy/bucket.ts', 'proxy/route-table.ts'],
    tests: ['test/proxy/bucket.test.ts', 'test/proxy/route-table.test.ts', 'test/proxy/route-table-rules.test.ts'],
  },
  {
    // The accounting every gate reads: requests by status class per route and upstream, a
    // failure after the headers (midstream) as a 5xx, shadow outcomes, diffs by result
    // (not-compared apart), over a sliding window.
    name: 'accounting',
    cores: ['proxy/stats.ts'],
    tests: ['test/proxy/stats.test.ts', 'test/proxy/stats-upstreams.test.ts', 'test/proxy/stats-rules.test.ts'],
  },
  {
    // Method-override safety (safety rule 1) and request-target checks, from the data-plane
    // issue. Their test files also start real proxies; per-test coverage runs only the tests
    // that reach a mutant, which for isSafeRequest are the in-process ones.
    name: 'request',
    cores: ['proxy/request-target.ts'],
    tests: ['test/proxy/conformance/method-override.test.ts', 'test/proxy/conformance/request-target.test.ts', 'test/proxy/request-target-rules.test.ts'],
  },
  {
    // The state authority: which rollout state wins (epoch, version, retired epochs) and the
    // validated read of a stored state.
    name: 'authority',
    cores: ['shared/state/versioning.ts', 'shared/state/validate.ts'],
    tests: ['test/state/versioning-rules.test.ts', 'test/state/validate-rules.test.ts'],
  },
];

export function groupNamed(name: string): MutationGroup {
  const group = MUTATION_GROUPS.find((g) => g.name === name);
  if (!group) throw new Error(`no mutation group named "${name}"`);
  return group;
}
