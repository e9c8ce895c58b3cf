/**
 * The floor under `validate`: a process that only reads the CSV and streams it through csv-parse
 * with the options bulletin uses, counting records. `node bench/csv-parse-alone.js FILE`.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';

const text = await readFile(process.argv[2], 'utf8');
const parser = Readable.from([text]).pipe(parse({ delimiter: ',', relax_column_count: true, relax_quotes: true, bom: true }));
let records = 0;
for await (const _record of parser) records++;
process.stdout.write(`${records}\n`);
