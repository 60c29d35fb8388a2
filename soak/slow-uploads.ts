/**
 * Fault 8, slow uploads: on one proxy replica, clients that send POST bodies one byte at a time
 * (small bodies, which the proxy reads before taking an upstream connection, and large ones,
 * which it streams under the upload share), and a few that stop sending mid-body. Meanwhile the
 * steady load keeps running; the invariants are that every ordinary request still succeeds, that
 * the streamed uploads never hold more than their share of legacy's connections, and that every
 * stalled body is answered 408.
 */
import net from 'node:net';
import { DEFAULT_LIMITS } from '../shared/config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SlowUploadFigures {
  trickleSmall: number;
  trickleLarge: number;
  stalled: number;
  /** Stalled clients answered 408 (bounded wait of the idle limit plus 10 s). */
  stalledAnswered408: number;
  /** Highest count of streamed uploads holding a legacy connection, read from /healthz every 250 ms. */
  maxUploadPlacesHeld: number;
  uploadPlaceLimit: number;
  /** Clients the proxy closed or answered while they were still trickling (503 after waiting for a place, 408...). */
  trickleAnswered: Record<string, number>;
}

interface Client {
  sock: net.Socket;
  answer: string;
  closed: boolean;
}

function connect(base: string): Promise<Client> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    const c: Client = { sock, answer: '', closed: false };
    sock.on('data', (d) => (c.answer += d.toString('latin1')));
    sock.on('close', () => (c.closed = true));
    sock.on('error', () => undefined);
    sock.once('connect', () => resolve(c));
    sock.once('error', reject);
  });
}

const statusOf = (c: Client) => /^HTTP\/1\.1 (\d{3})/.exec(c.answer)?.[1];

export async function slowUploads(opts: { dataUrl: string; adminUrl: string; faultMs: number; quick: boolean }): Promise<SlowUploadFigures> {
  const small = opts.quick ? 30 : 60;
  const large = opts.quick ? 60 : 140;
  const stalledCount = 3;
  const everyMs = opts.quick ? 500 : 2000;
  const head = (path: string, length: number) => `POST ${path} HTTP/1.1\r\nHost: soak\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`;
  const trickling: Client[] = [];
  const stalled: Client[] = [];
  for (let i = 0; i < small; i++) trickling.push(await connect(opts.dataUrl));
  for (let i = 0; i < large; i++) trickling.push(await connect(opts.dataUrl));
  for (let i = 0; i < stalledCount; i++) stalled.push(await connect(opts.dataUrl));
  trickling.forEach((c, i) => c.sock.write(head(i < small ? '/slow-uploads/small' : '/slow-uploads/large', i < small ? 2000 : 10_000_000)));
  for (const c of stalled) c.sock.write(`${head('/slow-uploads/stalled', 2000)}0123456789`);
  const tick = setInterval(() => {
    for (const c of trickling) if (!c.closed) c.sock.write('x');
  }, everyMs);
  let maxHeld = 0;
  const watch = setInterval(() => {
    fetch(`${opts.adminUrl}/healthz`)
      .then((r) => r.json())
      .then((h: { dataPlane?: { uploads?: { legacy?: { active?: number } } } }) => {
        maxHeld = Math.max(maxHeld, h.dataPlane?.uploads?.legacy?.active ?? 0);
      })
      .catch(() => undefined);
  }, 250);
  try {
    await sleep(opts.faultMs);
  } finally {
    clearInterval(tick);
    clearInterval(watch);
  }
  const trickleAnswered: Record<string, number> = {};
  for (const c of trickling) {
    const s = statusOf(c) ?? (c.closed ? 'closed' : undefined);
    if (s !== undefined) trickleAnswered[s] = (trickleAnswered[s] ?? 0) + 1;
    c.sock.destroy();
  }
  const deadline = Date.now() + DEFAULT_LIMITS.bodyIdleTimeoutMs + 10_000;
  while (Date.now() < deadline && stalled.some((c) => statusOf(c) === undefined && !c.closed)) await sleep(100);
  const answered408 = stalled.filter((c) => statusOf(c) === '408').length;
  for (const c of stalled) c.sock.destroy();
  return {
    trickleSmall: small,
    trickleLarge: large,
    stalled: stalledCount,
    stalledAnswered408: answered408,
    maxUploadPlacesHeld: maxHeld,
    uploadPlaceLimit: Math.max(1, Math.floor(DEFAULT_LIMITS.upstreamConnections * DEFAULT_LIMITS.uploadShare)),
    trickleAnswered,
  };
}
