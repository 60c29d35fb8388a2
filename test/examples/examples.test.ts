/**
 * Every file under examples/ is parsed, and every cutover config in it (a file of its own or
 * embedded in a Kubernetes ConfigMap) passes the config schema. The Kubernetes manifests keep
 * the promises their README makes (probes, drain inside the grace period, token from the
 * Secret, Sentinel, scraping, the dashboard); the systemd units start the verbs that exist.
 * The nginx site is checked by `nginx -t` here and run as it is, in front of real services,
 * by test/shadow/nginx-shadow.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseConfigText, type CutoverConfig } from '../../shared/config.js';
import { parseRedisUrl } from '../../shared/state/redis-connection.js';
import { buildProgram } from '../../rollout-cli/cli.js';
import { parsePlanText } from '../../rollout-cli/plan/schema.js';
import { checkNginxSite } from '../helpers/nginx.js';
import { ROOT } from '../helpers/processes.js';
import { routeUpstreams } from '../../shared/upstreams.js';
import { V2_SERVICES } from '../../services/catalogue.js';

const EXAMPLES = join(ROOT, 'examples');
const ENV = { REDIS_PASSWORD: 'example-password', POD_NAME: 'cutover-abc12', LEGACY_URL: 'http://127.0.0.1:4001', V2_URL: 'http://127.0.0.1:4002' };

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const files = walk(EXAMPLES);
const yamlFiles = files.filter((f) => /\.ya?ml$/.test(f));
type Doc = Record<string, any>;
const manifests: Array<{ file: string; doc: Doc }> = [];
const configs: Array<{ where: string; config: Readonly<CutoverConfig> }> = [];
const plans: string[] = [];

for (const file of yamlFiles) {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${relative(ROOT, file)}: ${d.errors[0].message}`);
    const doc = d.toJS() as Doc;
    if (doc && typeof doc.apiVersion === 'string') manifests.push({ file, doc });
  }
}

const routeUpstreamsUrl = (c: Readonly<CutoverConfig>, name: string) => {
  const e = (c.upstreams as Record<string, unknown>)[name];
  return typeof e === 'string' ? e : (e as { url: string }).url;
};

const kinds = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);

describe('examples/', () => {
  it('every YAML file parses, and every cutover config in them passes the config schema', () => {
    expect(yamlFiles.length).toBeGreaterThanOrEqual(8);
    for (const file of yamlFiles) {
      const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc);
      if (docs.every((d) => d && typeof d.apiVersion === 'string')) continue;
      // A plan (the README's `cutover run examples/plan.yaml`): it passes the plan schema.
      if (docs.length === 1 && docs[0] && Array.isArray(docs[0].steps)) {
        plans.push(relative(ROOT, file));
        parsePlanText(readFileSync(file, 'utf8'), relative(ROOT, file), ENV);
        continue;
      }
      // Not a manifest: a cutover config of its own.
      configs.push({ where: relative(ROOT, file), config: parseConfigText(readFileSync(file, 'utf8'), relative(ROOT, file), ENV) });
    }
    for (const cm of kinds('ConfigMap')) {
      for (const [key, text] of Object.entries<string>(cm.data ?? {})) {
        if (key.endsWith('.yaml')) configs.push({ where: `ConfigMap ${cm.metadata.name} ${key}`, config: parseConfigText(text, key, ENV) });
      }
    }
    expect(plans).toEqual(['examples/plan.yaml']);
    expect(configs.map((c) => c.where).sort()).toEqual(['ConfigMap cutover-config cutover.yaml', 'examples/demo.cutover.yaml', 'examples/systemd/cutover.yaml']);
    // A config that is wrong is refused: the check above can fail.
    expect(() => parseConfigText('upstreams: { legacy: nope }', 'bad.yaml', ENV)).toThrow(/upstreams.legacy: must be an http/);
  });

  it('demo.cutover.yaml: legacy and the V2 services of `cutover services`; each route names the one V2 service that serves its endpoint', () => {
    const c = parseConfigText(readFileSync(join(EXAMPLES, 'demo.cutover.yaml'), 'utf8'), 'demo.cutover.yaml', {});
    expect(Object.keys(c.upstreams)).toEqual(['legacy', ...V2_SERVICES.map((s) => s.name)]);
    // the default ports of `cutover services`: legacy 4001, the V2 services from 4002 in order
    V2_SERVICES.forEach((s, i) => expect(routeUpstreamsUrl(c, s.name)).toBe(`http://127.0.0.1:${4002 + i}`));
    for (const r of c.routes) {
      const sides = routeUpstreams(c, r);
      expect(sides.legacy.name, r.name).toBe('legacy');
      expect(V2_SERVICES.find((s) => s.name === sides.v2.name)?.endpoints, r.name).toContain(r.name);
    }
    expect(new Set(c.routes.map((r) => routeUpstreams(c, r).v2.name))).toEqual(new Set(V2_SERVICES.map((s) => s.name)));
  });

  it('Kubernetes: a Deployment behind a Service and a headless Service, probed on /readyz and /healthz, drained inside the grace period', () => {
    const [deploy] = kinds('Deployment');
    const pod = deploy.spec.template.spec;
    const c = pod.containers[0];
    expect(c.args.slice(0, 3)).toEqual(['proxy', '--config', '/etc/cutover/cutover.yaml']);
    const admin = c.ports.find((p: Doc) => p.name === 'admin').containerPort;
    const data = c.ports.find((p: Doc) => p.name === 'data').containerPort;
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    // preStop + the proxy's 10 s drain bound (rollout-cli/commands/proxy.ts -> startProxy drainTimeoutMs) fit in the grace period.
    expect(c.lifecycle.preStop.sleep.seconds + 10).toBeLessThan(pod.terminationGracePeriodSeconds);
    const token = c.env.find((e: Doc) => e.name === 'CUTOVER_ADMIN_TOKEN');
    const secret = kinds('Secret')[0];
    expect(token.valueFrom.secretKeyRef).toEqual({ name: secret.metadata.name, key: 'admin-token' });
    expect(secret.stringData['admin-token'].length).toBeGreaterThanOrEqual(16);
    expect(deploy.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(admin), 'prometheus.io/path': '/metrics' });

    const services = kinds('Service');
    const selector = deploy.spec.selector.matchLabels;
    const front = services.find((s) => s.spec.clusterIP !== 'None')!;
    const headless = services.find((s) => s.spec.clusterIP === 'None')!;
    expect(front.spec.selector).toEqual(selector);
    expect(headless.spec.selector).toEqual(selector);
    expect(front.spec.ports[0].targetPort).toBe('data');
    expect(headless.spec.ports[0].targetPort).toBe('admin');
    const monitor = kinds('ServiceMonitor')[0];
    expect(headless.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'admin', path: '/metrics', bearerTokenSecret: { name: secret.metadata.name, key: 'admin-token' } });

    // The mounted config: the ports the pod declares, an admin plane the probes can reach (and so a token), Sentinel.
    const cm = kinds('ConfigMap').find((m) => m.metadata.name === pod.volumes[0].configMap.name)!;
    const config = parseConfigText(cm.data['cutover.yaml'], 'cutover.yaml', ENV);
    expect(config.listen.data).toBe(`0.0.0.0:${data}`);
    expect(config.listen.admin).toBe(`0.0.0.0:${admin}`);
    expect(config.replicaId).toBe(ENV.POD_NAME);
    const redis = parseRedisUrl(config.state);
    expect(redis.kind).toBe('sentinel');
    expect(redis.sentinel!.sentinels).toHaveLength(3);
    expect(c.env.find((e: Doc) => e.name === 'REDIS_PASSWORD').valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
  });

  it('Kubernetes: the Grafana dashboard ConfigMap holds dashboards/cutover.grafana.json as it is', () => {
    const cm = kinds('ConfigMap').find((m) => m.metadata.labels?.grafana_dashboard === '1')!;
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'dashboards', 'cutover.grafana.json'), 'utf8'));
    expect(JSON.parse(cm.data['cutover.grafana.json'])).toEqual(dashboard);
  });

  it('systemd: the units start verbs that exist, with the example config, stopped by SIGTERM with room for the drain', () => {
    const verbs = buildProgram({ exitCode: 0 }).commands.map((c) => c.name());
    for (const unit of files.filter((f) => f.endsWith('.service'))) {
      const text = readFileSync(unit, 'utf8');
      const exec = /^ExecStart=(\S+) (\w+) --config (\S+)$/m.exec(text);
      expect(exec, unit).not.toBeNull();
      expect(verbs).toContain(exec![2]);
      expect(exec![3]).toBe('/etc/cutover/cutover.yaml');
      expect(text).toMatch(/^KillSignal=SIGTERM$/m);
      expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(text)![1])).toBeGreaterThan(10);
      expect(text).toMatch(/^\[Install\]$/m);
    }
    expect(files.filter((f) => f.endsWith('.service')).length).toBe(2);
  });

  it('nginx: the shadow site passes nginx -t', () => {
    const site = readFileSync(join(EXAMPLES, 'nginx', 'cutover-shadow.conf'), 'utf8');
    const r = checkNginxSite(site);
    expect(r.ok, r.output).toBe(true);
    expect(checkNginxSite(site.replace('mirror /_cutover_shadow;', 'mirror;')).ok).toBe(false);
  });
});
