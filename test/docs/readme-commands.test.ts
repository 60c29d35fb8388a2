/**
 * Every shell command in the README runs as written. The README's sh blocks are parsed (line
 * continuations joined, comments dropped). Commands that start servers or need a running
 * proxy (`services`, `proxy`, `status`, `run`, `curl` to it...) are not run here; instead:
 * each `npx cutover VERB` exists and accepts every option the line gives it (its --help lists
 * them), each file a command names exists (the plan parses as a plan, the config as a config),
 * `cp` sources exist, and each `npm run X` is a script of package.json. The quick, server-free
 * ones run: `cutover VERB --help` for every verb used.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../../rollout-cli/plan/schema.js';
import { loadConfig } from '../../shared/config.js';
import { ROOT } from '../helpers/processes.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The commands of the README's sh blocks, one string each. */
function commands(): string[] {
  const out: string[] = [];
  for (const m of readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    const joined = m[1]!.replace(/\\\n\s*/g, ' ');
    for (let line of joined.split('\n')) {
      line = line.replace(/\s+#\s.*$/, '').replace(/\s*&$/, '').trim();
      if (!line) continue;
      // `a && b` are two commands
      out.push(...line.split(/\s+&&\s+/));
    }
  }
  return out;
}

/** Words of a command, quotes removed (enough for the README's commands). */
function words(cmd: string): string[] {
  return [...cmd.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const helpCache = new Map<string, string>();
function helpOf(verb: string): { code: number | null; text: string } {
  if (!helpCache.has(verb)) {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'cutover.js'), verb, '--help'], { encoding: 'utf8', timeout: 60_000 });
    helpCache.set(verb, r.status === 0 ? r.stdout : `exit ${r.status}: ${r.stderr}`);
  }
  const t = helpCache.get(verb)!;
  return { code: t.startsWith('exit ') ? 1 : 0, text: t };
}

const cmds = commands();

describe('the README commands', () => {
  it('are found (the quick start, using it by hand, dashboards, tracing, benchmarks)', () => {
    expect(cmds.length).toBeGreaterThan(15);
    expect(cmds).toContain('npx cutover run examples/plan.yaml');
  });

  it('name only npm scripts that exist', () => {
    for (const c of cmds.filter((x) => x.startsWith('npm '))) {
      const w = words(c);
      if (w[1] === 'run') expect(scripts[w[2]!], c).toBeDefined();
      else if (w[1] === 'test') expect(scripts.test, c).toBeDefined();
      else expect(['ci', 'install'], c).toContain(w[1]);
    }
  });

  it('copy files that exist', () => {
    for (const c of cmds.filter((x) => x.startsWith('cp '))) expect(existsSync(join(ROOT, words(c)[1]!)), c).toBe(true);
  });

  it('give each cutover verb only options it has, and files that exist and load', () => {
    const copied = new Map(cmds.filter((x) => x.startsWith('cp ')).map((c) => [words(c)[2]!, words(c)[1]!]));
    const lines = cmds.map((c) => c.replace(/^(?:[A-Z_]+=\S+\s+)+/, '')).filter((c) => c.startsWith('npx cutover '));
    expect(lines.length).toBeGreaterThan(8);
    for (const c of lines) {
      const [, , verb, ...args] = words(c);
      const help = helpOf(verb!);
      expect(help.code, `${c}: ${help.text}`).toBe(0);
      for (const a of args.filter((x) => x.startsWith('--'))) expect(help.text, `${c}: option ${a}`).toContain(a.split('=')[0]);
      for (const a of args.filter((x) => /\.(ya?ml|json|jsonl)$/.test(x))) {
        const file = join(ROOT, copied.get(a) ?? a);
        expect(existsSync(file), `${c}: ${a}`).toBe(true);
        if (verb === 'run') expect(() => loadPlan(file), c).not.toThrow();
        else expect(() => loadConfig(file), c).not.toThrow();
      }
    }
  });

  it('read files that exist ($(cat FILE))', () => {
    for (const c of cmds) for (const m of c.matchAll(/\$\(cat ([^)]+)\)/g)) expect(existsSync(join(ROOT, m[1]!)), c).toBe(true);
  });

  it('send curl to the data port of the config the README copies', () => {
    const cfg = loadConfig(join(ROOT, 'examples', 'demo.cutover.yaml'));
    const port = cfg.listen.data.split(':').pop();
    for (const c of cmds.filter((x) => x.startsWith('curl ') && x.includes('localhost:80'))) expect(c, c).toContain(`localhost:${port}/`);
  });
});
