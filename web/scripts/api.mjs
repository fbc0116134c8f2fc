// Generates the web app's view of the HTTP API from its contract,
// functions/apicontract/openapi.yaml:
//   src/api/types.ts   the types of every schema, path and operation (openapi-typescript)
//   src/api/limits.ts  every field limit the schemas declare, as values the forms check
//
//   node scripts/api.mjs          write both files
//   node scripts/api.mjs --check  fail if either differs from what the contract gives (npm test runs it)
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { parse } from 'yaml';

const contract = new URL('../../functions/apicontract/openapi.yaml', import.meta.url);
const outputs = {
  types: new URL('../src/api/types.ts', import.meta.url),
  limits: new URL('../src/api/limits.ts', import.meta.url),
};
const banner = '// Generated from functions/apicontract/openapi.yaml by `npm run api:generate`. Do not edit.\n';

// The JSON Schema keywords that bound a value; limits.ts carries these.
const LIMIT_KEYWORDS = ['minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'default'];

function bounds(schema) {
  const out = {};
  for (const k of LIMIT_KEYWORDS) if (typeof schema?.[k] === 'number') out[k] = schema[k];
  return out;
}

/** Each schema's own bounds, and for an object those of its inline properties. */
function limitsOf(doc) {
  const limits = {};
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    const entry = bounds(schema);
    for (const [prop, sub] of Object.entries(schema.properties ?? {})) {
      const b = bounds(sub);
      if (Object.keys(b).length > 0) entry[prop] = b;
    }
    if (Object.keys(entry).length > 0) limits[name] = entry;
  }
  return limits;
}

// A TypeScript object literal: JSON without quotes around plain keys.
function asLiteral(value) {
  return JSON.stringify(value, null, 2).replace(/^(\s*)"([A-Za-z_$][\w$]*)":/gm, '$1$2:');
}

async function generate() {
  const doc = parse(await readFile(contract, 'utf8'));
  const ast = await openapiTS(doc, { rootTypes: true, rootTypesNoSchemaPrefix: true, enumValues: true });
  return {
    types: banner + astToString(ast),
    limits:
      banner +
      '// The API\'s field limits, by schema in components/schemas (and property, for objects).\n' +
      `export const limits = ${asLiteral(limitsOf(doc))} as const;\n`,
  };
}

async function main() {
  const check = process.argv.includes('--check');
  const generated = await generate();
  let stale = false;
  for (const [key, url] of Object.entries(outputs)) {
    const path = fileURLToPath(url);
    if (!check) {
      await writeFile(url, generated[key]);
      continue;
    }
    const current = await readFile(url, 'utf8').catch(() => '');
    if (current !== generated[key]) {
      console.error(`${path} is stale: run \`npm run api:generate\` and commit it.`);
      stale = true;
    }
  }
  if (stale) process.exit(1);
}

await main();
