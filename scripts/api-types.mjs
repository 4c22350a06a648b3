// Writes web/src/api-types.ts from the OpenAPI document the server publishes (npm run api:types).
// test/api-types.test.ts fails when the committed file no longer matches the routes.
import { writeFile } from 'node:fs/promises';
import { apiTypesSource } from './api-types-source.mjs';

const target = new URL('../web/src/api-types.ts', import.meta.url);
const { openApiDocument } = await import('../dist/main/openapi-document.js');
await writeFile(target, await apiTypesSource(await openApiDocument()));
process.stdout.write(`wrote ${target.pathname}\n`);
