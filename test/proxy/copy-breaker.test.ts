import { describe, expect, it } from 'vitest';
import { CopyBreaker } from '../../proxy/copy-breaker.js';

function clocked(threshold: number, timeoutMs: number) {
  let t = 0;
  const b = new CopyBreaker(threshold, timeoutMs, () => t);
  return { b, advance: (ms: number) => (t += ms) };
}

describe('CopyBreaker', () => {
  it('opens after the threshold of failures in a row, for twice the copy timeout (at least 1 s)', () => {
    const { b, advance } = clocked(3, 2000);
    b.failed();
    b.failed();
    expect(b.allows()).toBe(true);
    b.failed();
    expect(b.suspended).toBe(true);
    expect(b.allows()).toBe(false);
    advance(3999);
    expect(b.allows()).toBe(false);
    advance(1);
    // half-open: exactly one probe
    expect(b.allows()).toBe(true);
    expect(b.allows()).toBe(false);
  });

  it('an answer in between resets the count; an answered probe closes it', () => {
    const { b, advance } = clocked(2, 100);
    b.failed();
    b.answered();
    b.failed();
    expect(b.suspended).toBe(false);
    b.failed();
    expect(b.suspended).toBe(true);
    advance(1000);
    expect(b.allows()).toBe(true);
    b.answered();
    expect(b.suspended).toBe(false);
    expect([b.allows(), b.allows(), b.allows()]).toEqual([true, true, true]);
  });

  it('a failed probe suspends again for twice as long, up to a minute; late failures of copies sent before do not extend it', () => {
    const { b, advance } = clocked(1, 100);
    b.failed(); // open for 1 s
    b.failed(); // a copy sent before it opened: ignored
    advance(1000);
    const gaps: number[] = [];
    for (let i = 0; i < 8; i++) {
      expect(b.allows()).toBe(true); // the probe
      b.failed();
      let waited = 0;
      while (!b.allows()) {
        advance(500);
        waited += 500;
      }
      b.unused(); // give the probe slot back: the loop takes it again
      gaps.push(waited);
    }
    expect(gaps).toEqual([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('a probe that was not sent (body too large) lets the next copy probe', () => {
    const { b, advance } = clocked(1, 100);
    b.failed();
    advance(1000);
    expect(b.allows()).toBe(true);
    expect(b.allows()).toBe(false);
    b.unused();
    expect(b.allows()).toBe(true);
  });

  it('never opens with a threshold of 0', () => {
    const { b } = clocked(0, 100);
    for (let i = 0; i < 1000; i++) b.failed();
    expect(b.suspended).toBe(false);
    expect(b.allows()).toBe(true);
  });
});
