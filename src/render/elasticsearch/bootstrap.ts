/**
 * The ILM bootstrap: the lifecycle policy, then what `jaeger-es-rollover init` does —
 * index templates with the lifecycle name and rollover alias, the `-000001` indices, and
 * the read and write aliases (`is_write_index: true`). Rendered as JSON bodies plus one
 * idempotent script that both targets run (a remote command on hosts, a Job on Kubernetes).
 *
 * Re-runs change nothing: the policy and templates are PUT (updated in place when changed),
 * an index is created only while its write alias does not exist yet.
 */
import type { LifecycleConfig } from "../../config/schema";
import { shellQuote } from "../scripts/shell";
import { toJson } from "../yaml";
import { ilmPolicyBody } from "./ilm";
import type { JaegerIndexType } from "./names";
import { JAEGER_INDEX_TYPES, aliasNames, indexBase, initialIndexName } from "./names";
import { indexTemplateBody } from "./templates";

export interface BootstrapInput {
  prefix: string;
  lifecycle: LifecycleConfig;
  indices: Record<JaegerIndexType, { shards: number; replicas: number }>;
}

export interface BootstrapFile {
  /** File name inside the bootstrap directory. */
  name: string;
  kind: "ilm-policy" | "index-template" | "script";
  content: string;
}

export const BOOTSTRAP_SCRIPT = "bootstrap.sh";

function initialIndexBody(prefix: string, type: JaegerIndexType): Record<string, unknown> {
  const { read, write } = aliasNames(prefix, type);
  return { aliases: { [read]: {}, [write]: { is_write_index: true } } };
}

function script(input: BootstrapInput): string {
  const policy = input.lifecycle.policyName;
  const lines = [
    "#!/usr/bin/env bash",
    "# ILM bootstrap for Jaeger's Elasticsearch indices, rendered by tracestack.",
    "# Usage: bootstrap.sh <elasticsearch-url>   env: ES_USERNAME, ES_PASSWORD_FILE[, ES_CA_FILE]",
    "# Idempotent: PUTs the policy and templates, creates each -000001 index only while its write alias is missing.",
    "set -euo pipefail",
    "",
    'es_url="${1:?usage: bootstrap.sh <elasticsearch-url>}"',
    'es_url="${es_url%/}"',
    'dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    'auth="$(mktemp)"',
    "trap 'rm -f \"$auth\"' EXIT",
    'chmod 600 "$auth"',
    "# curl reads the credentials from a config file, so the password never shows in a process list or log.",
    'password="$(cat "${ES_PASSWORD_FILE:?ES_PASSWORD_FILE must name the file holding the password}")"',
    'password="${password//\\\\/\\\\\\\\}"',
    'password="${password//\\"/\\\\\\"}"',
    'printf \'user = "%s:%s"\\n\' "${ES_USERNAME:?ES_USERNAME is required}" "$password" > "$auth"',
    "unset password",
    "ca=()",
    'if [ -n "${ES_CA_FILE:-}" ]; then ca=(--cacert "$ES_CA_FILE"); fi',
    "",
    "# status METHOD PATH [BODY-FILE]: prints the HTTP status; the response body goes to $out.",
    'out="$(mktemp)"',
    'trap \'rm -f "$auth" "$out"\' EXIT',
    "status() {",
    '  local method="$1" path="$2" body="${3:-}"',
    // Every call is bounded. A HEAD is `--head`, never `-X HEAD`: Elasticsearch answers HEAD with the
    // GET body's Content-Length and no body and keeps the connection open, so curl would wait for a body forever.
    '  local args=(-sS --connect-timeout 10 --max-time 60 -o "$out" -w "%{http_code}" -K "$auth" "${ca[@]}" -H "Content-Type: application/json")',
    '  if [ "$method" = HEAD ]; then args+=(--head); else args+=(-X "$method"); fi',
    '  if [ -n "$body" ]; then args+=(--data-binary "@$dir/$body"); fi',
    '  curl "${args[@]}" "$es_url$path"',
    "}",
    "call() {",
    "  local code",
    '  code="$(status "$@")"',
    '  case "$code" in',
    "    2??) ;;",
    '    *) echo "tracestack bootstrap: $1 $2 failed with HTTP $code: $(head -c 2000 "$out")" >&2; exit 1 ;;',
    "  esac",
    "}",
    "",
    "# Wait for the cluster (up to about 5 minutes) before touching it.",
    "for attempt in $(seq 1 60); do",
    '  code="$(status GET "/_cluster/health?wait_for_status=yellow&timeout=5s" || true)"',
    '  if [ "$code" = 200 ]; then break; fi',
    '  if [ "$code" = 401 ]; then echo "tracestack bootstrap: Elasticsearch at $es_url rejected the credentials of $ES_USERNAME (HTTP 401)" >&2; exit 1; fi',
    '  if [ "$attempt" = 60 ]; then echo "tracestack bootstrap: Elasticsearch at $es_url is not reachable or not healthy (last HTTP status: $code)" >&2; exit 1; fi',
    "  sleep 5",
    "done",
    "",
    `call PUT ${shellQuote(`/_ilm/policy/${policy}`)} ilm-policy.json`,
  ];
  for (const type of JAEGER_INDEX_TYPES) {
    const base = indexBase(input.prefix, type);
    const { write } = aliasNames(input.prefix, type);
    lines.push(
      `call PUT ${shellQuote(`/_index_template/${base}`)} ${shellQuote(`index-template-${type}.json`)}`,
      `if [ "$(status HEAD ${shellQuote(`/_alias/${write}`)})" = 404 ]; then`,
      `  call PUT ${shellQuote(`/${initialIndexName(input.prefix, type)}`)} ${shellQuote(`initial-index-${type}.json`)}`,
      `  echo ${shellQuote(`created ${initialIndexName(input.prefix, type)} with aliases ${write} (write) and ${aliasNames(input.prefix, type).read}`)}`,
      "fi",
    );
  }
  lines.push('echo "tracestack bootstrap: lifecycle policy, templates and aliases are in place"', "");
  return lines.join("\n");
}

/** Every file of the bootstrap, in a fixed order. */
export function renderBootstrap(input: BootstrapInput): BootstrapFile[] {
  const files: BootstrapFile[] = [{ name: "ilm-policy.json", kind: "ilm-policy", content: toJson(ilmPolicyBody(input.lifecycle)) }];
  for (const type of JAEGER_INDEX_TYPES) {
    files.push({
      name: `index-template-${type}.json`,
      kind: "index-template",
      content: toJson(indexTemplateBody(type, { prefix: input.prefix, policyName: input.lifecycle.policyName, ...input.indices[type] })),
    });
    files.push({ name: `initial-index-${type}.json`, kind: "index-template", content: toJson(initialIndexBody(input.prefix, type)) });
  }
  files.push({ name: BOOTSTRAP_SCRIPT, kind: "script", content: script(input) });
  return files;
}
