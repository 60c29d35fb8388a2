// Source entry for running the CLI through tsx (tests, development). bin/cutover.js is the built one.
import { main } from './main.js';

main(process.argv).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`cutover: unexpected failure: ${process.env.CUTOVER_DEBUG === '1' && err && err.stack ? err.stack : String(err && err.message ? err.message : err)}\n`);
    process.exit(1);
  },
);
