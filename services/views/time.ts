/** The two services write the same instants in two forms. */

/** Legacy: `2026-01-02T03:04:05.000Z`. */
export function legacyTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** V2: `2026-01-02T03:04:05+00:00`, with `.123` only when the instant has milliseconds. */
export function v2Time(ms: number): string {
  const iso = new Date(ms).toISOString();
  return (iso.endsWith('.000Z') ? iso.slice(0, -5) : iso.slice(0, -1)) + '+00:00';
}
