// Worker entry when cutover runs from its TypeScript sources (tests, tsx): load worker.ts through tsx.
// The built package uses dist/verifier/worker.js directly.
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('./worker.ts', import.meta.url);
export default mod.default;
