/**
 * The on-call button when the store is sick: three proxies (real data and admin planes) serve a
 * route at canary 100; the store is made unwritable (Redis SIGKILLed, the state file corrupt, a
 * full tmpfs); `cutover abort` (a child process) must leave nothing at V2 once it returns, and
 * the abort must land in the store, with its reason and author, when the store is back.
 */
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore, type StateStore } from '../../shared/state/index.js';
import { runCutover, startRedis, stopAll, tempDir } from '../helpers/processes.js';
import { adminJson, eventually, servedBy, startFleet, TOKEN, type Fleet, type RouteDef } from './fleet.js';

const ROUTES: RouteDef[] = [{ name: 'balance', path: '/balance', mode: 'canary', weight: 100 }];
const fleets: Fleet[] = [];
const mounts: string[] = [];

afterAll(async () => {
  await Promise.all(fleets.map((f) => f.close()));
  for (const m of mounts) {
    try {
      execSync(`umount ${m}`);
    } catch {
      // already unmounted
    }
  }
  await stopAll();
});

async function threeOnV2(state: string): Promise<Fleet> {
  const fleet = await startFleet(state);
  fleets.push(fleet);
  for (let i = 0; i < 3; i++) await fleet.start(i, ROUTES);
  for (const p of fleet.proxies) expect(await servedBy(p, '/balance', 5)).toEqual({ legacy: 0, v2: 5 });
  return fleet;
}

function noStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(text).not.toMatch(/unexpected failure/);
}

async function abortInStore(store: StateStore, reason: string, by: string): Promise<void> {
  const s = await eventually(async () => {
    const st = await store.read().catch(() => undefined);
    return st?.aborted && st.abortReason === reason ? st : undefined;
  }, `the store shows the abort "${reason}"`, 30_000);
  for (const r of Object.values(s.routes)) expect(r.mode).toBe('legacy');
  const entries = await store.history({ limit: 50 });
  const entry = entries.find((e) => e.action === 'abort' && e.reason === reason);
  expect(entry, JSON.stringify(entries.slice(-5))).toBeDefined();
  expect(entry!.by).toBe(by);
}

async function allSynced(fleet: Fleet): Promise<void> {
  for (const p of fleet.proxies) {
    await eventually(async () => (await adminJson(p, '/healthz')).body.breakGlass?.synced === true, `${p.replicaId} says its override is in the store`);
  }
}

describe('break-glass abort with the store sick', () => {
  it('Redis SIGKILLed: abort through the replicas named in cutover.yaml; nothing at V2 after it returns; the abort reaches the store when Redis is back', { timeout: 180_000 }, async () => {
    const redis = await startRedis();
    const fleet = await threeOnV2(redis.url);
    const cfg = fleet.cliConfig(ROUTES, fleet.proxies.map((p) => p.adminUrl));
    await redis.stop();

    const r = await runCutover(['abort', '--config', cfg, '--reason', 'V2 double-posts', '--by', 'oncall-ann']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/state store bypassed: .*unreachable/);
    expect(r.stdout).toMatch(/abort applied \(break-glass\): every route to legacy on 3 of 3 replicas/);
    for (const p of fleet.proxies) expect(r.stdout).toContain(`applied  ${p.replicaId} (${p.adminUrl}), kept on its disk`);
    for (const p of fleet.proxies) expect(await servedBy(p, '/balance')).toEqual({ legacy: 20, v2: 0 });

    // every replica says it holds an abort the store does not show (and, once its next heartbeat
    // fails, that the store is down: the abort did not wait for that)
    for (const p of fleet.proxies) {
      await eventually(async () => (await adminJson(p, '/healthz')).body.storeUp === false, `${p.replicaId} sees the store down`);
      const h = (await adminJson(p, '/healthz')).body;
      expect(h).toMatchObject({ status: 'degraded', storeUp: false, breakGlass: { reason: 'V2 double-posts', by: 'oncall-ann', synced: false } });
      const m = await (await fetch(`${p.adminUrl}/metrics`)).text();
      expect(m).toMatch(/^cutover_break_glass_unsynced 1$/m);
      expect(m).toMatch(/^cutover_rollout_aborted 1$/m);
    }

    const back = await startRedis(redis.port);
    const store = openStateStore(back.url);
    try {
      await abortInStore(store, 'V2 double-posts', 'oncall-ann');
      await allSynced(fleet);
      for (const p of fleet.proxies) expect(await servedBy(p, '/balance', 5)).toEqual({ legacy: 5, v2: 0 });

      // only a resume clears the override
      const resumed = await runCutover(['resume', '--state', back.url, '--reason', 'fixed in 2.0.1']);
      expect(resumed.code).toBe(0);
      for (const p of fleet.proxies) {
        await eventually(async () => (await adminJson(p, '/healthz')).body.breakGlass === null, `${p.replicaId} clears its override after the resume`);
      }
    } finally {
      await store.close();
    }
  });

  it('a corrupt state file: abort through the replicas the registry lists; the abort lands once the file is restored', { timeout: 180_000 }, async () => {
    const file = join(tempDir('cutover-corrupt-'), 'state.json');
    const fleet = await threeOnV2(`file://${file}`);
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, '{"state": {"version": 7, "routes": ');
    for (const p of fleet.proxies) {
      const h = await eventually(async () => {
        const b = (await adminJson(p, '/healthz')).body;
        return b.stateInvalid ? b : undefined;
      }, `${p.replicaId} reports the corrupt state`);
      expect(h.stateInvalid).toContain(file);
      // last good state still applied
      expect(await servedBy(p, '/balance', 3)).toEqual({ legacy: 0, v2: 3 });
    }
    const status = await runCutover(['status', '--state', `file://${file}`]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('CUTOVER_ERR_STATE_CORRUPT');
    expect(status.stderr).toContain(file);
    noStackTrace(status.stderr);

    const r = await runCutover(['abort', '--state', `file://${file}`, '--token', TOKEN, '--reason', 'corrupt store, V2 errors', '--by', 'oncall-bob']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/state store bypassed: .*CUTOVER_ERR_STATE_CORRUPT/);
    expect(r.stdout).toMatch(/on 3 of 3 replicas/);
    for (const p of fleet.proxies) expect(await servedBy(p, '/balance')).toEqual({ legacy: 20, v2: 0 });

    writeFileSync(file, good);
    const store = openStateStore(`file://${file}`);
    try {
      await abortInStore(store, 'corrupt store, V2 errors', 'oncall-bob');
      await allSynced(fleet);
    } finally {
      await store.close();
    }
  });

  it('a full disk (tmpfs): a change is CUTOVER_ERR_STATE_WRITE (exit 1, admin 503) with no temp file; the abort still stops V2 and lands when space is back; a read-only disk is EROFS', { timeout: 180_000 }, async () => {
    const mnt = tempDir('cutover-tmpfs-');
    execSync(`mount -t tmpfs -o size=1m tmpfs ${mnt}`);
    mounts.push(mnt);
    const file = join(mnt, 'state.json');
    const fleet = await threeOnV2(`file://${file}`);
    const before = JSON.parse(readFileSync(file, 'utf8')).state.version as number;
    execSync(`dd if=/dev/zero of=${join(mnt, 'filler')} bs=64k count=100 2>/dev/null || true`);
    // The three replicas heartbeat into this file store all along, each holding its lock for a
    // moment: a lock or temp file seen once may be theirs; one that is never gone is left behind.
    const leftovers = async () => {
      await eventually(() => readdirSync(mnt).every((f) => !f.startsWith('.tmp-') && !f.endsWith('.lock')), 'no temp or lock file left behind', 20_000).catch(() => undefined);
      return readdirSync(mnt).filter((f) => f.startsWith('.tmp-') || f.endsWith('.lock'));
    };

    const sw = await runCutover(['set-weight', 'balance', '50', '--state', `file://${file}`, '--reason', 'step down']);
    expect(sw.code).toBe(1);
    expect(sw.stderr).toMatch(/CUTOVER_ERR_STATE_WRITE/);
    expect(sw.stderr).toContain(file);
    expect(sw.stderr).toMatch(/ENOSPC/);
    noStackTrace(sw.stderr);
    const viaAdmin = await adminJson(fleet.proxies[0]!, '/admin/change', { method: 'POST', body: { action: 'set-weight', route: 'balance', weight: 50 } });
    expect(viaAdmin.status).toBe(503);
    expect(viaAdmin.body.error.code).toBe('CUTOVER_ERR_STATE_WRITE');
    expect(await leftovers()).toEqual([]);
    expect(JSON.parse(readFileSync(file, 'utf8')).state.version).toBe(before);

    const r = await runCutover(['abort', '--state', `file://${file}`, '--token', TOKEN, '--reason', 'disk full, V2 slow', '--by', 'oncall-cy']);
    expect(r.code).toBe(0);
    noStackTrace(r.stdout + r.stderr);
    expect(r.stdout).toMatch(/state store bypassed: .*CUTOVER_ERR_STATE_WRITE/);
    for (const p of fleet.proxies) expect(await servedBy(p, '/balance')).toEqual({ legacy: 20, v2: 0 });
    expect(await leftovers()).toEqual([]);

    rmSync(join(mnt, 'filler'));
    const store = openStateStore(`file://${file}`);
    try {
      await abortInStore(store, 'disk full, V2 slow', 'oncall-cy');
      await allSynced(fleet);
    } finally {
      await store.close();
    }

    // a replica caught mid-write by the remount would leave its lock file behind on a read-only disk
    await eventually(() => !existsSync(`${file}.lock`), 'no writer holds the state file lock');
    // The kernel refuses (EBUSY) while any file on it is open for writing: a replica's heartbeat
    // can be mid-write on a loaded machine. Try again until it takes.
    await eventually(() => {
      if (existsSync(`${file}.lock`)) return false;
      try {
        execSync(`mount -o remount,ro ${mnt}`, { stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    }, 'the disk remounted read-only');
    try {
      const ro = await runCutover(['pause', '--state', `file://${file}`, '--reason', 'hold']);
      expect(ro.code).toBe(1);
      expect(ro.stderr).toMatch(/CUTOVER_ERR_STATE_WRITE.*|EROFS/);
      expect(ro.stderr).toMatch(/EROFS: read-only file system/);
      noStackTrace(ro.stderr);
    } finally {
      execSync(`mount -o remount,rw ${mnt}`);
    }
  });
});
