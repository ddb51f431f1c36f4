/**
 * The offline render's engine: stack config from the stack file (with the project's
 * defaults, as the CLI merges them), Pulumi's mock runtime, the real program, and every
 * resource and artifact it declares — resolved, with secrets as "[secret]".
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
// The mock monitor the SDK sends registrations to (internal module of the pinned 3.276.0).
import { getMonitor } from "@pulumi/pulumi/runtime/settings";
import YAML from "yaml";
import type { Artifact } from "../src/artifacts/registry";
import { recordedArtifacts } from "../src/artifacts/registry";
import { PROBE_OFFLINE } from "../src/render/scripts/host";
import { toJson, toYaml } from "../src/render/yaml";
import { SECRET_KEYS } from "../src/config/schema";

/** The project directory (the one holding Pulumi.yaml) of a file in it: from the sources or their build (.build/<hash>/…). */
export function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "Pulumi.yaml"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no Pulumi.yaml in ${from} or above`);
  }
}

export const SECRET = "[secret]";
export const UNKNOWN = "[unknown]";

export interface PlanEntry {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  custom: boolean;
  /**
   * The resources this one waits for, as the engine is told (the registration's `dependencies`:
   * `dependsOn`, components expanded to their resources, and every resource an input's Output came from).
   */
  dependencies?: string[];
  inputs: Record<string, unknown>;
}

export interface RenderOptions {
  projectDir: string;
  stack: string;
  /** Raw `tracestack:` values (without namespace) replacing the stack file's. */
  config?: Record<string, unknown>;
  /** A stack file to read instead of Pulumi.<stack>.yaml. */
  stackFile?: string;
  /** Loads the program (src/index.ts); the CLI requires it, tests import it. */
  importProgram: () => Promise<unknown>;
  /**
   * Answers the hosts' drift probes (`command:local:run`, README "Drift") from the probe's command
   * line. @default no host to ask: every probe answers `tracestack-probe offline` (everything in sync)
   */
  probe?: (command: string) => string;
  /** The stack outputs of the last deployment, as the engine reads them for the stack itself. @default none (never deployed) */
  lastOutputs?: Record<string, unknown>;
}

export interface RenderResult {
  /** Output-relative path → content, including plan.json, manifest.json and outputs.json. */
  files: Record<string, string>;
  plan: PlanEntry[];
  manifest: { stack: string; artifacts: { kind: string; component: string; target: string; path: string }[] };
  outputs: Record<string, unknown>;
  resourceCount: number;
  /**
   * Resource URN → the URN of the explicit provider it was registered with (e.g. a host's Docker
   * provider), for the topology diagram (tools/docs). In memory only: not part of plan.json, so
   * the written render is unchanged; absent on a render read back from its files.
   */
  providers?: Record<string, string>;
}

interface StackFile {
  config?: Record<string, unknown>;
}

/**
 * Stack config as the CLI hands it to the program: project defaults, then the stack file, with
 * the CLI's own checks (pulumi/pulumi pkg/workspace/config.go, ValidateStackConfigAndApplyProjectConfig):
 * a declared key without a default must be set, and a `secret: true` key must be encrypted.
 * An `override` stands for values set with `pulumi config set`, the secret keys of the program
 * (SECRET_KEYS) with `--secret`. The integration suite runs the real CLI's validation too.
 */
export function stackConfig(projectDir: string, stack: string, override?: Record<string, unknown>, stackFile?: string) {
  const project = YAML.parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config?: Record<string, { default?: unknown; secret?: boolean }>;
  };
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const full = (key: string) => (key.includes(":") ? key : `${project.name}:${key}`);
  const set = (key: string, value: unknown, secret = false) => {
    if (value && typeof value === "object" && "secure" in (value as object)) {
      // Ciphertext can't be decrypted offline: a fixed stand-in, marked secret.
      values[full(key)] = `offline-secret-${full(key).replace(/[^a-z0-9]+/gi, "-")}`;
      secretKeys.push(full(key));
    } else {
      values[full(key)] = typeof value === "string" ? value : JSON.stringify(value);
      if (secret) secretKeys.push(full(key));
    }
  };
  let stackValues: Record<string, unknown>;
  const secretOverrides = new Set<string>();
  if (override) {
    stackValues = Object.fromEntries(Object.entries(override).map(([k, v]) => [full(k), v]));
    for (const k of SECRET_KEYS) if (k in override) secretOverrides.add(full(k));
  } else {
    const file = YAML.parse(readFileSync(stackFile ?? join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as StackFile;
    stackValues = file.config ?? {};
  }
  const problems: string[] = [];
  for (const [k, decl] of Object.entries(project.config ?? {})) {
    const has = full(k) in stackValues;
    const secure = has && (secretOverrides.has(full(k)) || isSecure(stackValues[full(k)]));
    if (!has && !(decl && "default" in decl)) problems.push(`Stack '${stack}' is missing configuration value '${full(k)}'`);
    else if (decl?.secret && !secure) problems.push(`Stack '${stack}' with configuration key '${full(k)}' must be encrypted as it's secret`);
    if (!has && decl && "default" in decl) set(k, decl.default);
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  for (const [k, v] of Object.entries(stackValues)) set(k, v, secretOverrides.has(full(k)));
  return { project: project.name, values, secretKeys };
}

function isSecure(v: unknown): boolean {
  return v !== null && typeof v === "object" && "secure" in v;
}

function deterministicState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: `offline-password-${name}`, bcryptHash: "offline-bcrypt" };
    case "tls:index/privateKey:PrivateKey":
      return { ...inputs, privateKeyPem: `offline-private-key-${name}`, publicKeyPem: `offline-public-key-${name}` };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { ...inputs, certPem: `offline-certificate-${name}` };
    case "tls:index/certRequest:CertRequest":
      return { ...inputs, certRequestPem: `offline-csr-${name}` };
    case "command:remote:Command":
      return { ...inputs, stdout: `offline-stdout-${name}`, stderr: "" };
    case "docker:index/remoteImage:RemoteImage":
      return { ...inputs, imageId: `${String(inputs.name)}@sha256:offline`, repoDigest: `${String(inputs.name)}@sha256:offline` };
    default:
      return inputs;
  }
}

/** Resolve Outputs, promises and assets deeply; a secret anywhere becomes "[secret]" right there. */
export async function resolveDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const o = value as unknown as { promise(): Promise<unknown>; isSecret: Promise<boolean>; isKnown: Promise<boolean> };
    if (await o.isSecret) return SECRET;
    if (!(await o.isKnown)) return UNKNOWN;
    return resolveDeep(await o.promise());
  }
  if (value instanceof Promise) return resolveDeep(await value);
  if (pulumi.Resource.isInstance(value)) return resolveDeep(value.urn);
  const v: unknown = value;
  if (pulumi.asset.Asset.isInstance(v)) {
    const a = v as unknown as { text?: Promise<string>; path?: Promise<string> };
    return { asset: (await a.text) ?? (await a.path) };
  }
  if (Array.isArray(v)) return Promise.all((v as unknown[]).map(resolveDeep));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = await resolveDeep(v);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

interface Recorded {
  type: string;
  name: string;
  custom: boolean;
  resource: pulumi.Resource;
  parent?: pulumi.Resource;
  provider?: pulumi.ProviderResource;
  props: Record<string, unknown>;
}

/** Files under files/<target>/<path>; absolute host paths lose their leading slash. */
export function artifactPath(a: Pick<Artifact, "target" | "path">): string {
  return `files/${a.target}/${a.path.replace(/^\/+/, "")}`;
}

export async function renderStack(opts: RenderOptions): Promise<RenderResult> {
  const { project, values, secretKeys } = stackConfig(opts.projectDir, opts.stack, opts.config, opts.stackFile);
  pulumi.runtime.setAllConfig(values, secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: deterministicState(args.type, args.name, args.inputs) }),
      call: (args) => {
        // The drift probe is an invoke: offline there is no host to ask, so it reports nothing to repair.
        if (args.token === "command:local:run") {
          const cmd = String((args.inputs as { command?: unknown }).command ?? "");
          return { command: cmd, stdout: opts.probe ? opts.probe(cmd) : PROBE_OFFLINE, stderr: "", assets: {} };
        }
        // The last deployment's outputs, as the engine's builtin reads them for the stack itself.
        if (args.token === "pulumi:pulumi:readStackResourceOutputs") {
          const stackName = (args.inputs as { stackName?: string }).stackName;
          if (stackName !== `organization/${project}/${opts.stack}`)
            throw new Error(`offline render: no stack ${String(stackName)} (this is organization/${project}/${opts.stack})`);
          const urn = `urn:pulumi:${opts.stack}::${project}::pulumi:pulumi:Stack::${project}-${opts.stack}`;
          return { name: stackName, outputs: opts.lastOutputs ? { [urn]: { type: "pulumi:pulumi:Stack", outputs: opts.lastOutputs } } : {} };
        }
        throw new Error(`offline render: no mock for the call ${args.token}`);
      },
    },
    project,
    opts.stack,
    false,
    // The DIY backend's organization (`pulumi login file://…`): the stack's reference to itself names it.
    "organization",
  );

  // What each registration tells the engine it depends on, by the URN the monitor answered with.
  const dependencies = new Map<string, string[]>();
  type Registration = { getDependenciesList(): string[] };
  type Answer = { getUrn(): string } | undefined;
  const monitor = getMonitor() as unknown as { registerResource(req: Registration, cb: (err: unknown, res: Answer) => void): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, res) => {
      if (!err && res) dependencies.set(res.getUrn(), [...new Set(req.getDependenciesList())].sort());
      cb(err, res);
    });

  const recorded: Recorded[] = [];
  const before = recordedArtifacts().length;
  // The program's exports as it returned them: the stack's own resolved outputs flatten every
  // nested Output into one, losing which value is secret; resolving these keeps a secret "[secret]".
  let exported: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      recorded.push({
        type: args.type,
        name: args.name,
        custom: pulumi.CustomResource.isInstance(args.resource),
        resource: args.resource,
        parent: args.opts.parent,
        provider: args.opts.provider,
        props: args.props as Record<string, unknown>,
      });
      return undefined;
    });
    const mod = (await opts.importProgram()) as Record<string, unknown>;
    exported = Object.fromEntries(Object.entries(mod).filter(([k]) => k !== "default" && k !== "__esModule"));
    return exported;
  });
  const outputs = (await resolveDeep(exported)) as Record<string, unknown>;

  const plan: PlanEntry[] = [];
  // The engine parents top-level resources to the stack.
  const stackResource = pulumi.runtime.getStackResource();
  const stackUrn = stackResource ? ((await resolveDeep(stackResource.urn)) as string) : undefined;
  if (stackUrn) plan.push({ urn: stackUrn, type: "pulumi:pulumi:Stack", name: `${project}-${opts.stack}`, custom: false, inputs: {} });
  const providers: Record<string, string> = {};
  for (const r of recorded) {
    const urn = (await resolveDeep(r.resource.urn)) as string;
    if (r.provider) providers[urn] = (await resolveDeep(r.provider.urn)) as string;
    const parent = r.parent ? ((await resolveDeep(r.parent.urn)) as string) : stackUrn;
    const deps = dependencies.get(urn) ?? [];
    plan.push({
      urn,
      type: r.type,
      name: r.name,
      ...(parent ? { parent } : {}),
      custom: r.custom,
      ...(deps.length > 0 ? { dependencies: deps } : {}),
      inputs: (await resolveDeep(r.props)) as Record<string, unknown>,
    });
  }
  plan.sort((a, b) => a.urn.localeCompare(b.urn));

  const files: Record<string, string> = {};
  const manifestEntries: RenderResult["manifest"]["artifacts"] = [];
  for (const a of recordedArtifacts().slice(before)) {
    const path = artifactPath(a);
    if (files[path] !== undefined) throw new Error(`two artifacts at ${path}`);
    let content: string;
    if (a.manifest !== undefined) content = toYaml(await resolveDeep(a.manifest));
    else {
      const c = await resolveDeep(a.content);
      content = c === SECRET ? `${SECRET}\n` : String(c);
    }
    files[path] = content;
    manifestEntries.push({ kind: a.kind, component: a.component, target: a.target, path });
  }
  manifestEntries.sort((x, y) => x.path.localeCompare(y.path));
  const manifest = { stack: opts.stack, artifacts: manifestEntries };
  files["plan.json"] = toJson(plan);
  files["manifest.json"] = toJson(manifest);
  files["outputs.json"] = toJson(outputs);
  return { files, plan, manifest, outputs, resourceCount: plan.length, providers };
}
