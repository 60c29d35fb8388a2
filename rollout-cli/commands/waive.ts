import { notYetAvailable } from '../errors.js';

export async function run(): Promise<number> {
  throw notYetAvailable('waive', 4);
}
