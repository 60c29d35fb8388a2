/**
 * The documents module builds its schemas when it is loaded: a schema that zod cannot build
 * (a discriminated-union option without its `action`, say) stops the admin API from starting.
 * This file imports the module inside its tests, so such a fault fails a test here; the other
 * document tests import it at the top and would only fail to load.
 */
import { describe, expect, it } from 'vitest';

const load = () => import('../../shared/state/documents.js');

describe('the documents module', () => {
  it('loads, and takes one request of each action', async () => {
    const { validateChangeRequest } = await load();
    for (const body of [
      { action: 'set-weight', route: 'a', weight: 5 },
      { action: 'mode', route: 'a', mode: 'v2' },
      { action: 'pause' },
      { action: 'resume' },
      { action: 'promote', full: true },
      { action: 'abort', route: 'a' },
    ]) {
      expect(validateChangeRequest(body)).toEqual(body);
    }
  });

  it('loads, and takes a state document', async () => {
    const { validateStateDocument } = await load();
    expect(validateStateDocument({ routes: { a: { mode: 'canary', weight: 5 } }, paused: false, aborted: false })).toEqual({
      schemaVersion: 1,
      routes: { a: { mode: 'canary', weight: 5 } },
      paused: false,
      aborted: false,
      updatedBy: '',
      updatedAt: '',
    });
  });
});
