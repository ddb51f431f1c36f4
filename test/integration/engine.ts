/**
 * The real Pulumi engine for the integration suite: the toolchain's CLI (`npm run toolchain`)
 * through `npm run pulumi` (tools/engine/pulumi.cjs), a DIY backend (`pulumi login file://…`)
 * and the passphrase secrets provider, in a project directory of its own: Pulumi.yaml copied,
 * the program (src/, tsconfig.json, package.json, node_modules) linked from this checkout,
 * so `pulumi stack init` writes its encryption salt there and not into the repository's stack files.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { exec, PROJECT_DIR, type Result } from "./guest";

export const CLI = join(PROJECT_DIR, ".toolchain/bin/pulumi");
/** What Pulumi.yaml's `main` (src/main.cjs) needs beside it: the sources, the build (tools/build), the tsconfigs, the dependencies. */
export const PROGRAM_FILES = ["src", "tools", "node_modules", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"];
const DRIVER = join(PROJECT_DIR, "tools/engine/pulumi.cjs");

/** Fails with how to build the toolchain when it is missing: never a silent skip. */
export function requireToolchain(): void {
  for (const bin of ["pulumi", "pulumi-resource-command"]) {
    const p = join(PROJECT_DIR, ".toolchain/bin", bin);
    if (!existsSync(p)) throw new Error(`${p} is missing: build the toolchain first with \`npm run toolchain\` (README "The toolchain")`);
  }
}

/** One engine step of `pulumi preview --json`. */
export interface Step {
  op: string;
  urn: string;
  diffReasons?: string[];
  detailedDiff?: Record<string, unknown>;
}

export interface Preview {
  steps: Step[];
  changeSummary: Record<string, number>;
  diagnostics?: { message: string; severity: string; urn?: string }[];
}

/** A resource of the engine's state (`pulumi stack export --show-secrets`). */
export interface StateResource {
  urn: string;
  type: string;
  parent?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

export const nameOf = (urn: string) => urn.split("::").pop()!;

/** The state's marker of a secret value (sdk/go/common/resource/sig). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A decrypted secret of an exported state is `{<sig>: <secret sig>, plaintext: <JSON>}`: its value. */
function unwrap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrap);
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  if (SECRET_SIG in o && typeof o.plaintext === "string") return unwrap(JSON.parse(o.plaintext));
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
}

export class Engine {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly transcript: string[] = [];

  constructor(
    root: string,
    readonly stack: string,
    extraEnv: NodeJS.ProcessEnv = {},
  ) {
    this.dir = join(root, "project");
    rmSync(root, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(join(root, "state"), { recursive: true });
    copyFileSync(join(PROJECT_DIR, "Pulumi.yaml"), join(this.dir, "Pulumi.yaml"));
    for (const f of PROGRAM_FILES) symlinkSync(join(PROJECT_DIR, f), join(this.dir, f));
    this.env = {
      ...process.env,
      PULUMI_HOME: join(root, "pulumi-home"),
      PULUMI_BACKEND_URL: `file://${join(root, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "tracestack-integration",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      NO_COLOR: "1",
      ...extraEnv,
    };
  }

  get stackFile(): string {
    return join(this.dir, `Pulumi.${this.stack}.yaml`);
  }

  /** `pulumi <args>` as a user types it (`npm run -s pulumi -- <args>`), transcript kept. */
  async pulumi(args: string[], input?: string, timeoutMs = 30 * 60_000): Promise<Result> {
    const t0 = Date.now();
    const r = await exec("node", [DRIVER, ...args, "--non-interactive"], {
      input,
      timeoutMs,
      env: this.env,
      cwd: this.dir,
    });
    // Decrypted secrets stay out of the transcript.
    const shown = args.includes("--show-secrets") ? `(output of --show-secrets withheld)\n${r.stderr}` : `${r.stdout}${r.stderr}`;
    this.transcript.push(`$ pulumi ${args.join(" ")}   # exit ${r.code}, ${((Date.now() - t0) / 1000).toFixed(1)}s\n${shown}`);
    return r;
  }

  async must(args: string[], input?: string): Promise<Result> {
    const r = await this.pulumi(args, input);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.code}):\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-4000)}`);
    return r;
  }

  /** `pulumi stack init` with the passphrase provider, then the stack's plain config. */
  async init(config: Record<string, unknown>): Promise<void> {
    await this.must(["stack", "init", this.stack, "--secrets-provider", "passphrase"]);
    this.setConfig(config);
  }

  /**
   * Replaces the stack file's plain `tracestack:` values (what a user edits in Pulumi.<stack>.yaml),
   * keeping the encryption salt and every `secure:` value the CLI wrote.
   */
  setConfig(config: Record<string, unknown>): void {
    const file = (YAML.parse(readFileSync(this.stackFile, "utf8")) ?? {}) as { encryptionsalt?: string; config?: Record<string, unknown> };
    const kept = Object.fromEntries(Object.entries(file.config ?? {}).filter(([, v]) => v !== null && typeof v === "object" && "secure" in v));
    const plain = Object.fromEntries(Object.entries(config).map(([k, v]) => [`tracestack:${k}`, v]));
    writeFileSync(this.stackFile, YAML.stringify({ ...file, config: { ...plain, ...kept } }));
  }

  /** `pulumi config set --secret <key>` with the value on stdin (the README's path for the SSH key). */
  async setSecret(key: string, value: string): Promise<void> {
    await this.must(["config", "set", "--secret", `tracestack:${key}`], value);
  }

  async preview(extra: string[] = []): Promise<{ result: Result; preview: Preview }> {
    const result = await this.pulumi(["preview", "--json", ...extra]);
    let preview: Preview;
    try {
      preview = JSON.parse(result.stdout) as Preview;
    } catch {
      throw new Error(`pulumi preview --json printed no JSON (exit ${result.code}):\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
    }
    return { result, preview };
  }

  /** The state with its secrets decrypted (`--show-secrets`) and unwrapped to plain values. */
  async state(): Promise<StateResource[]> {
    const r = await this.must(["stack", "export", "--show-secrets"]);
    const resources = (JSON.parse(r.stdout) as { deployment: { resources?: StateResource[] } }).deployment.resources ?? [];
    return resources.map((x) => ({ ...x, inputs: unwrap(x.inputs) as StateResource["inputs"], outputs: unwrap(x.outputs) as StateResource["outputs"] }));
  }

  async outputs(): Promise<Record<string, unknown>> {
    const r = await this.must(["stack", "output", "--json", "--show-secrets"]);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }
}

/** The resources a preview would change: every step but `same` (and reads, which change nothing). */
export function changed(p: Preview): { name: string; op: string }[] {
  return p.steps
    .filter((s) => s.op !== "same" && s.op !== "read" && !s.urn.endsWith("::pulumi:pulumi:Stack"))
    .map((s) => ({ name: nameOf(s.urn), op: s.op }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.op.localeCompare(b.op));
}
