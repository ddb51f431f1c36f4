/**
 * What the config accepts beyond its shape (README "Configuration", "Input safety"): patterns Go's
 * regexp compiles (checked with RE2 itself), version ranges with both bounds, values that must point
 * somewhere real, and messages that name the bad value and what is allowed.
 */
import RE2 from "re2";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { COLLECTOR_VERSIONS, DEFAULT_COLLECTOR_VERSION, parseStackConfig, re2Check } from "../src/config/index";
import { DEFAULT_GRAFANA_VERSION, DEFAULT_PROMETHEUS_VERSION, GRAFANA_VERSIONS, PROMETHEUS_VERSIONS } from "../src/config/grafana";
import { DCGM_VERSIONS, DEFAULT_DCGM_EXPORTER_IMAGE } from "../src/config/instrumentation";
import { DEFAULT_ELASTICSEARCH_VERSION, DEFAULT_JAEGER_VERSION, ELASTICSEARCH_VERSIONS, JAEGER_VERSIONS, inRange } from "../src/config/versions";
import type { VersionRange } from "../src/config/versions";
import { BLOCKED_KEY_PATTERNS, MASKED_VALUE_PATTERNS, VALUE_REWRITES, renderGatewayConfig } from "../src/render/collector/index";
import { gatewayRenderInput } from "../src/render/collector/fromConfig";
import { toYaml } from "../src/render/yaml";
import { problems } from "./helpers/config";
import { stackValues, withValue } from "./helpers/render";

const home = stackValues("home");
const k8s = stackValues("k8s");

const patternsAt = (patterns: string[]) => withValue(home, "collector.redaction.extraBlockedValuePatterns", patterns);

describe("RE2 for real: every pattern the collector compiles", () => {
  it.each([
    ["x{1001}", 'invalid repetition size "{1001}" (repeat counts are at most 1000, nested repeats multiplied) (at character 2)'],
    ["(a{10}){200}", 'invalid repetition size "{200}"'],
    ["[a-\\d]", 'invalid escape sequence "\\d" (a class such as \\d cannot end a range) (at character 4)'],
    ["\\p{Foo}", 'invalid character class range "\\p{Foo}" (unknown Unicode class) (at character 1)'],
    ["[[:foo:]]", 'invalid character class range "[:foo:]" (unknown POSIX class; RE2 knows alnum'],
    ["a(?=b)", 'lookahead "(?=" is not supported by RE2 (at character 2)'],
    ["a(?!b)", 'lookahead "(?!" is not supported by RE2 (at character 2)'],
    ["(?<=a)b", 'lookbehind "(?<=" is not supported by RE2 (at character 1)'],
    ["(?<!a)b", 'lookbehind "(?<!" is not supported by RE2 (at character 1)'],
    ["(a)\\1", 'backreference "\\1" is not supported by RE2 (at character 4)'],
    ["(?P<n>a)(?P=n)", '"(?P=" (backreference or recursion) is not supported by RE2 (at character 9)'],
    ["(?<n>a)\\k<n>", 'named backreference "\\k" is not supported by RE2 (at character 8)'],
    ["(?>a)", 'atomic group "(?>" is not supported by RE2'],
    ["a++", 'bad repetition operator "++"'],
    ["a**", 'bad repetition operator "**"'],
    ["(?#comment)", 'invalid perl operator "(?#"'],
    ["[a-z", 'missing ] "[a-z"'],
    ["(ab", 'missing ) "(ab"'],
    ["\\Z", 'invalid escape sequence "\\Z"'],
    // What the binding would translate from JavaScript, or C++ RE2 accepts, and Go refuses.
    ["\\C", '"\\C" (any byte) is not supported by Go\'s regexp (at character 1)'],
    ["\\cA", '"\\c" control escapes are JavaScript, not RE2'],
    ["\\u0041", '"\\u" escapes are JavaScript, not RE2'],
    ["\\p{Letter}", 'Unicode class "\\p{Letter}" is not known to Go\'s regexp'],
    ["\\p{Script=Greek}", 'Unicode class "\\p{Script=Greek}" is not known to Go\'s regexp'],
    ["a\nb", "the raw control or invisible character U+000A (write it as \\x{…}) (at character 2)"],
    [`${"(".repeat(1001)}a${")".repeat(1001)}`, "groups nested deeper than 1000 (at character 1001)"],
  ])("refuses %j with the pattern, the position and the reason", (pattern, reason) => {
    const lines = problems(patternsAt(["ok-[0-9]+", pattern]));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("tracestack:collector.redaction.extraBlockedValuePatterns[1]: ");
    expect(lines[0]).toContain(reason);
    expect(lines[0]).toContain("; allowed: Go RE2 syntax (https://github.com/google/re2/wiki/Syntax)");
    // RE2 itself agrees where it can tell (the Go-only refusals are stricter than the C++ library).
    if (!/JavaScript|Go's regexp|nested deeper|raw control/.test(reason)) expect(() => new RE2(pattern)).toThrow();
  });

  it.each([
    "x{1000}",
    "(?i)bearer\\s+\\S+",
    "\\pL+\\p{Greek}\\p{Lu}\\PN",
    "[[:alpha:]][[:^digit:]]",
    "\\Qa.b\\E",
    "(?P<name>x)(?<other>y)",
    "\\x{41}\\x41\\012",
    "\\Aabc\\z",
    "a{,5}",
    "^\\$\\{[A-Z_]+\\}$",
  ])("accepts %j, and the gateway compiles the very pattern validated", (pattern) => {
    expect(problems(patternsAt([pattern]))).toEqual([]);
    const m = parseStackConfig(patternsAt([pattern]), "home");
    const input = gatewayRenderInput(m.collector, { environment: "home", target: m.target, jaegerOtlpEndpoint: "jaeger:4317" });
    // The YAML holds `$` as `$$` for the collector's resolver; what Go compiles is the pattern with `$$` read back as `$`.
    const yaml = YAML.parse(toYaml(renderGatewayConfig(input))) as { processors: { redaction: { blocked_values: string[] } } };
    const compiled = yaml.processors.redaction.blocked_values.at(-1)!.replace(/\$\$/g, "$");
    expect(compiled).toBe(pattern);
    expect(() => new RE2(compiled)).not.toThrow();
  });

  it("checks every built-in pattern with RE2 (the module refuses to load otherwise)", () => {
    for (const p of [...BLOCKED_KEY_PATTERNS, ...MASKED_VALUE_PATTERNS, ...VALUE_REWRITES]) expect(re2Check(p.pattern), p.name).toBeUndefined();
  });

  it("checks the Prometheus regexes of the dashboard the same way", () => {
    const line = problems(withValue(home, "grafana.dashboards.inferenceSpanNames", "chat{1001}"));
    expect(line).toEqual([expect.stringContaining('tracestack:grafana.dashboards.inferenceSpanNames: "chat{1001}": invalid repetition size "{1001}"')]);
    expect(problems(withValue(home, "grafana.dashboards.inferenceSpanNames", "(?=chat)"))[0]).toContain('lookahead "(?=" is not supported by RE2');
  });

  it("compiles every exact blocked key as an escaped pattern", () => {
    expect(problems(withValue(home, "collector.redaction.extraBlockedKeys", ["x.ticket$id", "a[b]{c}(d)|e*+?^\\"]))).toEqual([]);
  });
});

describe("supported ranges are explicit: every version key has both bounds", () => {
  const ranges: [string, VersionRange, Record<string, unknown>, string][] = [
    ["jaeger.version", JAEGER_VERSIONS, home, DEFAULT_JAEGER_VERSION],
    ["elasticsearch.version", ELASTICSEARCH_VERSIONS, home, DEFAULT_ELASTICSEARCH_VERSION],
    ["collector.version", COLLECTOR_VERSIONS, home, DEFAULT_COLLECTOR_VERSION],
    ["grafana.version", GRAFANA_VERSIONS, home, DEFAULT_GRAFANA_VERSION],
    ["prometheus.version", PROMETHEUS_VERSIONS, home, DEFAULT_PROMETHEUS_VERSION],
  ];

  it.each(ranges)("%s: the default lies in the range and is the message's example", (_path, range, _base, def) => {
    expect(inRange(def, range)).toBe(true);
    expect(range.example).toBe(def);
  });

  it.each(ranges)("%s: accepts the lower bound, refuses the version before it and the upper bound, and says the range", (path, range, base) => {
    expect(problems(withValue(base, path, range.min))).toEqual([]);
    const [maj, min, patch] = range.min.split(".").map(Number);
    const before = patch > 0 ? `${maj}.${min}.${patch - 1}` : min > 0 ? `${maj}.${min - 1}.99` : `${maj - 1}.99.99`;
    for (const bad of [before, range.below]) {
      const lines = problems(withValue(base, path, bad));
      expect(lines).toEqual([
        `  - tracestack:${path}: ${JSON.stringify(bad)} is not supported; allowed: ${/^[aeiou]/i.test(range.what) ? "an" : "a"} ${range.what} version from ${range.min} up to but not including ${range.below}, such as ${range.example} (${range.why})`,
      ]);
    }
  });

  it.each([
    ["jaeger.version", "3.0.0"],
    ["jaeger.version", "1.76.0"],
    ["elasticsearch.version", "6.8.0"],
    ["elasticsearch.version", "7.7.1"],
    ["elasticsearch.version", "10.0.0"],
  ])("%s %s is refused", (path, v) => {
    expect(problems(withValue(home, path, v))[0]).toContain(`tracestack:${path}: "${v}" is not supported; allowed: `);
  });

  it.each([
    ["7.8.0", true],
    ["9.1.0", true],
  ])("elasticsearch.version %s is accepted: %s", (v, ok) => {
    expect(problems(withValue(home, "elasticsearch.version", v)).length === 0).toBe(ok);
  });

  it.each([
    ["nvcr.io/nvidia/k8s/dcgm-exporter:latest", 'has the moving tag "latest"'],
    ["nvcr.io/nvidia/k8s/dcgm-exporter", "has no tag or digest"],
    ["nvcr.io/nvidia/k8s/dcgm-exporter:5.0.0-5.0.0-ubuntu24.04", "has DCGM 5.0.0, which is not supported (DCGM 3.3.0 up to but not including 5.0.0)"],
    ["nvcr.io/nvidia/k8s/dcgm-exporter:3.2.5-3.1.8-ubuntu20.04", "has DCGM 3.2.5, which is not supported"],
    ["nvcr.io/nvidia/k8s/dcgm-exporter:v4", 'has the tag "v4", not NVIDIA\'s <dcgm>-<exporter>-<os>'],
    ["nvcr.io/nvidia/k8s/dcgm-exporter:04.2.3-4.1.3-ubuntu22.04", 'has the tag "04.2.3-4.1.3-ubuntu22.04", not NVIDIA\'s'],
    ["NVCR.io/Nvidia/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04", "is not an image reference"],
  ])("the DCGM exporter image %s is refused: %s", (image, why) => {
    const lines = problems(withValue(k8s, "instrumentation.dcgmExporter.image", image));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`tracestack:instrumentation.dcgmExporter.image: ${JSON.stringify(image)} ${why}`);
    expect(lines[0]).toContain('; allowed: an image reference pinned to a tag or a sha256 digest (not "latest")');
  });

  it.each([
    DEFAULT_DCGM_EXPORTER_IMAGE,
    "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.1-ubuntu22.04",
    "registry.internal:5000/mirror/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04",
    `nvcr.io/nvidia/k8s/dcgm-exporter@sha256:${"a".repeat(64)}`,
    `nvcr.io/nvidia/k8s/dcgm-exporter:latest@sha256:${"b".repeat(64)}`,
  ])("the DCGM exporter image %s is accepted", (image) => {
    expect(problems(withValue(k8s, "instrumentation.dcgmExporter.image", image))).toEqual([]);
  });

  it("DCGM's own range is stated", () => {
    expect(DCGM_VERSIONS).toMatchObject({ min: "3.3.0", below: "5.0.0" });
  });
});

describe("values that must point somewhere real", () => {
  const existing = (url: string) => withValue(k8s, "elasticsearch", { mode: "existing", url });

  it.each([
    ["es.example.com:9200", "no scheme"],
    ["ftp://es.example.com", "not http(s)"],
    ["https://elastic:changeme@es.example.com:9200", "credentials in the stack file"],
    ["https://es.example.com:9200/?pretty", "a query"],
    ["https://es.example.com:9200/a/../b", "a '..' segment"],
    ["https://es.example.com:0", "port 0"],
    ["https://", "no host"],
  ])("an existing Elasticsearch at %s is refused (%s)", (url) => {
    const lines = problems(existing(url));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`tracestack:elasticsearch.url: ${JSON.stringify(url)}`);
    expect(lines[0]).toContain(
      "allowed: an http or https URL of scheme, host, optional port and path (no user, query or fragment), such as https://es.example.com:9200",
    );
  });

  it.each([
    "https://es.example.com:9200",
    "http://10.0.0.5:9200",
    "https://[fd00::1]:9200",
    "https://es.example.com/proxy/es/",
    "https://es.example.com/a%20b",
  ])("an existing Elasticsearch at %s is accepted", (url) => expect(problems(existing(url))).toEqual([]));

  it("refuses wsl: true on a macOS host", () => {
    expect(problems(withValue(home, "target.hosts.dans-mac-mini.wsl", true))).toEqual([
      "  - tracestack:target.hosts.dans-mac-mini.wsl: true is only for a Linux distribution under WSL2 and dans-mac-mini is declared os macos; allowed: false (or leave it unset) on macos, true only with os arch, debian or ubuntu",
    ]);
  });

  it.each([
    ["instrumentation.services.honcho-server.wrapExecStart.instrument", "-/bin/sh", "an absolute path or a command name"],
    ["instrumentation.services.embeddings.placement.unit", "-.mount", "a systemd unit name"],
    ["instrumentation.services.hermes.placement.envFile", "/Users/dan/.config/", "ends in '/' (a directory); a file is needed"],
    ["target.kubeconfigPath", "apiVersion: v1\nkind: Config", "holds a newline"],
    ["collector.gateway.queue.directory", "/", "is the root directory"],
  ])("%s = %j is refused (%s)", (path, value, why) => {
    const base = path.startsWith("target.kube") ? k8s : home;
    const lines = problems(withValue(base, path, value));
    expect(lines.find((l) => l.startsWith(`  - tracestack:${path}: `))).toContain(why);
  });

  it.each([
    ["target.hosts.danarch.gpu", "NVIDIA GeForce RTX 4090 (24 GB)"],
    ["instrumentation.services.embeddings.placement.unit", "nomic-embeddings@0"],
    ["instrumentation.services.embeddings.placement.unit", "foo\\x2dbar"],
    ["instrumentation.services.hermes.placement.envFile", "/Users/dan/Library/Application Support/hermes/otel.env"],
  ])("%s = %j is accepted", (path, value) => {
    expect(problems(withValue(home, path, value))).toEqual([]);
  });

  it.each([
    ["target.context", "arn:aws:eks:eu-west-1:123456789012:cluster/prod"],
    ["target.kubeconfigPath", "~/.kube/config"],
    ["target.storageClass", "fast.ssd"],
  ])("%s = %j is accepted", (path, value) => {
    expect(problems(withValue(k8s, path, value))).toEqual([]);
  });
});

describe("messages that help", () => {
  it("a host name that is not a DNS label names the bad name and what is allowed", () => {
    const hosts = (home.target as { hosts: Record<string, unknown> }).hosts;
    const lines = problems(withValue(home, "target.hosts", { ...hosts, Dan_Box: hosts.danwin }));
    expect(lines).toEqual([
      "  - tracestack:target.hosts.Dan_Box: the name \"Dan_Box\" is not allowed; allowed: a host name of lowercase letters, digits and '-', 1-63 characters, starting and ending alphanumeric, such as danarch",
    ]);
    expect(lines.join("\n")).not.toContain("Invalid key in record");
  });

  it("a service name with a newline is shown escaped, on one line", () => {
    const services = (home.instrumentation as { services: Record<string, unknown> }).services;
    const lines = problems(withValue(home, "instrumentation.services", { ...services, "a\nb": services.hermes }));
    expect(lines).toEqual([
      expect.stringMatching(/^ {2}- tracestack:instrumentation\.services\["a\\nb"\]: the name "a\\nb" is not allowed; allowed: lowercase letters/),
    ]);
  });

  it.each([
    ["target.hosts.danarch.gpu", "a GPU model of letters"],
    ["instrumentation.services.honcho-server.wrapExecStart.command", "one systemd command line"],
    ["instrumentation.services.embeddings.placement.unit", "a systemd unit name"],
    ["jaeger.release.baseUrl", "an http or https URL"],
  ])("an empty %s must not be empty", (path, allowed) => {
    const lines = problems(withValue(home, path, ""));
    expect(lines).toEqual([expect.stringContaining(`tracestack:${path}: "" must not be empty; allowed: ${allowed}`)]);
    expect(lines.join("\n")).not.toContain("out of range");
  });

  it("an empty regex and an empty list say so", () => {
    expect(problems(withValue(home, "grafana.dashboards.inferenceServices", ""))).toEqual([
      '  - tracestack:grafana.dashboards.inferenceServices: "" must not be empty; allowed: a Prometheus regular expression (Go RE2), such as (chat|text_completion)( .*)?',
    ]);
    expect(problems(withValue(home, "collector.sampling.toolStatusKeep", []))).toEqual([
      "  - tracestack:collector.sampling.toolStatusKeep: [] must not be an empty list; allowed: at least one item",
    ]);
  });

  it("an unknown platform of a release's sha256 lists the platforms", () => {
    expect(problems(withValue(home, "jaeger.release.sha256", { "windows-amd64": "a".repeat(64) }))).toEqual([
      '  - tracestack:jaeger.release.sha256.windows-amd64: unknown key "windows-amd64"; allowed keys: darwin-amd64, darwin-arm64, linux-amd64, linux-arm64.',
    ]);
  });

  it('elasticsearch.version "banana" is told about Elasticsearch versions', () => {
    expect(problems(withValue(home, "elasticsearch.version", "banana"))).toEqual([
      `  - tracestack:elasticsearch.version: "banana": allowed: an Elasticsearch version from 7.8.0 up to but not including 10.0.0, such as ${DEFAULT_ELASTICSEARCH_VERSION} (the bootstrap's _index_template API needs 7.8; 10.x is not verified)`,
    ]);
  });

  it.each([
    ["elasticsearch.storageSize", home],
    ["grafana.storageSize", home],
    ["prometheus.storageSize", home],
  ])('%s "lots" is told about storage sizes', (path, base) => {
    expect(problems(withValue(base, path, "lots"))).toEqual([
      `  - tracestack:${path}: "lots": allowed: a storage size with unit Ki, Mi, Gi or Ti, such as 200Gi`,
    ]);
  });
});
