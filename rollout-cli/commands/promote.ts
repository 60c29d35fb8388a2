import { notYetAvailable } from '../errors.js';

export async function run(): Promise<number> {
  throw notYetAvailable('promote', 5);
}
