#!/usr/bin/env node
/**
 * Runs a tool of this repository compiled ahead of time, with the program it loads (README "The
 * program, compiled ahead of time"): `node tools/build/run.cjs tools/render.ts --stack home` runs
 * `.build/<hash>/tools/render.js`, building (type-checking) first when a source changed, with
 * source maps, so errors point at the TypeScript lines. `npm run render` and `npm run bench` use it.
 */
"use strict";
const path = require("node:path");

const root = path.resolve(__dirname, "../..");
require(require.resolve("source-map-support/register", { paths: [path.join(root, "node_modules/@pulumi/pulumi")] }));
const [source] = process.argv.splice(2, 1);
if (!source) {
  process.stderr.write("usage: node tools/build/run.cjs <tools/….ts> [arguments]\n");
  process.exit(2);
}
let compiledModule;
try {
  compiledModule = require("./program.cjs").compiled(root, source);
} catch (e) {
  process.stderr.write(`${e && e.message ? e.message : e}\n`);
  process.exit(1);
}
require(compiledModule);
