/**
 * From raw Pulumi config to the validated, resolved stack model (./resolve: every default applied once).
 * `parseStackConfig` is pure and throws one ConfigError listing every problem;
 * `loadStackConfig` reads the running program's config. Both run before any resource exists.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, NAMESPACE, problemsFromZod } from "./errors";
import { SECRET_KEYS, stackConfigSchema } from "./schema";
import type { SecretKey } from "./schema";
import { resolveStack } from "./resolve";
import type { StackModel } from "./resolve";
import { crossCheck } from "./validate";
import { TLS_PRIVATE_KEYS_SECRET, tlsSubjects } from "./tls";
import { loadGivenTls } from "./tlsFiles";
import type { TlsMaterial } from "./tlsFiles";

/** Validate raw config values (keys without the namespace), then resolve every default into the model (./resolve). */
export function parseStackConfig(raw: Record<string, unknown>, stack: string): StackModel {
  const plain = Object.fromEntries(Object.entries(raw).filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k)));
  const parsed = stackConfigSchema.safeParse(plain, { reportInput: true });
  if (!parsed.success) throw new ConfigError(problemsFromZod(stackConfigSchema, plain, parsed.error.issues));
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return resolveStack({ ...parsed.data, stack, environment: parsed.data.environment ?? stack });
}

/** Raw values of the `tracestack:` namespace from the running program's config (objects as parsed JSON). */
export function rawConfigFromRuntime(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    const [ns, key] = fullKey.split(":", 2);
    // Project defaults of "" (Pulumi.yaml) mean "not set".
    if (ns !== NAMESPACE || key === undefined || value === "") continue;
    out[key] = /^\s*[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return out;
}

/** Secrets from config, kept as secret Outputs. */
export type StackSecrets = Partial<Record<SecretKey, pulumi.Output<string>>>;

/** Whether the engine handed `key` over as a secret (`pulumi config set --secret`). */
function isConfigSecret(fullKey: string): boolean {
  // Exported by @pulumi/pulumi's runtime (runtime/config.js) but not declared in its typings.
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret?.(fullKey) ?? false;
}

export function loadStackConfig(): { model: StackModel; secrets: StackSecrets; givenTls?: TlsMaterial } {
  const model = parseStackConfig(rawConfigFromRuntime(), pulumi.getStack());
  const cfg = new pulumi.Config(NAMESPACE);
  const secrets: StackSecrets = {};
  const all = pulumi.runtime.allConfig();
  const plaintext: string[] = [];
  for (const k of SECRET_KEYS) {
    // The secret keys are not declared in Pulumi.yaml (see there): unset means absent or "".
    if ((all[`${NAMESPACE}:${k}`] ?? "") === "") continue;
    if (!isConfigSecret(`${NAMESPACE}:${k}`)) plaintext.push(k);
    secrets[k] = cfg.requireSecret(k);
  }
  // A secret is never printed; a control character in one (a pasted newline) would end a line of
  // the bootstrap's curl config or a password file early, so it is refused by name only.
  for (const k of ["elasticsearchPassword"] as const) {
    const v = all[`${NAMESPACE}:${k}`] ?? "";
    if (/[\u0000-\u001f\u007f]/.test(v)) {
      throw new ConfigError([
        { path: [k], message: "holds a control character (a newline, a tab…); allowed: printable characters only (the value is not shown: it is secret)" },
      ]);
    }
  }
  if (plaintext.length > 0) {
    throw new ConfigError(
      plaintext.map((k) => ({
        path: [k],
        message: `is stored in plaintext in the stack file; allowed: an encrypted value only. Remove it, then set it with: pulumi config set --secret ${k} <value>`,
      })),
    );
  }
  requireSecrets(model, secrets);
  const givenTls = loadTls(model, all[`${NAMESPACE}:${TLS_PRIVATE_KEYS_SECRET}`]);
  return { model, secrets, ...(givenTls ? { givenTls } : {}) };
}

/**
 * `tls.mode: given`: the certificates from `tls.dir` (relative to the project directory, where the
 * engine runs the program), checked before any resource exists. Keys stay plaintext only in
 * memory here; the TLS component makes them secret Outputs.
 */
export function loadTls(model: StackModel, secretKeysJson: string | undefined, projectDir = process.cwd(), now?: Date): TlsMaterial | undefined {
  if (model.tls.mode !== "given") {
    if ((secretKeysJson ?? "") !== "") {
      throw new ConfigError([
        {
          path: [TLS_PRIVATE_KEYS_SECRET],
          message: `is set but tracestack:tls.mode is ${JSON.stringify(model.tls.mode)}; allowed: only with tls.mode "given" (remove it with: pulumi config rm ${TLS_PRIVATE_KEYS_SECRET})`,
        },
      ]);
    }
    return undefined;
  }
  const r = loadGivenTls(model.tls, tlsSubjects(model), { projectDir, secretKeysJson, now });
  if (r.problems.length > 0 || !r.material) throw new ConfigError(r.problems);
  return r.material;
}

/** Secrets the model needs, checked up front with the command that sets them. */
export function requireSecrets(model: StackModel, secrets: StackSecrets): void {
  if (model.elasticsearch.mode === "existing" && !secrets.elasticsearchPassword) {
    throw new ConfigError([
      {
        path: ["elasticsearchPassword"],
        message: `is required when tracestack:elasticsearch.mode is "existing"; set it with: pulumi config set --secret elasticsearchPassword <password>`,
      },
    ]);
  }
}
