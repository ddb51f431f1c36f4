/**
 * Loads Pulumi.yaml's `main` the way `pulumi up` does (@pulumi/pulumi/cmd/run/index.js and run.js):
 * source-map-support first; with `runtime.options.typescript` ts-node with the project's tsconfig
 * (type-checking on), without it a plain require of the JavaScript `main` — here under Pulumi's mock
 * runtime (tools/render-lib.ts, itself loaded through ts-node, transpile-only).
 * Usage: node pulumi-entry.cjs <projectDir> <stack>
 */
const path = require("node:path");
const fs = require("node:fs");
const projectDir = path.resolve(process.argv[2]);
const stack = process.argv[3];
process.chdir(projectDir);

const YAML = require("yaml");
const projectFile = YAML.parse(fs.readFileSync("Pulumi.yaml", "utf8"));
const pulumiDir = path.join(projectDir, "node_modules/@pulumi/pulumi");
require(require.resolve("source-map-support/register", { paths: [pulumiDir] }));
const typescript = projectFile.runtime?.options?.typescript ?? true;
const tsutils = require(path.join(pulumiDir, "tsutils.js"));
const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
require("ts-node").register({
  // A TypeScript main is type-checked as Pulumi's default does; otherwise only this helper's render-lib is compiled.
  transpileOnly: typescript === true || typescript === "true" ? compilerOptions.noCheck : true,
  project: "tsconfig.json",
  skipProject: !fs.existsSync("tsconfig.json"),
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});

const { renderStack } = require(path.join(projectDir, "tools/render-lib.ts"));
renderStack({
  projectDir,
  stack,
  importProgram: async () => require(path.join(projectDir, projectFile.main)),
}).then(
  (r) => {
    process.stdout.write(JSON.stringify({ resources: r.resourceCount, outputs: Object.keys(r.outputs) }) + "\n");
    process.exit(0);
  },
  (e) => {
    process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
    process.exit(1);
  },
);
