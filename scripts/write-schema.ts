/**
 * Writes qualys-s3.schema.json, the JSON Schema of the configuration, from the zod schema
 * (`npm run schema`). test/config/json-schema.test.ts fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONFIG_SCHEMA_FILE, configJsonSchemaText } from '../src/config/config';

const file = path.join(__dirname, '..', CONFIG_SCHEMA_FILE);
writeFileSync(file, configJsonSchemaText());
process.stdout.write(`wrote ${file}\n`);
