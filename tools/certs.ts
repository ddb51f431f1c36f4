/**
 * Certificates for `tracestack:tls.mode: given` (README "TLS"): a CA and one certificate per TLS
 * server of the stack, for the names its clients dial, written with the system openssl.
 *
 * Usage: npm run certs -- --stack home [--out certs/home] [--days 365] [--rotate-ca] [--stack-file f.yaml]
 *        npm run -s certs -- --stack home --keys-json | npm run -s pulumi -- config set --secret tlsPrivateKeys
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import YAML from "yaml";
import { parseStackConfig } from "../src/config/load";
import { tlsServers, tlsSubjects } from "../src/config/tls";
import { issueCertificates, keysJson } from "./certs-lib";

function main(): void {
  const argv = process.argv.slice(2);
  const opt: { stack?: string; out?: string; days?: number; rotateCa: boolean; keysJson: boolean; stackFile?: string } = { rotateCa: false, keysJson: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--stack") opt.stack = argv[++i];
    else if (a === "--out") opt.out = argv[++i];
    else if (a === "--days") opt.days = Number(argv[++i]);
    else if (a === "--rotate-ca") opt.rotateCa = true;
    else if (a === "--keys-json") opt.keysJson = true;
    else if (a === "--stack-file") opt.stackFile = argv[++i];
    else throw new Error(`unknown argument ${JSON.stringify(a)}; usage: npm run certs -- --stack <name> [--out <dir>] [--days N] [--rotate-ca] [--keys-json]`);
  }
  if (!opt.stack) throw new Error("--stack <name> is required (a Pulumi.<name>.yaml beside Pulumi.yaml)");
  if (opt.days !== undefined && !(Number.isInteger(opt.days) && opt.days >= 1 && opt.days <= 3650))
    throw new Error("--days: allowed: a whole number of days from 1 to 3650");
  const projectDir = resolve(__dirname, "..");
  const file = YAML.parse(readFileSync(opt.stackFile ? resolve(opt.stackFile) : join(projectDir, `Pulumi.${opt.stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  const raw = Object.fromEntries(
    Object.entries(file.config ?? {})
      .filter(([k, v]) => k.startsWith("tracestack:") && !(v && typeof v === "object" && "secure" in v))
      .map(([k, v]) => [k.slice("tracestack:".length), v]),
  );
  const model = parseStackConfig(raw, opt.stack);
  const dir = resolve(projectDir, opt.out ?? (model.tls.mode === "given" ? model.tls.dir : join("certs", opt.stack)));
  if (opt.keysJson) {
    process.stdout.write(keysJson(dir, tlsServers(model)));
    return;
  }
  const { written } = issueCertificates({ dir, subjects: tlsSubjects(model), days: opt.days, rotateCa: opt.rotateCa });
  for (const w of written) process.stdout.write(`wrote ${w}\n`);
  process.stdout.write(`Keep ca.key offline. Stack file: tracestack:tls: {mode: given, dir: ${JSON.stringify(opt.out ?? dir)}}\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
