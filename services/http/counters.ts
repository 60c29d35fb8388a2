/**
 * Requests received, by method and route pattern, with how many of them carried
 * `x-cutover-shadow` (copies the proxy mirrored). The soak suite and the tests read these
 * through `GET /_admin/requests` to check, from outside, what reached a service.
 */
export interface RouteCount {
  count: number;
  shadow: number;
}

export class RequestCounters {
  private byRoute = new Map<string, RouteCount>();
  private since = Date.now();

  record(method: string, routePattern: string | undefined, shadow: boolean): void {
    const key = `${method} ${routePattern ?? '(unmatched)'}`;
    let c = this.byRoute.get(key);
    if (!c) {
      c = { count: 0, shadow: 0 };
      this.byRoute.set(key, c);
    }
    c.count++;
    if (shadow) c.shadow++;
  }

  reset(): void {
    this.byRoute = new Map();
    this.since = Date.now();
  }

  toJSON(service: string) {
    let total = 0;
    let shadow = 0;
    const byRoute: Record<string, RouteCount> = {};
    for (const [k, v] of [...this.byRoute.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      byRoute[k] = { ...v };
      total += v.count;
      shadow += v.shadow;
    }
    return { service, since: new Date(this.since).toISOString(), total, shadow, byRoute };
  }
}
