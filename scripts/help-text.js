// Writes `bulletin --help` as printed to a pipe (80 columns, no colour) to dist/cli/help.txt, which
// bin/bulletin.js prints without loading the CLI (start-up time, BENCHMARKS.md).
import { writeFileSync } from 'node:fs';
import { helpText } from '../dist/cli/main.js';

writeFileSync(new URL('../dist/cli/help.txt', import.meta.url), helpText());
