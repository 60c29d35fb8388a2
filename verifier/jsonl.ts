/** Reading JSONL files line by line (blank lines skipped), with 1-based line numbers for error messages. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { badLine } from './errors.js';

export async function* readJsonl(file: string): AsyncGenerator<{ line: number; value: unknown }> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((res, rej) => {
    stream.once('open', () => res());
    stream.once('error', rej);
  });
  try {
    await opened;
  } catch (err) {
    throw badLine(file, 0, '', `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of rl) {
      n++;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw badLine(file, n, '', `is not valid JSON (${(err as Error).message})`, err);
      }
      yield { line: n, value };
    }
  } catch (err) {
    // A read that fails after the open (a directory: EISDIR) is the input's fault, not a crash.
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      throw badLine(file, 0, '', code === 'EISDIR' ? 'is a directory; give the JSONL file inside it' : `cannot read the file: ${code}`, err);
    }
    throw err;
  } finally {
    rl.close();
    stream.destroy();
  }
}
