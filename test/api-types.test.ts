import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations
import { apiTypesSource } from '../scripts/api-types-source.mjs';
import { openApiDocument } from '../src/main/openapi-document.js';

it('keeps web/src/api-types.ts generated from the current routes (npm run api:types)', async () => {
  const committed = await readFile(new URL('../web/src/api-types.ts', import.meta.url), 'utf8');
  const current: string = await apiTypesSource(await openApiDocument());
  expect(committed === current, 'web/src/api-types.ts is stale: run npm run api:types').toBe(true);
});
