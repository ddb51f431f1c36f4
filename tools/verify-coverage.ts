/**
 * Checks that every instrumented service shows up in Jaeger: GETs `<jaeger>/api/services`
 * and reports the expected services it does not list. Exit 0 when all are there, 1 when any
 * is missing, 2 on a usage or connection error.
 *
 * Usage:
 *   npm run verify:coverage -- --jaeger http://danarch.lan:16686 [--services a,b]
 *   pulumi stack output expectedServices --json | npm run verify:coverage -- --jaeger <url>
 */
import { readFileSync } from "node:fs";

export interface CoverageReport {
  expected: string[];
  listed: string[];
  missing: string[];
}

export interface CoverageArgs {
  jaeger: string;
  services?: string[];
}

export function parseArgs(argv: readonly string[]): CoverageArgs {
  let jaeger: string | undefined;
  let services: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (flag: string): string => {
      const v = a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : argv[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      return v;
    };
    if (a === "--jaeger" || a.startsWith("--jaeger=")) jaeger = value("--jaeger");
    else if (a === "--services" || a.startsWith("--services=")) services = splitList(value("--services"));
    else throw new Error(`unknown argument ${JSON.stringify(a)}; usage: verify-coverage --jaeger <url> [--services a,b]`);
  }
  if (!jaeger) throw new Error("--jaeger <url> is required, e.g. --jaeger http://danarch.lan:16686");
  if (!/^https?:\/\//.test(jaeger)) throw new Error(`--jaeger ${JSON.stringify(jaeger)} is not an http(s) URL`);
  return { jaeger, ...(services ? { services } : {}) };
}

function splitList(s: string): string[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

/** `pulumi stack output expectedServices --json` (a JSON array), or a comma/newline list. */
export function parseServiceList(text: string): string[] {
  const t = text.trim();
  if (t === "") return [];
  if (t.startsWith("[")) {
    const v: unknown = JSON.parse(t);
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new Error("expected a JSON array of service names");
    return v;
  }
  return splitList(t.replace(/\s+/g, ","));
}

/** The services Jaeger lists (`{"data": [...]}` from the HTTP query API). */
export async function jaegerServices(jaeger: string): Promise<string[]> {
  const url = `${jaeger.replace(/\/+$/, "")}/api/services`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const body = (await res.json()) as { data?: unknown };
  if (!Array.isArray(body.data)) throw new Error(`GET ${url}: no "data" list in the response`);
  return (body.data as unknown[]).filter((x): x is string => typeof x === "string");
}

export function coverage(expected: readonly string[], listed: readonly string[]): CoverageReport {
  const have = new Set(listed);
  const exp = [...new Set(expected)].sort();
  return { expected: exp, listed: [...listed].sort(), missing: exp.filter((s) => !have.has(s)) };
}

export function formatReport(r: CoverageReport, jaeger: string): string {
  const lines = r.expected.map((s) => `  ${r.missing.includes(s) ? "MISSING" : "ok     "} ${s}`);
  const head =
    r.missing.length === 0
      ? `all ${r.expected.length} expected services are listed by ${jaeger}`
      : `${r.missing.length} of ${r.expected.length} expected services are not listed by ${jaeger}: ${r.missing.join(", ")}`;
  return `${head}\n${lines.join("\n")}\n`;
}

/** Runs the check; returns the exit code. */
export async function main(argv: readonly string[], stdin: () => string, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let args: CoverageArgs;
  let expected: string[];
  try {
    args = parseArgs(argv);
    expected = args.services ?? parseServiceList(stdin());
  } catch (e) {
    err(`verify-coverage: ${(e as Error).message}\n`);
    return 2;
  }
  if (expected.length === 0) {
    err("verify-coverage: no expected services: pass --services a,b or pipe `pulumi stack output expectedServices --json`\n");
    return 2;
  }
  let listed: string[];
  try {
    listed = await jaegerServices(args.jaeger);
  } catch (e) {
    err(`verify-coverage: ${(e as Error).message}\n`);
    return 2;
  }
  const report = coverage(expected, listed);
  out(formatReport(report, args.jaeger));
  return report.missing.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main(
    process.argv.slice(2),
    () => (process.stdin.isTTY ? "" : readFileSync(0, "utf8")),
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
  ).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`verify-coverage: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
