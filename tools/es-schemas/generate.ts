/**
 * JSON Schemas of the Elasticsearch request bodies in bodies.ts, from the official client's type
 * declarations (ts-json-schema-generator; objects closed: an unknown field is an error, as
 * Elasticsearch's parsers reject one). `npm run es-schemas` writes them to
 * test/integration/es-schemas/; test/es-schemas.test.ts fails when they are not current.
 */
import { writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createGenerator } from "ts-json-schema-generator";

export const SCHEMA_DIR = resolve(__dirname, "../../test/integration/es-schemas");
export const BODIES = ["IlmPutLifecycleBody", "IndicesPutIndexTemplateBody", "IndicesCreateBody", "IndicesPutAliasBody", "BulkAction"] as const;
export type BodyName = (typeof BODIES)[number];

function clientVersion(): string {
  // The package's `exports` hide package.json: read it where npm put it.
  return (JSON.parse(readFileSync(resolve(__dirname, "../../node_modules/@elastic/elasticsearch/package.json"), "utf8")) as { version: string }).version;
}

/** Each body's schema text (pretty JSON, a trailing newline), keyed by file name. */
export function generateSchemas(): Record<string, string> {
  const generator = createGenerator({
    path: join(__dirname, "bodies.ts"),
    type: "*",
    expose: "export",
    additionalProperties: false,
    skipTypeCheck: true,
    topRef: true,
    jsDoc: "none",
  });
  const out: Record<string, string> = {};
  for (const name of BODIES) {
    const schema = {
      $comment: `${name} from @elastic/elasticsearch ${clientVersion()} lib/api/typesWithBodyKey.d.ts (tools/es-schemas; npm run es-schemas)`,
      ...generator.createSchema(name),
    };
    out[`${name}.json`] = `${JSON.stringify(schema, null, 1)}\n`;
  }
  return out;
}

if (require.main === module) {
  mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const [file, text] of Object.entries(generateSchemas())) writeFileSync(join(SCHEMA_DIR, file), text);
  console.log(`wrote ${BODIES.length} schemas to ${SCHEMA_DIR}`);
}
