/**
 * With --json, an error is a JSON document on stdout (one line, parsed here) naming its code,
 * message, exit code and field, so a script that reads stdout can tell what failed; the human
 * line still goes to stderr, and the exit code is unchanged. Without --json, stdout stays empty.
 */
import { describe, expect, it } from 'vitest';
import { runCutover, tempDir } from '../helpers/processes.js';

const parse = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as { schemaVersion: number; ok: boolean; error: { code: string; message: string; exitCode: number; field?: string } };

describe('--json errors', () => {
  it('bad input: exit 2, a JSON error naming the field on stdout, the same text on stderr', async () => {
    const state = `file://${tempDir('cutover-json-err-')}/state.json`;
    const r = await runCutover(['set-weight', 'balance', '300', '--json', '--state', state, '--reason', 'x']);
    expect(r.code).toBe(2);
    const doc = parse(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, ok: false, error: { exitCode: 2, field: 'weight' } });
    expect(doc.error.message).toMatch(/must be between 0 and 100 \(got 300\)/);
    expect(doc.error.code).toMatch(/^CUTOVER_ERR_/);
    expect(r.stderr).toContain(doc.error.message);
  });

  it('a usage error commander catches (unknown option) is JSON too', async () => {
    const r = await runCutover(['status', '--json', '--no-such-option']);
    expect(r.code).toBe(2);
    expect(parse(r.stdout).error).toMatchObject({ code: 'CUTOVER_ERR_USAGE', exitCode: 2, message: expect.stringContaining('--no-such-option') });
  });

  it('a bad --state URL names --state', async () => {
    const r = await runCutover(['status', '--json', '--state', 'postgres://x']);
    expect(r.code).toBe(2);
    expect(parse(r.stdout).error).toMatchObject({ field: '--state', exitCode: 2 });
  });

  it('without --json, errors go to stderr only', async () => {
    const r = await runCutover(['status', '--state', 'postgres://x']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^cutover: --state:/);
  });
});
