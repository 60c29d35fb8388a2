/** A progress bar on a TTY (redrawn at most 10 times a second), plain lines every 10 % otherwise. */
export interface Progress {
  update(done: number, total: number, mismatches: number): void;
  end(): void;
}

export function createProgress(stream: { isTTY?: boolean; write(s: string): unknown }, label: string): Progress {
  let lastDraw = 0;
  let lastDecile = -1;
  let drawn = false;
  return {
    update(done, total, mismatches) {
      if (stream.isTTY) {
        const now = Date.now();
        if (done < total && now - lastDraw < 100) return;
        lastDraw = now;
        const width = 30;
        const filled = total > 0 ? Math.round((done / total) * width) : width;
        const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${pct}%  mismatches ${mismatches} `);
        drawn = true;
      } else {
        const decile = total > 0 ? Math.floor((done / total) * 10) : 10;
        if (decile === lastDecile) return;
        lastDecile = decile;
        stream.write(`${label}: ${done}/${total} (mismatches ${mismatches})\n`);
      }
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}
