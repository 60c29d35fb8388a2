/**
 * Raw-socket tools for conformance tests, where framing matters: a TCP origin that answers
 * each request with bytes the test writes (any framing, legal or not), and a client that sends
 * bytes as written and parses the answers off one connection.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RawOrigin {
  url: string;
  /** Request heads received (text up to the blank line), in order. */
  heads: string[];
  close(): Promise<void>;
}

/**
 * A TCP server that reads request heads (requests without bodies) and answers each with
 * `answer(head, socket)`: the test writes whatever bytes it wants.
 */
export async function startRawOrigin(answer: (head: string, socket: net.Socket) => void): Promise<RawOrigin> {
  const sockets = new Set<net.Socket>();
  const heads: string[] = [];
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        heads.push(head);
        answer(head, sock);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heads,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface ParsedResponse {
  status: number;
  /** Lower-cased names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

/** One client connection: send raw bytes, read parsed answers in order. */
export class RawClient {
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;
  private readonly sock: net.Socket;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d) => {
      this.buf += d.toString('latin1');
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  static async connect(base: string): Promise<RawClient> {
    const u = new URL(base);
    const sock = net.connect(Number(u.port), u.hostname);
    await new Promise<void>((r, j) => {
      sock.once('connect', () => r());
      sock.once('error', j);
    });
    return new RawClient(sock);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(text: string | Buffer): void {
    this.sock.write(text);
  }

  /**
   * The next answer on this connection, parsed by its status and framing (no body for 1xx, 204,
   * 304 and answers to HEAD; else Content-Length, chunked, or until close). Rejects when the
   * connection closes first or `timeoutMs` passes.
   */
  async response(opts: { head?: boolean; timeoutMs?: number } = {}): Promise<ParsedResponse> {
    const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
    for (;;) {
      const parsed = this.tryParse(opts.head === true);
      if (parsed !== null) return parsed;
      if (this.closed) throw new Error(`connection closed before a whole answer (got ${JSON.stringify(this.buf.slice(0, 200))})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no whole answer in time (got ${JSON.stringify(this.buf.slice(0, 200))})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Resolves when the server closed the connection (bounded). */
  async waitClosed(timeoutMs = 15_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  /** Bytes received and not parsed as an answer yet. */
  get pending(): string {
    return this.buf;
  }

  private tryParse(head: boolean): ParsedResponse | null {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const lines = this.buf.slice(0, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    const rest = this.buf.slice(end + 4);
    let body = '';
    let used = 0;
    if (head || status < 200 || status === 204 || status === 304) {
      used = 0;
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (rest.length < n) return null;
      body = rest.slice(0, n);
      used = n;
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      let p = 0;
      for (;;) {
        const le = rest.indexOf('\r\n', p);
        if (le === -1) return null;
        const size = parseInt(rest.slice(p, le), 16);
        if (size === 0) {
          if (rest.indexOf('\r\n', le + 2) === -1) return null;
          used = rest.indexOf('\r\n', le + 2) + 2;
          break;
        }
        if (rest.length < le + 2 + size + 2) return null;
        body += rest.slice(le + 2, le + 2 + size);
        p = le + 2 + size + 2;
      }
    } else {
      if (!this.closed) return null;
      body = rest;
      used = rest.length;
    }
    this.buf = rest.slice(used);
    return { status, headers, body };
  }

  close(): void {
    this.sock.destroy();
  }
}
