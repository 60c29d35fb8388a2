/**
 * docs/config.md is the schema's reference: it is exactly what `npm run docs:config` generates
 * from shared/config.ts now (a field added, removed or given a new default there fails this
 * test until the docs are regenerated), and it explains every field the schema accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../shared/config-reference.js';
import { ROOT } from '../helpers/processes.js';

const doc = readFileSync(join(ROOT, 'docs', 'config.md'), 'utf8');

describe('docs/config.md', () => {
  it('is what the schema generates (run `npm run docs:config` after changing shared/config.ts)', () => {
    expect(doc).toBe(renderConfigReference());
  });

  it('explains every field, among them record, verifier.diffDir, adminToken, tolerance and mirrorUnsafe', () => {
    const rows = doc.split('\n').filter((l) => l.startsWith('| `'));
    const unexplained = rows.filter((l) => /\|\s*\|$/.test(l)).map((l) => l.split('|')[1]!.trim());
    expect(unexplained).toEqual([]);
    for (const field of ['record', 'record.file', 'verifier.diffDir', 'adminToken', 'routes[].compare.tolerance', 'routes[].mirrorUnsafe', 'defaultRoute.mirrorUnsafe']) {
      expect(rows.some((l) => l.startsWith(`| \`${field}\` |`)), field).toBe(true);
    }
  });
});
