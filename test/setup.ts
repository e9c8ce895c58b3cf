// Runs before every test file (vitest setupFiles): temp folders made outside a test go at the end.
import { afterAll } from 'vitest';
import { removeScratchDirs } from './helpers/scratch.js';

afterAll(removeScratchDirs);
