/**
 * `npm ci` must not warn EBADENGINE on the Node versions the project supports (package.json
 * `engines`: 20.19+ and 22+): every package the lockfile installs accepts their lowest versions.
 * cookie@2 (node >=22, pulled by fastify's light-my-request) is overridden to cookie@1.1.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const semver = require('semver') as { satisfies(v: string, range: string, o?: object): boolean; minVersion(r: string): { version: string } | null };

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; dev?: boolean }>;
};

/** The lowest version of each range of our `engines.node` (`>=20.19.0 <21 || >=22.0.0` gives 20.19.0 and 22.0.0). */
const supported = pkg.engines.node.split('||').map((r) => semver.minVersion(r.trim())!.version);

describe('the lockfile against the supported Node versions', () => {
  it('names the lowest supported versions', () => {
    expect(supported).toContain('20.19.0');
  });

  // Runtime packages must accept every supported line; the dev toolchain (vitest's rolldown wants
  // 22.12+ on the 22 line) must accept 20.19, the version the README names and CI runs.
  it('installs no package whose engines.node refuses a supported Node version', () => {
    const refused: string[] = [];
    for (const [path, p] of Object.entries(lock.packages)) {
      const range = !Array.isArray(p.engines) ? p.engines?.node : undefined;
      if (!path || !range) continue;
      for (const v of p.dev ? ['20.19.0'] : supported) {
        if (!semver.satisfies(v, range, { includePrerelease: true })) refused.push(`${path}@${p.version} needs node ${range}, refuses ${v}`);
      }
    }
    expect(refused).toEqual([]);
  });

  it('resolves cookie to a 1.x release under light-my-request', () => {
    const cookie = lock.packages['node_modules/light-my-request/node_modules/cookie'] ?? lock.packages['node_modules/cookie'];
    expect(cookie?.version).toMatch(/^1\./);
  });
});
