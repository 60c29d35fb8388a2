/**
 * Callers of V2 send `x-api-key`; a key maps to a project with permitted endpoints and a
 * rate limit. The table is loaded into a Map and reloaded in the background, so the
 * request path is one Map look-up. The demo table is fixed and documented in docs/services.md.
 */
import { ENDPOINTS, ENDPOINT_NAMES, type Endpoint } from '../endpoints.js';

export interface Project {
  id: string;
  /** Endpoint names this project may call. */
  endpoints: ReadonlySet<Endpoint>;
  /** Token bucket: sustained requests per second and burst size. */
  ratePerSecond: number;
  burst: number;
}

export interface ApiKeyTable {
  projects: Array<{ id: string; endpoints: Endpoint[] | '*'; ratePerSecond: number; burst: number }>;
  keys: Array<{ key: string; projectId: string }>;
}

const READ_ONLY = ENDPOINT_NAMES.filter((e) => ENDPOINTS[e].readOnly);

export const DEMO_API_KEYS: ApiKeyTable = {
  projects: [
    { id: 'demo-app', endpoints: '*', ratePerSecond: 10_000, burst: 20_000 },
    { id: 'reporting', endpoints: READ_ONLY, ratePerSecond: 1_000, burst: 2_000 },
    { id: 'sandbox', endpoints: '*', ratePerSecond: 5, burst: 5 },
  ],
  keys: [
    { key: 'demo-key-full', projectId: 'demo-app' },
    { key: 'demo-key-readonly', projectId: 'reporting' },
    { key: 'demo-key-tiny', projectId: 'sandbox' },
  ],
};

export type KeySource = () => ApiKeyTable | Promise<ApiKeyTable>;

/** Builds the look-up map; a key naming an unknown project is left out. */
export function indexKeys(table: ApiKeyTable): Map<string, Project> {
  const projects = new Map<string, Project>();
  for (const p of table.projects) {
    projects.set(p.id, {
      id: p.id,
      endpoints: new Set(p.endpoints === '*' ? ENDPOINT_NAMES : p.endpoints),
      ratePerSecond: p.ratePerSecond,
      burst: p.burst,
    });
  }
  const byKey = new Map<string, Project>();
  for (const k of table.keys) {
    const p = projects.get(k.projectId);
    if (p) byKey.set(k.key, p);
  }
  return byKey;
}

export class ApiKeyRegistry {
  private byKey = new Map<string, Project>();
  private timer: NodeJS.Timeout | undefined;
  loadedAt = 0;
  loads = 0;
  lastError: string | undefined;

  constructor(
    private readonly source: KeySource = () => DEMO_API_KEYS,
    private readonly refreshMs = 10_000,
  ) {}

  /** Loads once, then keeps reloading every refreshMs; a failed reload keeps the last table. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async refresh(): Promise<void> {
    try {
      this.byKey = indexKeys(await this.source());
      this.loadedAt = Date.now();
      this.loads++;
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as Error).message;
    }
  }

  lookup(key: string): Project | undefined {
    return this.byKey.get(key);
  }

  get size(): number {
    return this.byKey.size;
  }
}
