/**
 * RSS of every live process, sampled once a second for the whole run. A process's baseline is
 * the median of its first samples after warm-up (or after its restart), its end the median of
 * its last samples: medians so that one GC landing just before a reading does not decide.
 */
import { rssMb } from './observe.js';
import type { RssRecord } from './invariants.js';

const WINDOW = 3;

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export class RssSampler {
  private series = new Map<string, { pid: number; samples: number[]; restarted: boolean; peak: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly live: () => Array<{ label: string; pid: number }>) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sample(): void {
    for (const p of this.live()) {
      const mb = rssMb(p.pid);
      if (mb === undefined) continue;
      const s = this.series.get(p.label);
      if (!s || s.pid !== p.pid) {
        this.series.set(p.label, { pid: p.pid, samples: [mb], restarted: s !== undefined, peak: mb });
      } else {
        s.samples.push(mb);
        s.peak = Math.max(s.peak, mb);
      }
    }
  }

  records(): Array<RssRecord & { peakMb: number; samples: number; pid: number }> {
    return [...this.series.entries()].map(([label, s]) => {
      const baselineMb = median(s.samples.slice(0, WINDOW));
      const endMb = median(s.samples.slice(-WINDOW));
      const growthMb = baselineMb !== undefined && endMb !== undefined ? Math.round((endMb - baselineMb) * 10) / 10 : undefined;
      return { label, pid: s.pid, baselineMb, endMb, growthMb, restarted: s.restarted, peakMb: s.peak, samples: s.samples.length };
    });
  }
}
