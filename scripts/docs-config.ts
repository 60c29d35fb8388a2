/** `npm run docs:config`: writes docs/config.md from the config schema (shared/config-reference.ts). */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderConfigReference } from '../shared/config-reference.js';

const file = join(resolve(import.meta.dirname, '..'), 'docs', 'config.md');
writeFileSync(file, renderConfigReference());
process.stdout.write(`wrote ${file}\n`);
