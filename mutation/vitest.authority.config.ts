import { mutationVitestConfig } from './vitest-config.js';

export default mutationVitestConfig('authority');
