/**
 * One ledger for services in separate processes, as extracted services keep sharing the
 * monolith's database: the process that starts them holds the ledger that decides every
 * posting (idempotency, ids); each service process keeps a replica built from the same seed
 * and reads from it. A posting goes to the writer over the IPC channel; the writer applies it
 * and sends the change to every service, the poster first being told before its answer, so a
 * service reads its own writes and the others see them a moment later.
 */
import type { ChildProcess } from 'node:child_process';
import { ServiceError, SVC_ERR } from './errors.js';
import type { Ledger, LedgerChange, PostingInput, PostingResult, PostingWriter, ServiceName } from './data/ledger.js';

type ToWriter = { t: 'post'; id: number; service: ServiceName; input: PostingInput; times: number };
type ToService =
  | { t: 'change'; change: LedgerChange }
  | { t: 'posted'; id: number; accountId: string; txnId: string; created: boolean }
  | { t: 'post-failed'; id: number; status: number; code: string; message: string };

/** The writer's side: applies the postings of every attached service and sends each change to all of them. */
export class LedgerWriterHub {
  private readonly children = new Set<ChildProcess>();
  private readonly stop: () => void;

  constructor(readonly ledger: Ledger) {
    this.stop = ledger.onChange((change) => {
      for (const c of this.children) send(c, { t: 'change', change });
    });
  }

  attach(child: ChildProcess): void {
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.on('message', (raw) => {
      const msg = raw as ToWriter;
      if (msg?.t !== 'post') return;
      try {
        const r = this.ledger.post(msg.service, msg.input, msg.times);
        send(child, { t: 'posted', id: msg.id, accountId: r.txn.accountId, txnId: r.txn.id, created: r.created });
      } catch (err) {
        const e = err instanceof ServiceError ? err : new ServiceError(500, SVC_ERR.INTERNAL, `the shared ledger failed: ${(err as Error).message}`);
        send(child, { t: 'post-failed', id: msg.id, status: e.status, code: e.code, message: e.message });
      }
    });
  }

  close(): void {
    this.stop();
    this.children.clear();
  }
}

function send(child: ChildProcess, msg: ToService): void {
  if (child.connected) child.send(msg, (err) => void err);
}

/** The service's side: postings go to the writer; changes from it are applied to `replica`. */
export function remoteWriter(replica: Ledger, channel: NodeJS.Process = process): PostingWriter {
  const pending = new Map<number, { resolve: (r: PostingResult) => void; reject: (e: Error) => void }>();
  let next = 1;
  channel.on('message', (raw) => {
    const msg = raw as ToService;
    if (msg?.t === 'change') replica.applyChange(msg.change);
    else if (msg?.t === 'posted' || msg?.t === 'post-failed') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.t === 'posted') p.resolve({ created: msg.created, txn: replica.transaction(msg.accountId, msg.txnId) });
      else p.reject(new ServiceError(msg.status, msg.code, msg.message));
    }
  });
  channel.on('disconnect', () => {
    for (const p of pending.values()) p.reject(gone());
    pending.clear();
  });
  return {
    post(service, input, times = 1) {
      if (!channel.connected || !channel.send) return Promise.reject(gone());
      const id = next++;
      return new Promise<PostingResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        channel.send!({ t: 'post', id, service, input, times } satisfies ToWriter, undefined, undefined, (err) => {
          if (err && pending.delete(id)) reject(gone());
        });
      });
    },
  };
}

const gone = () => new ServiceError(503, SVC_ERR.INTERNAL, 'the shared ledger is not reachable (the process that started the services is gone)');
