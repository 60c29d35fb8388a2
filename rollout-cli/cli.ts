/**
 * Declares every verb; implements none. Each verb's code lives in commands/<verb>.ts and is
 * imported only when the verb runs, so `cutover --help` stays fast.
 *
 * A command module exports `run(args: string[], opts: Record<string, unknown>): Promise<number | void>`;
 * it returns an exit code (or throws a CutoverError carrying one) and never calls process.exit.
 */
import { Command, Option } from 'commander';

export type CommandModule = {
  run(args: string[], opts: Record<string, any>): Promise<number | void>;
};

type ExitState = { exitCode: number };

const STATE_HELP = 'state store URL (file://PATH, redis://HOST:PORT/DB or redis+sentinel://H1:26379,H2:26379/MASTER/DB); default from cutover.yaml';
const ADMIN_HELP = "a proxy's admin URL (http://127.0.0.1:8081) to act through instead of the store";
const TOKEN_HELP = 'admin token (default: $CUTOVER_ADMIN_TOKEN)';

function lazy(state: ExitState, load: () => Promise<CommandModule>) {
  return async (...actionArgs: unknown[]) => {
    const cmd = actionArgs[actionArgs.length - 1] as Command;
    const opts = { ...cmd.optsWithGlobals() };
    const positional = cmd.args.slice();
    const mod = await load();
    const code = await mod.run(positional, opts);
    state.exitCode = typeof code === 'number' ? code : 0;
  };
}

function withTarget(cmd: Command): Command {
  return cmd
    .option('--state <url>', STATE_HELP)
    .option('--admin <url>', ADMIN_HELP, (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--token <token>', TOKEN_HELP)
    .option('--config <file>', 'config file supplying defaults', 'cutover.yaml')
    .option('--by <name>', 'who makes the change (default: $USER@host)');
}

export function buildProgram(state: ExitState): Command {
  const program = new Command('cutover');
  program
    .description('Move HTTP/JSON traffic from a legacy service to its V2 rewrite: mirror, verify, canary, ramp, roll back.')
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`cutover: ${str.replace(/^error: /, '')}`) });

  program
    .command('proxy')
    .description('run the splitting proxy (data plane + admin plane)')
    .option('--config <file>', 'config file', 'cutover.yaml')
    .action(lazy(state, () => import('./commands/proxy.js')));

  program
    .command('shadow')
    .description('verify requests mirrored by nginx, Envoy/Istio or GoReplay: call legacy and V2, diff, gate (docs/shadow.md)')
    .option('--config <file>', 'config file', 'cutover.yaml')
    .option('--listen <host:port>', 'where mirrored requests arrive (default: shadow.listen)')
    .action(lazy(state, () => import('./commands/shadow.js')));

  program
    .command('services')
    .description('run the demo services: legacy and the V2 services by concern, each its own process')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--legacy-port <port>', 'legacy port', '4001')
    .option('--v2-port <port>', 'first V2 port; the V2 services take the next ones (0: free ports)', '4002')
    .option('--seed <n>', 'data seed', '42')
    .option('--redis <url>', 'Redis for the V2 cache and shared rate limits')
    .option('--layout <layout>', 'split (legacy + transactions-v2, statements-v2, wallets-v2, members-v2) or single (legacy + one v2)', 'split')
    .option('--only <name>', 'start one service alone: legacy, v2 or a V2 service by concern')
    .option('--fault <spec...>', 'fault knob [SERVICE.]NAME[:ENDPOINT]=VALUE, SERVICE a name or v2 (every V2), repeatable (knobs: docs/services.md)')
    .action(lazy(state, () => import('./commands/services.js')));

  withTarget(program.command('status'))
    .description('show routes, modes, weights, paused/aborted and every live replica')
    .option('--watch', 'redraw on every change')
    .option('--json', 'machine-readable output')
    .action(lazy(state, () => import('./commands/status.js')));

  withTarget(program.command('set-weight'))
    .description("set a canary route's V2 weight (0..100, two decimals)")
    .argument('[route]', 'route name (or --all, or --upstream)')
    .argument('[weight]', '0..100')
    .option('--all', "the config's named routes (not default, not write-only routes unless --include-unsafe)")
    .option('--upstream <name>', 'the routes whose V2 side is this service, in one state change')
    .option('--include-unsafe', 'with --all: routes that take writes (POST, PUT, PATCH, DELETE) too')
    .option('--max-step <points>', 'largest jump allowed without --force', '25')
    .option('--force', 'allow a jump larger than --max-step')
    .option('--reason <text>', 'why')
    .option('--ticket <ref>', 'ticket reference')
    .option('--json', 'machine-readable output')
    .action(lazy(state, () => import('./commands/set-weight.js')));

  withTarget(program.command('mode'))
    .description("set a route's mode (or, with --upstream, a service's routes')")
    .argument('<route-or-mode>', 'route name, then the mode (with --upstream: the mode alone)')
    .argument('[mode]', 'legacy | mirror | canary | v2')
    .option('--upstream <name>', 'the routes whose V2 side is this service, in one state change')
    .option('--max-step <points>', "largest jump of V2's share allowed without --force (v2 from 0 % is 100)", '25')
    .option('--force', 'allow a jump larger than --max-step')
    .option('--reason <text>', 'why')
    .option('--ticket <ref>', 'ticket reference')
    .option('--json', 'machine-readable output')
    .action(lazy(state, () => import('./commands/mode.js')));

  withTarget(program.command('pause'))
    .description('hold the rollout where it is')
    .option('--reason <text>', 'why')
    .option('--json', 'machine-readable output')
    .action(lazy(state, () => import('./commands/pause.js')));

  withTarget(program.command('resume'))
    .description('resume a paused or aborted rollout')
    .option('--reason <text>', 'why (required after an abort)')
    .option('--json', 'machine-readable output')
    .action(lazy(state, () => import('./commands/resume.js')));

  withTarget(program.command('promote'))
    .description('skip a manual pause or the rest of a hold; --full sends every route to V2')
    .option('--full', 'every route to mode v2')
    .option('--upstream <name>', "with --full: only the routes whose V2 side is this service")
    .option('--reason <text>', 'why')
    .option('--json', 'machine-readable output')
    .action(lazy(state, () => import('./commands/promote.js')));

  withTarget(program.command('abort'))
    .description('send every route (or one, or one service\'s) to legacy now; returns when every live replica applied it')
    .option('--route <name>', 'only this route')
    .option('--upstream <name>', 'only the routes whose V2 side is this service (one state change)')
    .option('--reason <text>', 'why (required)')
    .option('--timeout <ms>', 'how long to wait for every replica', '2000')
    .option('--stale-after <ms>', 'a replica silent for longer is stale and not waited for', '5000')
    .option('--json', 'machine-readable output')
    .action(lazy(state, () => import('./commands/abort.js')));

  withTarget(program.command('history'))
    .description('the audit log of state changes')
    .option('--limit <n>', 'newest N entries', '50')
    .option('--json', 'machine-readable output')
    .action(lazy(state, () => import('./commands/history.js')));

  withTarget(program.command('run'))
    .description('drive a rollout plan with analysis and automatic rollback')
    .argument('<plan>', 'plan.yaml')
    .option('--dry-run', 'evaluate and print, change nothing')
    .option('--json', 'NDJSON events')
    .action(lazy(state, () => import('./commands/run.js')));

  program
    .command('report')
    .description('write an HTML, JSON or Markdown report of diffs, latency and the rollout timeline')
    .option('--admin <url>', 'read from a proxy admin API')
    .option('--state <url>', 'read history from a state store')
    .option('--pairs <file>', 'read recorded pairs (JSONL)')
    .option('--history <file>', 'read history (JSONL)')
    .option('--config <file>', 'config supplying compare rules', 'cutover.yaml')
    .option('--since <time>', 'only after this time (ISO 8601 or a duration like 1h)')
    .addOption(new Option('--format <format>', 'output format').choices(['html', 'json', 'md']).default('html'))
    .option('--out <path>', 'output path (default under reports/)')
    .option('--fail-on-mismatch-rate <rate>', 'exit 1 when any route exceeds this mismatch rate')
    .option('--fail-on-open-findings', 'exit 1 when any finding is neither waived nor noise')
    .option('--token <token>', 'admin token for --admin (default: $CUTOVER_ADMIN_TOKEN)')
    .action(lazy(state, () => import('./commands/report.js')));

  program
    .command('verify')
    .description('verify recorded pairs, or replay recorded requests against legacy and V2')
    .option('--pairs <file>', 'recorded pairs (JSONL)')
    .option('--replay <file>', 'recorded requests (JSONL)')
    .option('--legacy <url>', 'legacy base URL for --replay')
    .option('--v2 <url>', 'V2 base URL for --replay')
    .option('--concurrency <n>', 'parallel requests for --replay', '8')
    .option('--allow-unsafe', 'replay POST/PUT/PATCH/DELETE too')
    .option('--config <file>', 'config supplying compare rules', 'cutover.yaml')
    .option('--state <url>', 'apply the waivers recorded in this state store')
    .option('--out <file>', 'write verdicts (JSONL)')
    .option('--json', 'machine-readable summary')
    .addHelpText('after', '\nExit codes: 0 no open findings, 1 open findings or pairs not compared, 2 bad usage or a bad input line.')
    .action(lazy(state, () => import('./commands/verify.js')));

  withTarget(program.command('waive'))
    .description('accept an intended difference: add | list | remove')
    .argument('<action>', 'add | list | remove')
    .argument('[id]', 'waiver id (remove)')
    .option('--route <name>', 'route')
    .option('--path <pointer>', 'templated JSON path (/transactions/*/amount)')
    .option('--kind <kind>', 'value | type | missing | extra | array-length | order')
    .option('--reason <text>', 'why the difference is intended')
    .option('--expires <time>', 'ISO 8601 time or a duration like 7d')
    .option('--json', 'machine-readable output')
    .action(lazy(state, () => import('./commands/waive.js')));

  program
    .command('demo')
    .description('the whole product in one command: services, proxy, load, a plan, a rollback, a report')
    .option('--fast', 'shorter holds (under a minute)')
    .option('--state <url>', 'state store (default: a file store in a temporary folder)')
    .option('--no-view', 'plain lines instead of the live view')
    .option('--json', 'print a JSON summary on stdout (the story goes to stderr)')
    .option('--out <dir>', 'folder for the HTML and JSON report', 'reports/out')
    .option('--free-ports', 'let the system pick every port (default: 4001, 4002, 8080, 8081 when free)')
    .action(lazy(state, () => import('./commands/demo.js')));

  program
    .command('bench')
    .description('run the proxy, verifier and abort benchmarks (same as npm run bench)')
    .option('--only <which>', 'proxy | verifier | abort | cli')
    .option('--quick', 'shorter rounds')
    .action(lazy(state, () => import('./commands/bench.js')));

  return program;
}
