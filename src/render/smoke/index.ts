/**
 * The deploy smoke test: a marked synthetic trace sent through a node's collector agent
 * (OTLP/HTTP JSON), then looked up in Jaeger's query API until it is stored or the time is up.
 * Pure: the marker both sides agree on (the gateway's tail-sampling policy that always keeps it,
 * and the span the script sends), and the script. The component is src/components/smoke.
 */
import { shellQuote } from "../scripts/shell";

/** A span attribute that marks a trace; the gateway keeps every trace carrying it. */
export interface TraceMarker {
  /** Span attribute key (no `$`: it is a collector config value as well). */
  key: string;
  /** Its string value. */
  value: string;
}

/** The smoke test's trace: its marker, the service and span names it shows under in Jaeger. */
export const SMOKE_TEST_TRACE = {
  marker: { key: "tracestack.smoke_test", value: "true" } satisfies TraceMarker,
  serviceName: "tracestack-smoke-test",
  spanName: "tracestack smoke test",
} as const;

/** The tail-sampling policy name that keeps a marked trace. */
export const SMOKE_TEST_POLICY = "smoke-test";

/** The tail_sampling policy (string_attribute) that always keeps a trace carrying `marker`. */
export function markerPolicy(marker: TraceMarker): Record<string, unknown> {
  return { name: SMOKE_TEST_POLICY, type: "string_attribute", string_attribute: { key: marker.key, values: [marker.value] } };
}

/** The script's file name in the job's directory. */
export const SMOKE_TEST_SCRIPT = "smoke-test.sh";

/** What the script prints first on success (the stack output starts with it). */
export const SMOKE_TEST_PASSED = "smoke test passed";
/** What a failure prints in warn-only mode (on stdout; the run itself succeeds). */
export const SMOKE_TEST_WARNED = "smoke test failed (warn only)";

/**
 * The arguments of the script, in order: where the trace goes, where it is looked up, how long
 * to wait, what a failure does, and the digest of the pipeline it checks (printed with the result;
 * a changed digest re-runs the test).
 */
export interface SmokeTestArgs {
  /** The agent's OTLP/HTTP traces endpoint, `http://<host>:<port>/v1/traces`. */
  tracesUrl: string;
  /** Jaeger's query base URL, `http://<host>:<port>` (its `/api/v3/traces/<id>` is polled). */
  queryUrl: string;
  timeoutSeconds: number;
  onFailure: "fail" | "warn";
  pipelineDigest: string;
}

export function smokeTestArgv(a: SmokeTestArgs): string[] {
  return [a.tracesUrl, a.queryUrl, String(a.timeoutSeconds), a.onFailure, a.pipelineDigest];
}

/**
 * The script (bash; curl, od and date are all it needs — the Elasticsearch image of the bootstrap
 * Job and every supported host have them). Trace and span IDs come from /dev/urandom, with a
 * non-zero first digit (Jaeger's Elasticsearch reader then looks the ID up by one term). The span
 * carries the marker, so the gateway's tail sampling keeps it; the lookup is Jaeger's API v3
 * `GET /api/v3/traces/<id>` (404 until the trace is stored, then OTLP JSON with the hex trace ID).
 * Every curl is bounded by `--max-time`.
 */
export function renderSmokeTestScript(): string {
  const t = SMOKE_TEST_TRACE;
  // Constants, not config: JSON-encoded for the payload, then single-quoted for the shell.
  const resource = JSON.stringify([{ key: "service.name", value: { stringValue: t.serviceName } }]);
  const attributes = JSON.stringify([{ key: t.marker.key, value: { stringValue: t.marker.value } }]);
  return [
    "#!/usr/bin/env bash",
    "# tracestack deploy smoke test — rendered by tracestack; runs after every deploy that changes the pipeline.",
    "# usage: smoke-test.sh TRACES_URL QUERY_URL TIMEOUT_SECONDS fail|warn PIPELINE_DIGEST",
    "set -euo pipefail",
    'traces_url="$1"',
    'query_url="$2"',
    'timeout="$3"',
    'on_failure="$4"',
    'pipeline="$5"',
    "fail() {",
    '  if [ "$on_failure" = warn ]; then',
    `    echo ${shellQuote(`${SMOKE_TEST_WARNED}:`)} "$*"`,
    "    exit 0",
    "  fi",
    '  echo "tracestack: smoke test failed: $*" >&2',
    "  exit 1",
    "}",
    "hex() { od -An -N\"$1\" -tx1 /dev/urandom | tr -d ' \\n'; }",
    'nonzero() { case "$1" in 0*) printf \'1%s\' "${1#?}" ;; *) printf \'%s\' "$1" ;; esac; }',
    'trace_id="$(nonzero "$(hex 16)")"',
    'span_id="$(nonzero "$(hex 8)")"',
    'started="$(date +%s)"',
    `resource=${shellQuote(resource)}`,
    `attributes=${shellQuote(attributes)}`,
    `span_name=${shellQuote(JSON.stringify(t.spanName))}`,
    'body="$(printf \'{"resourceSpans":[{"resource":{"attributes":%s},"scopeSpans":[{"scope":{"name":"tracestack"},"spans":[{"traceId":"%s","spanId":"%s","name":%s,"kind":1,"startTimeUnixNano":"%s000000000","endTimeUnixNano":"%s001000000","attributes":%s}]}]}]}\' "$resource" "$trace_id" "$span_id" "$span_name" "$started" "$started" "$attributes")"',
    'out="$(mktemp)"',
    "trap 'rm -f \"$out\"' EXIT",
    'sent="$(curl -sS --max-time 10 -o "$out" -w \'%{http_code}\' -X POST -H \'Content-Type: application/json\' --data-binary "$body" "$traces_url" 2>&1)" || fail "could not send the trace to $traces_url: $sent"',
    '[ "$sent" = 200 ] || fail "the agent at $traces_url answered HTTP $sent: $(head -c 300 "$out")"',
    "deadline=$((started + timeout))",
    "code=none",
    "while :; do",
    '  code="$(curl -sS --max-time 10 -o "$out" -w \'%{http_code}\' "$query_url/api/v3/traces/$trace_id" 2>/dev/null)" || code="unreachable (curl exit $?)"',
    '  if [ "$code" = 200 ] && grep -q "$trace_id" "$out"; then',
    `    echo "${SMOKE_TEST_PASSED}: trace $trace_id stored in $(($(date +%s) - started))s (pipeline $pipeline)"`,
    "    exit 0",
    "  fi",
    '  if [ "$(date +%s)" -ge "$deadline" ]; then',
    '    fail "trace $trace_id (service ' +
      t.serviceName +
      ') was not stored within ${timeout}s: $query_url/api/v3/traces/$trace_id answered $code (pipeline $pipeline)"',
    "  fi",
    "  sleep 2",
    "done",
    "",
  ].join("\n");
}
