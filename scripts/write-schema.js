// Writes the JSON Schema for bulletin.json, generated from the zod schema, next to the package.
import { mkdirSync, writeFileSync } from 'node:fs';
import { configJsonSchema } from '../dist/core/config.js';

mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
writeFileSync(new URL('../schema/bulletin.schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
