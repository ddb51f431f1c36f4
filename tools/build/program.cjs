/**
 * The program compiled ahead of time. Pulumi.yaml's `main` (src/main.cjs) loads src/index.ts as
 * JavaScript that tsc type-checked and compiled (tsconfig.build.json, source maps on), instead of
 * compiling and type-checking it through ts-node on every `pulumi preview`/`up`.
 *
 * The build lives in .build/<hash>/, the hash covering every file under src/, both tsconfigs, the
 * lockfile and the TypeScript release: an unchanged program is loaded at once; a changed one is
 * type-checked and compiled first (into a temporary directory, then renamed into place, so a
 * concurrent run never sees half a build). A type error fails here, with tsc's diagnostics,
 * before the program registers anything.
 */
"use strict";
const { execFileSync } = require("node:child_process");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

function filesUnder(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Besides src/: what tsconfig.build.json compiles too (the offline render and the benchmark's measurement). */
const BUILD_INPUTS = ["tools/render.ts", "tools/render-lib.ts", "tools/bench/measure.ts", "tools/bench/generate.ts"];

/** The hash of everything the compiled program depends on. */
function sourceHash(ROOT) {
  const TSCONFIG = path.join(ROOT, "tsconfig.build.json");
  const h = createHash("sha256");
  const tools = BUILD_INPUTS.map((f) => path.join(ROOT, f)).filter((f) => fs.existsSync(f));
  const inputs = [...filesUnder(path.join(ROOT, "src")), ...tools, path.join(ROOT, "tsconfig.json"), TSCONFIG, path.join(ROOT, "package-lock.json")];
  for (const f of inputs) {
    h.update(`${path.relative(ROOT, f)}\0`);
    h.update(fs.existsSync(f) ? fs.readFileSync(f) : "(none)");
    h.update("\0");
  }
  h.update(require(path.join(ROOT, "node_modules/typescript/package.json")).version);
  return h.digest("hex").slice(0, 20);
}

/**
 * The compiled entry (`<root>/.build/<hash>/src/index.js`) of the project at `root` (src/,
 * tsconfig.build.json, node_modules), building it first when the sources changed.
 */
function compiledEntry(ROOT) {
  const BUILD_ROOT = path.join(ROOT, ".build");
  const TSCONFIG = path.join(ROOT, "tsconfig.build.json");
  const dir = path.join(BUILD_ROOT, sourceHash(ROOT));
  const entry = path.join(dir, "src", "index.js");
  if (fs.existsSync(path.join(dir, ".complete"))) return entry;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", TSCONFIG, "--outDir", tmp, "--pretty", "false"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const diagnostics = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() || String(e.message);
    const err = new Error(`the program does not type-check (tsc -p tsconfig.build.json); nothing was registered:\n${diagnostics}`);
    err.stack = err.message;
    throw err;
  }
  fs.writeFileSync(path.join(tmp, ".complete"), "");
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    // Another run finished the same build first.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, ".complete"))) throw e;
  }
  // Builds of earlier sources (not temporary ones of a concurrent run) are no longer needed.
  for (const name of fs.readdirSync(BUILD_ROOT)) {
    if (name !== path.basename(dir) && /^[0-9a-f]{20}$/.test(name)) fs.rmSync(path.join(BUILD_ROOT, name), { recursive: true, force: true });
  }
  return entry;
}

/** A compiled module of the build, by its source path (`tools/render.ts` → `.build/<hash>/tools/render.js`). */
function compiled(ROOT, source) {
  const entry = compiledEntry(ROOT);
  return path.join(path.dirname(path.dirname(entry)), source.replace(/\.ts$/, ".js"));
}

module.exports = { compiled, compiledEntry, sourceHash };
