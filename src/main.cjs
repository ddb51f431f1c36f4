/**
 * Pulumi.yaml's `main`. The program is src/index.ts; this loads it compiled ahead of time —
 * type-checked by tsc, with source maps, rebuilt only when a source changed — instead of through
 * ts-node on every run (tools/build/program.cjs). A type error fails the run before any resource
 * is registered, with tsc's diagnostics.
 */
"use strict";
const path = require("node:path");

const root = path.resolve(__dirname, "..");
module.exports = require(require(path.join(root, "tools/build/program.cjs")).compiledEntry(root));
