#!/usr/bin/env node
// The one place that exits: commands return an exit code or throw an error that carries one.
import { main } from '../dist/rollout-cli/main.js';

main(process.argv).then(
  (code) => process.exit(typeof code === 'number' ? code : 0),
  (err) => {
    process.stderr.write(`cutover: unexpected failure: ${process.env.CUTOVER_DEBUG === '1' && err && err.stack ? err.stack : String(err && err.message ? err.message : err)}\n`);
    process.exit(1);
  },
);
