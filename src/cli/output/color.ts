import chalk from 'chalk';
import { whenColorConfigured } from './terminal.js';

/**
 * chalk, plain when --no-color or NO_COLOR asked for it. Only the commands import this, after
 * main() has read the flags, so `--help` and `--version` never load chalk.
 */
const detected = chalk.level;
whenColorConfigured((wanted) => {
  chalk.level = wanted ? detected : 0;
});

export default chalk;
