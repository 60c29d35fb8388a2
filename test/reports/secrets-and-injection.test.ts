/**
 * Two promises about what a report file can contain:
 * - a planted secret (a redacted body field, credentials in request headers and the query, a
 *   secret echoed in a compared header, a secret in a text body) appears in no output format;
 * - response bodies, paths, route names, trace ids and history reasons cannot inject HTML:
 *   in Chromium no script runs, nothing is fetched, no element is added, the text shows as text.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateReport } from '../../reports/generate.js';
import { parseReportOptions } from '../../reports/options.js';
import { ROOT, tempDir } from '../helpers/processes.js';
import { launchBrowser, type Browser } from './browser.js';

const FIX = join(ROOT, 'test', 'reports', 'fixtures');
const SECRET = 'PLANTED-SECRET-7f3a9c'; // planted in fixtures/pairs.jsonl
const NOW = new Date('2026-11-23T12:00:00.000Z');
let dir: string;

function json(v: unknown): string {
  return JSON.stringify(v);
}

function response(status: number, body: unknown, headers: Record<string, string> = {}, latencyMs = 10) {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : json(body), latencyMs };
}

function pairLine(id: string, route: string, path: string, legacy: object, v2: object, extra: object = {}): string {
  return json({ id, at: '2026-11-23T10:00:00.000Z', route, method: 'GET', path, requestHeaders: {}, legacy, v2, traceId: `trace-${id}`, ...extra });
}

async function allFormats(args: Record<string, unknown>, name: string): Promise<Record<'html' | 'json' | 'md', string>> {
  const out = {} as Record<'html' | 'json' | 'md', string>;
  for (const format of ['html', 'json', 'md'] as const) {
    const req = parseReportOptions({ ...args, format, out: join(dir, `${name}.${format}`) });
    const { path } = await generateReport(req, { now: NOW });
    out[format] = readFileSync(path, 'utf8');
  }
  return out;
}

beforeAll(() => {
  dir = tempDir('cutover-report-secrets-');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a planted secret', () => {
  it('appears in no output format of the fixture report', async () => {
    const outputs = await allFormats(
      { pairs: join(FIX, 'pairs.jsonl'), history: join(FIX, 'history.jsonl'), config: join(FIX, 'cutover.yaml') },
      'fixture',
    );
    // the fixture really carries it: in a differing field, request headers and the query
    expect(readFileSync(join(FIX, 'pairs.jsonl'), 'utf8').split(SECRET).length - 1).toBeGreaterThan(20);
    for (const [format, text] of Object.entries(outputs)) {
      expect(text.length, format).toBeGreaterThan(500);
      expect(text.includes(SECRET), `${format} contains the secret`).toBe(false);
      expect(text.includes(encodeURIComponent(SECRET)), format).toBe(false);
    }
    // the field is still reported, masked
    expect(outputs.json).toContain('/card/number');
    expect(outputs.html).toContain('[REDACTED]');
  });

  it('is masked in compared headers, text bodies and nested values too', async () => {
    const secret = 'PLANTED-SECRET-text-91b2';
    const lines = [
      // a compared header echoing the API key
      pairLine('h1', 'echo', '/echo', response(200, { ok: 1 }, { 'x-api-key': `${secret}-a` }), response(200, { ok: 1 }, { 'x-api-key': `${secret}-b` })),
      // text bodies (not JSON) carrying the redacted field by name
      pairLine('x1', 'echo', `/echo?token=${secret}`, response(200, `number: ${secret}-1\nother: 1`, { 'content-type': 'text/plain' }), response(200, `number: ${secret}-2\nother: 1`, { 'content-type': 'text/plain' })),
      // a whole object differs: the secret sits inside the value
      pairLine('o1', 'echo', '/echo', response(200, { card: { number: `${secret}-3`, exp: '01/30' } }), response(200, { card: 'removed' })),
      // JSON body nested under an array, redacted by a wildcard path
      pairLine('a1', 'echo', '/echo', response(200, { cards: [{ number: `${secret}-4`, v: 1 }] }), response(200, { cards: [{ number: `${secret}-4`, v: 2 }] })),
    ];
    writeFileSync(join(dir, 'secret-pairs.jsonl'), lines.join('\n') + '\n');
    writeFileSync(
      join(dir, 'secret.yaml'),
      [
        'upstreams: { legacy: http://127.0.0.1:4001, v2: http://127.0.0.1:4002 }',
        'routes:',
        '  - name: echo',
        '    match: { method: GET, path: /echo }',
        '    compare: { headers: [content-type, x-api-key] }',
        'redact:',
        '  paths: [/card/number, /cards/*/number, /number]',
      ].join('\n'),
    );
    const outputs = await allFormats({ pairs: join(dir, 'secret-pairs.jsonl'), config: join(dir, 'secret.yaml') }, 'secret');
    const model = JSON.parse(outputs.json) as { routes: Array<{ paths: Array<{ path: string }> }> };
    // the differences are reported (so the masked values were really rendered)...
    expect(model.routes[0]!.paths.map((p) => p.path).sort()).toEqual(['/card', '/cards/*/v', '@body', '@headers/x-api-key']);
    // ...and the secret is in none of the outputs
    for (const [format, text] of Object.entries(outputs)) expect(text.includes(secret), `${format} contains the secret`).toBe(false);
  });
});

describe('hostile input', () => {
  let browser: Browser;
  const hostile = {
    route: '<img src=x onerror=alert(1)>',
    key: '</pre><script>alert(2)</script>',
    value: '"><svg onload=alert(3)><img src=y>',
    trace: "'><iframe src=javascript:alert(4)></iframe>",
    path: '/x?q=<script>alert(5)</script>&x=`${alert(6)}`',
    reason: '</style><script>alert(7)</script><link rel=stylesheet href=http://127.0.0.1:9/x.css>',
  };

  beforeAll(async () => {
    const lines = [
      json({
        id: 'evil-1',
        at: '2026-11-23T10:00:00.000Z',
        route: hostile.route,
        method: 'GET',
        path: hostile.path,
        requestHeaders: {},
        legacy: response(200, { note: 'fine', list: [1] }),
        v2: response(200, { note: hostile.value, [hostile.key]: 1, list: [1, '<b>x</b>'] }),
        traceId: hostile.trace,
      }),
      json({
        id: 'evil-2',
        at: '2026-11-23T10:00:01.000Z',
        route: hostile.route,
        method: 'GET',
        path: '/x',
        requestHeaders: {},
        legacy: response(200, '<html><script>alert(8)</script></html>', { 'content-type': 'text/html' }),
        v2: response(200, '<html><body onload=alert(9)></html>', { 'content-type': 'text/html' }),
      }),
    ];
    writeFileSync(join(dir, 'hostile-pairs.jsonl'), lines.join('\n') + '\n');
    const history = [
      { version: 1, at: '2026-11-23T09:59:00.000Z', by: '<b>mallory</b>', action: '<i>mode</i>', reason: hostile.reason, changes: [{ path: `routes.${hostile.route}.mode`, from: 'legacy', to: 'mirror' }] },
      { version: 2, at: 'not a time <script>alert(10)</script>', by: 'x', action: 'abort', reason: hostile.reason, changes: [] },
    ];
    writeFileSync(join(dir, 'hostile-history.jsonl'), history.map((h) => json(h)).join('\n') + '\n');
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('is refused when a history time does not parse, naming the file and line', async () => {
    const req = parseReportOptions({ pairs: join(dir, 'hostile-pairs.jsonl'), history: join(dir, 'hostile-history.jsonl'), format: 'html', out: join(dir, 'h.html') });
    await expect(generateReport(req, { now: NOW })).rejects.toThrow(/--history .*hostile-history\.jsonl:2: at must be an ISO 8601 time/);
  });

  it('shows as text in Chromium: no script runs, nothing is fetched, no element is injected', async () => {
    writeFileSync(join(dir, 'hostile-history.jsonl'), readFileSync(join(dir, 'hostile-history.jsonl'), 'utf8').split('\n')[0] + '\n');
    const outputs = await allFormats({ pairs: join(dir, 'hostile-pairs.jsonl'), history: join(dir, 'hostile-history.jsonl') }, 'hostile');
    const url = pathToFileURL(join(dir, 'hostile.html')).href;
    const o = await browser.open(url);
    expect(o.dialogs).toEqual([]);
    expect(o.consoleErrors).toEqual([]);
    expect(o.requests).toEqual([url]);
    const counts = await o.page.evaluate(() => ({
      scripts: document.querySelectorAll('script').length,
      injected: document.querySelectorAll('img, iframe, link, object, embed, style:not(head style)').length,
      markup: [...document.querySelectorAll('b, i')].filter((el) => ['mallory', 'mode', 'x'].includes(el.textContent ?? '')).length,
      withHandlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    }));
    expect(counts).toEqual({ scripts: 1, injected: 0, markup: 0, withHandlers: 0 });
    await o.page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
    const text = await o.page.locator('body').innerText();
    for (const s of [hostile.route, hostile.key, hostile.reason, '<b>mallory</b>']) expect(text).toContain(s);
    // the filter still works with a hostile route name
    await o.page.selectOption('#f-route', hostile.route);
    expect(await o.page.locator('tr[data-finding]:visible').count()).toBeGreaterThan(0);

    // Markdown: no raw HTML outside code spans, and the JSON is still JSON
    const prose = outputs.md.replace(/(`+)[^`]*?\1/g, '');
    // `<` in prose is backslash-escaped (GFM shows `\<` as a literal `<`, never as a tag)
    expect(prose).not.toMatch(/(^|[^\\])<[a-z/!]/im);
    expect(() => JSON.parse(outputs.json)).not.toThrow();
  });
});
