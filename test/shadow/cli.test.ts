/** `cutover shadow` refuses bad input before binding anything: exit 2, the field, the rule and the value. */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCutover, stopAll, tempDir } from '../helpers/processes.js';

afterAll(stopAll);

describe('cutover shadow: bad input', { timeout: 90_000 }, () => {
  it('a --listen that is not HOST:PORT exits 2 naming the flag and the value', async () => {
    const r = await runCutover(['shadow', '--listen', 'localhost', '--config', join(tempDir(), 'none.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--listen: localhost must be HOST:PORT/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('shadow.legacy: replica without upstreams.legacyReplica exits 2 naming the field and the rule', async () => {
    const dir = tempDir();
    const file = join(dir, 'cutover.yaml');
    writeFileSync(file, `upstreams: { legacy: http://127.0.0.1:1, v2: http://127.0.0.1:2 }\nshadow: { legacy: replica, listen: 127.0.0.1:0 }\nstate: file://${dir}/state.json\n`);
    const r = await runCutover(['shadow', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/shadow\.legacy: is replica but upstreams\.legacyReplica is not set/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
