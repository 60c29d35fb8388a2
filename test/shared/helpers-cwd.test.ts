import { describe, expect, it } from 'vitest';
import { runCutover, tempDir } from '../helpers/processes.js';

describe('test helpers', () => {
  it('runCutover works from a working directory outside the repository', async () => {
    const r = await runCutover(['--version'], { cwd: tempDir() });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('0.1.0');
    expect(r.code).toBe(0);
  });
});
