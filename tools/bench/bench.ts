/**
 * `npm run bench`: how long the program takes and how much memory it needs, beside the budgets
 * (README "Benchmark"). Not a test: it prints a table.
 *
 *   - the offline render (`npm run render`'s engine) of `home`, `k8s`, and generated stacks of
 *     100 and 1 000 nodes on both targets (tools/bench/generate.ts): wall time of the whole process
 *     (Node start and module loading included), CPU time, peak RSS, resources;
 *   - a real `pulumi preview` of a generated hosts stack through the toolchain's CLI
 *     (`npm run pulumi`, a DIY backend in a project directory of its own, as the integration suite
 *     sets one up): the program's evaluation time (the language runtime's Run, from the CLI's call to
 *     the program's last registration answered) and the preview's wall time and peak RSS. Elasticsearch,
 *     Grafana and Prometheus are `existing` (no Docker provider here) and the drift check is off, so
 *     nothing reaches a host (none is reachable).
 *
 * Each measurement is its own process; the whole run holds `flock /tmp/tracestack-heavy.lock` (one
 * heavy job at a time on a shared machine); the load average is printed with every figure.
 *
 * Usage: npm run bench [-- --only render|preview] [--nodes 100,1000] [--preview-nodes 1000]
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from "node:fs";
import { loadavg, cpus } from "node:os";
import { join, resolve } from "node:path";
import YAML from "yaml";
import { hostsStack } from "./generate";

const PROJECT_DIR = resolve(__dirname, "../..");
const LOCK = "/tmp/tracestack-heavy.lock";
const GiB = 1024;

/** Budgets (issue #14). */
const BUDGET = { homeSeconds: 2, bigSeconds: 10, bigMiB: GiB, ratio: 12 };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const hasFlock = (() => {
  try {
    execFileSync("flock", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Set in the benchmark's own process once it holds the heavy-jobs lock. */
const LOCK_HELD = "TRACESTACK_BENCH_HOLDS_HEAVY_LOCK";

/** A measurement: the run holds the heavy-jobs lock already (main). `input` goes to its stdin. */
function locked(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, {
      cwd: opts.cwd ?? PROJECT_DIR,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", rej);
    p.on("exit", (code) => res({ code: code ?? 1, stdout, stderr }));
    if (opts.input !== undefined) p.stdin!.end(opts.input);
  });
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

interface Row {
  what: string;
  resources: number | string;
  seconds: number;
  cpuSeconds?: number;
  rssMiB: number;
  load: string;
  timeBudget?: number;
  rssBudget?: number;
}

const rows: Row[] = [];

/** Each figure as soon as it is measured (stderr), so a long run shows its progress. */
function report(r: Row): void {
  process.stderr.write(
    `bench:   ${r.what.trim()}: ${r.seconds.toFixed(2)} s${r.cpuSeconds === undefined ? "" : `, cpu ${r.cpuSeconds.toFixed(2)} s`}${Number.isNaN(r.rssMiB) ? "" : `, ${r.rssMiB} MiB`}, ${r.resources} resources, load ${r.load}\n`,
  );
}

async function measureRender(what: string, args: string[]): Promise<Row> {
  process.stderr.write(`bench: render ${what} …\n`);
  // As `npm run render` runs: the tool and the program compiled ahead of time (tools/build/run.cjs).
  const r = await locked("node", ["tools/build/run.cjs", "tools/bench/measure.ts", ...args]);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.code !== 0 || !line.startsWith("{")) throw new Error(`render ${what} failed (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
  const m = JSON.parse(line) as { resources: number; wallMs: number; cpuMs: number; maxRssMiB: number };
  const row = { what: `render ${what}`, resources: m.resources, seconds: m.wallMs / 1000, cpuSeconds: m.cpuMs / 1000, rssMiB: m.maxRssMiB, load: load() };
  report(row);
  return row;
}

/** A project directory of its own for the real CLI (as test/integration/engine.ts sets one up). */
function previewProject(nodes: number): { dir: string; env: NodeJS.ProcessEnv } {
  const root = join(PROJECT_DIR, ".test-out", "bench", `preview-${nodes}`);
  rmSync(root, { recursive: true, force: true });
  const dir = join(root, "project");
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(root, "state"), { recursive: true });
  copyFileSync(join(PROJECT_DIR, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  for (const f of ["src", "tools", "node_modules", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"]) {
    if (existsSync(join(PROJECT_DIR, f))) symlinkSync(join(PROJECT_DIR, f), join(dir, f));
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_HOME: join(root, "pulumi-home"),
    PULUMI_BACKEND_URL: `file://${join(root, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "tracestack-bench",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    NO_COLOR: "1",
    TRACESTACK_PROGRAM_TIMINGS: join(root, "program-timings.json"),
  };
  return { dir, env };
}

async function pulumi(dir: string, env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<Run> {
  return locked("node", [join(PROJECT_DIR, "tools/engine/pulumi.cjs"), ...args, "--non-interactive"], { cwd: dir, env, input: input ?? "" });
}

async function measurePreview(nodes: number): Promise<Row> {
  process.stderr.write(`bench: pulumi preview of ${nodes} hosts …\n`);
  if (!existsSync(join(PROJECT_DIR, ".toolchain/bin/pulumi")))
    throw new Error(".toolchain/bin/pulumi is missing: build the toolchain first with `npm run toolchain`");
  const { dir, env } = previewProject(nodes);
  const must = async (args: string[], input?: string) => {
    const r = await pulumi(dir, env, args, input);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    return r;
  };
  await must(["stack", "init", "bench", "--secrets-provider", "passphrase"]);
  const v = hostsStack(PROJECT_DIR, nodes) as { target: Record<string, unknown> } & Record<string, unknown>;
  // No Docker provider can be built here: the stores are existing ones; no host is reachable: no drift probe.
  const config = {
    ...v,
    target: { ...v.target, driftCheck: false },
    elasticsearch: { mode: "existing", url: "http://10.0.0.1:9200", username: "elastic" },
    grafana: { mode: "existing", url: "http://10.0.0.1:3000" },
    prometheus: { mode: "existing", url: "http://10.0.0.1:9090" },
  };
  const stackFile = join(dir, "Pulumi.bench.yaml");
  const file = (YAML.parse(readFileSync(stackFile, "utf8")) ?? {}) as Record<string, unknown>;
  writeFileSync(stackFile, YAML.stringify({ ...file, config: Object.fromEntries(Object.entries(config).map(([k, x]) => [`tracestack:${k}`, x])) }));
  await must(["config", "set", "--secret", "tracestack:elasticsearchPassword"], "bench-password");
  const args = ["-f", "%e %M", "node", join(PROJECT_DIR, "tools/engine/pulumi.cjs"), "preview", "--json", "--non-interactive"];
  const r = await locked("/usr/bin/time", args, { cwd: dir, env });
  const timeLine = r.stderr.trim().split("\n").pop() ?? "";
  const [wall, rssKiB] = timeLine.split(" ").map(Number);
  const failed = (why: string, cause?: unknown) =>
    new Error(`pulumi preview of ${nodes} hosts failed: ${why}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`, { cause });
  let out: { steps?: unknown[]; diagnostics?: { severity: string; message: string }[] };
  try {
    out = JSON.parse(r.stdout) as typeof out;
  } catch (e) {
    throw failed("no JSON on stdout", e);
  }
  const steps = out.steps?.length ?? 0;
  const errors = (out.diagnostics ?? []).filter((d) => d.severity === "error");
  if (r.code !== 0 || errors.length > 0) throw failed(errors.map((e) => e.message).join("\n") || `exit ${r.code}`);
  const t = JSON.parse(readFileSync(env.TRACESTACK_PROGRAM_TIMINGS!, "utf8")) as { runMs: number; loadMs: number };
  rows.push({ what: `  pulumi preview ${nodes} hosts (whole CLI run)`, resources: steps, seconds: wall, rssMiB: Math.round(rssKiB / 1024), load: load() });
  report(rows[rows.length - 1]);
  const row = {
    what: `preview ${nodes} hosts: program evaluation`,
    resources: steps,
    seconds: t.runMs / 1000,
    cpuSeconds: undefined,
    rssMiB: NaN,
    load: load(),
  };
  report(row);
  return row;
}

function fmtBudget(value: number, budget: number | undefined, unit: string): string {
  if (budget === undefined) return "";
  return `${value <= budget ? "ok" : "OVER"} (≤ ${budget}${unit})`;
}

function table(): string {
  const head = ["measurement", "resources", "wall s", "budget", "cpu s", "peak RSS MiB", "budget", "load (1 5 15)"];
  const body = rows.map((r) => [
    r.what,
    String(r.resources),
    r.seconds.toFixed(2),
    fmtBudget(r.seconds, r.timeBudget, " s"),
    r.cpuSeconds === undefined ? "" : r.cpuSeconds.toFixed(2),
    Number.isNaN(r.rssMiB) ? "" : String(r.rssMiB),
    r.rssBudget === undefined ? "" : fmtBudget(r.rssMiB, r.rssBudget, " MiB"),
    r.load,
  ]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

async function main(): Promise<void> {
  if (hasFlock && !process.env[LOCK_HELD]) {
    // Wait for the lock once and keep it for every measurement, so no other heavy job runs in between.
    process.stderr.write(`bench: waiting for ${LOCK} …\n`);
    const child = spawn("flock", [LOCK, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: { ...process.env, [LOCK_HELD]: "1" },
    });
    const code = await new Promise<number>((res) => child.on("exit", (c) => res(c ?? 1)));
    process.exit(code);
  }
  const only = arg("only");
  const sizes = (arg("nodes") ?? "100,1000").split(",").map(Number);
  const previewNodes = (arg("preview-nodes") ?? String(Math.max(...sizes))).split(",").map(Number);
  const big = Math.max(...sizes);
  const small = Math.min(...sizes);
  process.stderr.write(`bench: ${cpus().length} CPUs, load ${load()}${hasFlock ? `, holding flock ${LOCK}` : ", no flock: unlocked"}\n`);
  // The tools and the program compiled ahead of time, before any clock starts (a changed source is type-checked here).
  const build = await locked("node", ["-e", `require("./tools/build/program.cjs").compiledEntry(process.cwd())`]);
  if (build.code !== 0) throw new Error(build.stderr);
  const ratios: string[] = [];
  if (only !== "preview") {
    for (const stack of ["home", "k8s"]) {
      const r = await measureRender(stack, ["--stack", stack]);
      rows.push({ ...r, ...(stack === "home" ? { timeBudget: BUDGET.homeSeconds } : {}) });
    }
    for (const target of ["hosts", "k8s"] as const) {
      const by: Record<number, Row> = {};
      for (const n of sizes) {
        const r = await measureRender(`${target} ${n}`, ["--target", target, "--nodes", String(n)]);
        by[n] = { ...r, ...(n === big && big >= 1000 ? { timeBudget: BUDGET.bigSeconds, rssBudget: BUDGET.bigMiB } : {}) };
        rows.push(by[n]);
      }
      if (sizes.length > 1) {
        const ratio = by[big].seconds / by[small].seconds;
        ratios.push(`render ${target}: t(${big})/t(${small}) = ${ratio.toFixed(2)} ${ratio <= BUDGET.ratio ? "ok" : "OVER"} (≤ ${BUDGET.ratio})`);
      }
    }
  }
  if (only !== "render") {
    const by: Record<number, Row> = {};
    for (const n of previewNodes) {
      const r = await measurePreview(n);
      by[n] = { ...r, ...(n >= 1000 ? { timeBudget: BUDGET.bigSeconds } : {}) };
      rows.push(by[n]);
      // The CLI-run row was pushed by measurePreview before: keep evaluation first.
      rows.splice(rows.length - 2, 2, by[n], rows[rows.length - 2]);
    }
    if (previewNodes.length > 1) {
      const [a, b] = [Math.min(...previewNodes), Math.max(...previewNodes)];
      const ratio = by[b].seconds / by[a].seconds;
      ratios.push(`preview evaluation: t(${b})/t(${a}) = ${ratio.toFixed(2)} ${ratio <= BUDGET.ratio ? "ok" : "OVER"} (≤ ${BUDGET.ratio})`);
    }
  }
  process.stdout.write(`${table()}\n`);
  for (const r of ratios) process.stdout.write(`${r}\n`);
  process.stdout.write(`machine: ${cpus().length} CPUs, node ${process.version}; os.loadavg() at the end: ${load()}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
