/**
 * The `tracestack:instrumentation` key: OTEL_* environment for services tracestack does not
 * own (the memory API, the embeddings service, GPU inference, the client edge), delivered
 * without touching their code — systemd drop-ins, an env file or launchd keys on hosts,
 * server-side-apply patches or a ConfigMap on Kubernetes. Pure: no Pulumi here.
 */
import { z } from "zod";
// The systemd grammar lives with its renderer (a leaf module): one reader for the check and the render.
import { parseExecLine } from "../render/systemd/unit";
import type { ConfigProblem } from "./errors";
import { showValue } from "./errors";
import { onlyOnTarget } from "./placement";
import { absolutePath, displayText, dnsLabel, pinnedImage, port, scalar } from "./scalars";
import type { Target } from "./target";
import { compareVersions, DCGM_VERSIONS, DEFAULT_DCGM_EXPORTER_IMAGE } from "./versions";

// The DCGM exporter's pins live with every other version pin (./versions), re-exported for existing importers.
export { DCGM_VERSIONS, DEFAULT_DCGM_EXPORTER_IMAGE } from "./versions";

// ---------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------

/** How a service is instrumented. */
export const ServiceKind = {
  /** A Python app under `opentelemetry-instrument` (FastAPI, SQLAlchemy/psycopg, httpx, …). */
  PythonOtel: "python-otel",
  /** llama.cpp's server: no OTLP; `--metrics` on, the node's agent scrapes /metrics. */
  LlamaServer: "llama-server",
  /** vLLM: `--otlp-traces-endpoint` (and `--collect-detailed-traces`). */
  Vllm: "vllm",
  /** A client (the Hermes agent): OTEL_* env only, read by its own SDK. */
  Client: "client",
} as const;
export type ServiceKind = (typeof ServiceKind)[keyof typeof ServiceKind];
export const SERVICE_KINDS = Object.values(ServiceKind) as [ServiceKind, ...ServiceKind[]];

/** OTLP transports, with the agent port each maps to (grpc → otlpGrpc, http/protobuf → otlpHttp). */
export const OTLP_PROTOCOLS = ["grpc", "http/protobuf"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const K8S_MODES = ["patch", "configmap"] as const;
export type K8sMode = (typeof K8S_MODES)[number];

/** vLLM `--collect-detailed-traces` modules (https://docs.vllm.ai/en/latest/cli/serve.html). */
export const VLLM_DETAILED_TRACE_MODULES = ["model", "worker", "all"] as const;

/** Why a DCGM exporter tag is outside `DCGM_VERSIONS` (NVIDIA's `<dcgm>-<exporter>-<os>` scheme), or undefined. */
function dcgmTagProblem(tag: string): string | undefined {
  const v = String.raw`(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)`;
  const m = new RegExp(`^(${v})-(${v})-[a-z0-9.]+$`).exec(tag);
  if (!m) return `has the tag ${JSON.stringify(tag)}, not NVIDIA's <dcgm>-<exporter>-<os> (such as 4.2.3-4.1.3-ubuntu22.04)`;
  if (compareVersions(m[1], DCGM_VERSIONS.min) < 0 || compareVersions(m[1], DCGM_VERSIONS.below) >= 0) {
    return `has DCGM ${m[1]}, which is not supported (DCGM ${DCGM_VERSIONS.min} up to but not including ${DCGM_VERSIONS.below})`;
  }
  return undefined;
}

/** dcgm-exporter's default listen port (`DCGM_EXPORTER_LISTEN=:9400`). */
export const DEFAULT_DCGM_EXPORTER_PORT = 9400;

/** Header names whose captured values are replaced by `[REDACTED]`, matched case-insensitively as regexes. */
export const DEFAULT_SANITIZED_HEADERS = ["authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key", ".*token.*", ".*secret.*"];

/** Paths whose server spans are dropped (health checks and scrapes). */
export const DEFAULT_HEALTH_PATHS = ["/health", "/healthz", "/readyz", "/metrics"];

// ---------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------

/** `service.name` as Jaeger lists it; also the key of the service. */
const serviceName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { message: "allowed: lowercase letters, digits, '.', '_' and '-', at most 63 characters" });

/**
 * A systemd service unit name without `.service`, e.g. `honcho-server` or `llama-server@0`
 * (systemd.unit: letters, digits, ':', '-', '_', '.', '\\', one '@' for a template instance).
 * Not starting with '-' or '.': it is an argument of systemctl and a directory name.
 */
const UNIT_CHAR = String.raw`(?:[A-Za-z0-9:_.-]|\\x[0-9a-f]{2})`;
const unitName = scalar({
  allowed:
    "a systemd unit name without the .service suffix, of letters, digits, ':', '_', '.', '-' and \\xNN escapes, with at most one '@', starting with a letter, digit, '_' or ':', such as honcho-server",
  pattern: new RegExp(String.raw`^(?:[A-Za-z0-9_:]|\\x[0-9a-f]{2})${UNIT_CHAR}*(?:@${UNIT_CHAR}*)?$`),
  max: 247,
});

/** A launchd job label (reverse-DNS style): its plist's file name and a launchctl argument. */
const launchdLabel = scalar({
  allowed: "a launchd label of letters, digits, '.', '_' and '-', starting with a letter or digit (at most 200), such as ai.hermes.agent",
  pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  max: 200,
});

const userFile = absolutePath({ example: "/Users/dan/.config/tracestack/hermes.env", spaces: true, file: true });

/** One value of a comma-separated OTel list (excluded URLs, header patterns): no commas, no whitespace. */
const listItem = scalar({
  allowed: "a non-empty value of printable characters without commas or whitespace (the variable is a comma-separated list), such as /health",
  pattern: /^[^,\s]+$/,
  max: 256,
});

/**
 * The launcher that wraps a service's ExecStart: an absolute path or a command name (systemd's
 * search path), the first word of the command line. Not starting with '-', '@', ':', '+' or '!',
 * which systemd reads as prefixes.
 */
const executable = scalar({
  allowed:
    "an absolute path or a command name of letters, digits, '.', '_', '+', '-' and '/', without '.' or '..' segments, such as /opt/app/.venv/bin/opentelemetry-instrument",
  pattern: /^(\/[A-Za-z0-9._+/-]*[A-Za-z0-9._+-]|[A-Za-z0-9_][A-Za-z0-9._+-]*)$/,
  max: 1024,
  check: (p) => (p.split("/").some((s) => s === ".." || s === ".") ? "has a '.' or '..' segment" : undefined),
});

/**
 * A service's own ExecStart command line, verbatim systemd syntax: it must read back as exactly one
 * command line (`parseExecLine`): no newline or other control character, no lone ';', balanced
 * quotes around whole words, known escapes and specifiers, no trailing backslash.
 */
const execCommandLine = scalar({
  allowed:
    "one systemd command line (no newline or control character, no lone ';', quotes around whole words only, no trailing '\\'), such as /opt/app/.venv/bin/python -m app --port 8000",
  max: 4096,
  check: (line) => {
    const r = parseExecLine(line);
    return "error" in r ? `has ${r.error} at character ${r.position}` : undefined;
  },
});

/** One container argument (Kubernetes exec form, no shell): any printable text, empty allowed. */
const containerArg = scalar({
  allowed: "a container argument of printable characters (no newline, NUL or invisible character; at most 4096)",
  max: 4096,
  allowEmpty: true,
});

const gpuModel = displayText("a GPU model", "NVIDIA GeForce RTX 4090");

const dcgmExporter = z.strictObject({
  /** Port of an already running DCGM exporter the node's agent scrapes. @default 9400 */
  port: port.default(DEFAULT_DCGM_EXPORTER_PORT),
});

// ---------------------------------------------------------------------------
// A service
// ---------------------------------------------------------------------------

/**
 * Where the service runs. Hosts target: `host` plus exactly one of `unit` (systemd),
 * `launchd` or `envFile` (macOS). Kubernetes target: `namespace`, `deployment`, `container`.
 * Which fields apply is checked against `tracestack:target.kind` (see `instrumentationProblems`).
 */
export const placementSchema = z.strictObject({
  /** Host the service runs on (hosts target). */
  host: dnsLabel.optional(),
  /** systemd service unit, without `.service`; gets `/etc/systemd/system/<unit>.service.d/tracestack-otel.conf`. */
  unit: unitName.optional(),
  /** A launchd job (macOS): its EnvironmentVariables get the OTEL_* keys. */
  launchd: z
    .strictObject({
      /** The job's Label, e.g. `ai.hermes.agent`. */
      label: launchdLabel,
      /** The job's plist. @default /Users/<ssh user>/Library/LaunchAgents/<label>.plist */
      plist: userFile.optional(),
    })
    .optional(),
  /**
   * An env file the service's wrapper sources (`set -a; . <file>; set +a`).
   * Set to `true` for the default path. @default /Users/<ssh user>/.config/tracestack/<service>.env (macOS)
   */
  envFile: z.union([z.literal(true), userFile]).optional(),
  /** Namespace of the workload (Kubernetes target). */
  namespace: dnsLabel.optional(),
  /** Deployment to patch (Kubernetes target). */
  deployment: dnsLabel.optional(),
  /** Container in the Deployment's pod template. @default the deployment name */
  container: dnsLabel.optional(),
});

export const instrumentedServiceSchema = z.strictObject({
  /** How the service is instrumented: python-otel, llama-server, vllm or client. */
  kind: z.enum(SERVICE_KINDS),
  /** Where the service runs and how its environment is delivered (hosts: host plus one of unit, launchd, envFile; Kubernetes: namespace, deployment, container). */
  placement: placementSchema,
  /** Head sampling ratio for root spans (`parentbased_traceidratio`). @default 1.0 */
  sampleRatio: z.number().min(0).max(1).default(1),
  /** OTLP transport to the node's agent. @default grpc */
  protocol: z.enum(OTLP_PROTOCOLS).default("grpc"),
  /**
   * Replace the unit's ExecStart with `<instrument> <command>` (a drop-in resets ExecStart first).
   * For llama-server, `--metrics` is appended instead.
   */
  wrapExecStart: z
    .strictObject({
      /** The service's own ExecStart command line, verbatim (systemd syntax; one command line, checked by `parseExecLine`). */
      command: execCommandLine,
      /** The `opentelemetry-instrument` launcher, e.g. the one in the service's venv (an absolute path or a command name). @default opentelemetry-instrument */
      instrument: executable.default("opentelemetry-instrument"),
    })
    .optional(),
  /** GPU model, as the `gpu.model` resource attribute. @default the host's `gpu` (hosts target) */
  gpu: gpuModel.optional(),
  /** Server paths whose spans are dropped (OTel Python excluded-URL regexes). @default /health, /healthz, /readyz, /metrics */
  healthPaths: z.array(listItem).default(DEFAULT_HEALTH_PATHS),
  /** Kubernetes: patch the Deployment's env (server-side apply) or publish a ConfigMap the owner adds as envFrom. @default patch */
  k8sMode: z.enum(K8S_MODES).default("patch"),
  /**
   * Removed: tracestack no longer patches a container's args (server-side apply owns `args` as one
   * list, so a patch took all of vLLM's arguments from its owner). The owner adds the tracing
   * flags the patched Deployment's `tracestack.dev/owner-adds-args` annotation lists. Refused when set.
   */
  args: z.array(containerArg).optional(),
  /** vLLM `--collect-detailed-traces` modules (model, worker, all; costs latency). */
  collectDetailedTraces: z.array(z.enum(VLLM_DETAILED_TRACE_MODULES)).min(1).optional(),
  /** llama-server's HTTP port, scraped at /metrics by the node's agent. @default 8080 */
  port: port.default(8080),
  /** A DCGM exporter beside this service the node's agent scrapes (hosts target). */
  dcgmExporter: dcgmExporter.optional(),
});

export const instrumentationSchema = z
  .strictObject({
    /** Instrumented services by `service.name` (OTEL_SERVICE_NAME; what Jaeger lists). @default {} */
    services: z.record(serviceName, instrumentedServiceSchema).default({}),
    /** `service.namespace` of every instrumented service. @default tracestack */
    serviceNamespace: serviceName.default("tracestack"),
    /** Captured header names whose values are sanitized (regexes). @default authorization, cookie, set-cookie, proxy-authorization, x-api-key, .*token.*, .*secret.* */
    sanitizeHeaders: z.array(listItem).default(DEFAULT_SANITIZED_HEADERS),
    /** DCGM exporters already running on hosts, by host name (hosts target). @default {} */
    hosts: z
      .record(
        dnsLabel,
        z.strictObject({
          /** The DCGM exporter already running on this host, scraped by its agent. */
          dcgmExporter,
        }),
      )
      .default({}),
    /** Kubernetes: a DCGM exporter DaemonSet on GPU nodes (nvidia.com/gpu). Deployed when any service is vllm or names a gpu. */
    dcgmExporter: z
      .strictObject({
        /** Deploy it. @default true */
        enabled: z.boolean().default(true),
        /** Image, pinned to a tag `<dcgm>-<exporter>-<os>` (DCGM 3.3 up to 5.0) or a digest; not `latest`. @default nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04 */
        image: pinnedImage(DEFAULT_DCGM_EXPORTER_IMAGE, dcgmTagProblem).default(DEFAULT_DCGM_EXPORTER_IMAGE),
        /** Metrics port, also the hostPort the node's agent scrapes. @default 9400 */
        port: port.default(DEFAULT_DCGM_EXPORTER_PORT),
      })
      .prefault({}),
  })
  .prefault({});

export type InstrumentationConfigInput = z.input<typeof instrumentationSchema>;
export type InstrumentationConfig = z.output<typeof instrumentationSchema>;
export type InstrumentedService = z.output<typeof instrumentedServiceSchema>;
export type Placement = z.output<typeof placementSchema>;

// ---------------------------------------------------------------------------
// Cross-checks
// ---------------------------------------------------------------------------

const HOST_FIELDS = ["host", "unit", "launchd", "envFile"] as const;
const K8S_FIELDS = ["namespace", "deployment", "container"] as const;

/** Placement, uniqueness and kind checks against the target. Paths start at `instrumentation`. */
export function instrumentationProblems(cfg: InstrumentationConfig, target: Target): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  const base = (name: string) => ["instrumentation", "services", name];

  for (const name of Object.keys(cfg.services).sort()) {
    const s = cfg.services[name];
    const p = s.placement;
    const path = [...base(name), "placement"];
    if (target.kind === "hosts") {
      for (const f of K8S_FIELDS) {
        if (p[f] !== undefined) problems.push(onlyOnTarget("kubernetes", [...path, f], { value: p[f] }));
      }
      const declared = Object.keys(target.hosts).sort();
      if (p.host === undefined) {
        problems.push({ path: [...path, "host"], message: `is required: the host ${name} runs on; allowed: one of the declared hosts ${declared.join(", ")}` });
        continue;
      }
      const h = target.hosts[p.host];
      if (!h) {
        problems.push({
          path: [...path, "host"],
          message: `${showValue(p.host)} is not a declared host; allowed: one of ${declared.join(", ")} (declare it under tracestack:target.hosts)`,
        });
        continue;
      }
      const ways = (["unit", "launchd", "envFile"] as const).filter((f) => p[f] !== undefined);
      if (ways.length !== 1) {
        problems.push({
          path,
          message: `${ways.length === 0 ? "names no" : `names ${ways.join(" and ")} as`} way to deliver the environment; allowed: exactly one of unit (systemd), launchd or envFile`,
        });
        continue;
      }
      if (p.unit !== undefined && h.os === "macos") {
        problems.push({ path: [...path, "unit"], message: `${showValue(p.unit)}: ${p.host} runs macos, which has no systemd; allowed: launchd or envFile` });
      }
      if (p.launchd !== undefined && h.os !== "macos") {
        problems.push({ path: [...path, "launchd"], message: `is only for macos hosts and ${p.host} runs ${h.os}; allowed: unit (systemd) or envFile` });
      }
      if (p.envFile === true && h.os !== "macos") {
        problems.push({
          path: [...path, "envFile"],
          message: `true (the default macOS path) needs a macos host and ${p.host} runs ${h.os}; allowed: an absolute path`,
        });
      }
      if (s.wrapExecStart !== undefined && p.unit === undefined) {
        problems.push({
          path: [...base(name), "wrapExecStart"],
          message: `needs a systemd unit (placement.unit); allowed: remove it, or place the service with unit`,
        });
      }
      if (p.unit !== undefined) {
        const key = `${p.host}/${p.unit}`;
        const other = seen.get(key);
        if (other)
          problems.push({
            path: [...path, "unit"],
            message: `${showValue(p.unit)} on ${p.host} is already instrumented by tracestack:instrumentation.services.${other}; allowed: one service per unit`,
          });
        else seen.set(key, name);
      }
    } else {
      for (const f of HOST_FIELDS) {
        if (p[f] !== undefined) problems.push(onlyOnTarget("hosts", [...path, f], { value: p[f] }));
      }
      for (const f of ["namespace", "deployment"] as const) {
        if (p[f] === undefined) problems.push({ path: [...path, f], message: `is required on the kubernetes target: the ${f} of ${name}` });
      }
      if (s.wrapExecStart !== undefined) {
        problems.push(
          onlyOnTarget("hosts", [...base(name), "wrapExecStart"], { instead: "on Kubernetes the image's entrypoint runs opentelemetry-instrument" }),
        );
      }
      if (s.dcgmExporter !== undefined) {
        problems.push(onlyOnTarget("hosts", [...base(name), "dcgmExporter"], { instead: "on Kubernetes use tracestack:instrumentation.dcgmExporter" }));
      }
      if (p.namespace !== undefined && p.deployment !== undefined) {
        const key = `${p.namespace}/${p.deployment}/${p.container ?? p.deployment}`;
        const other = seen.get(key);
        if (other)
          problems.push({
            path: [...path, "container"],
            message: `${showValue(p.container ?? p.deployment)} in ${p.namespace}/${p.deployment} is already instrumented by tracestack:instrumentation.services.${other}; allowed: one service per container`,
          });
        else seen.set(key, name);
      }
    }
    if (s.args !== undefined && s.kind === "vllm") {
      problems.push({
        path: [...base(name), "args"],
        message: `is no longer used: tracestack patches only the container's env, never its args (server-side apply owns args as one list); remove it and add ${vllmOwnerArgs(
          s,
        )
          .map((a) => JSON.stringify(a))
          .join(", ")} to the Deployment's own container args`,
      });
    } else if (s.args !== undefined) {
      problems.push({ path: [...base(name), "args"], message: `is only used for kind "vllm" (${name} is ${showValue(s.kind)}); remove it` });
    }
    if (s.collectDetailedTraces !== undefined && s.kind !== "vllm") {
      problems.push({ path: [...base(name), "collectDetailedTraces"], message: `is a vLLM flag and ${name} is ${showValue(s.kind)}; remove it` });
    }
  }

  if (target.kind === "hosts") {
    const declared = Object.keys(target.hosts).sort();
    for (const h of Object.keys(cfg.hosts).sort()) {
      if (!target.hosts[h]) {
        problems.push({ path: ["instrumentation", "hosts", h], message: `${showValue(h)} is not a declared host; allowed: one of ${declared.join(", ")}` });
      }
    }
  } else if (Object.keys(cfg.hosts).length > 0) {
    problems.push(onlyOnTarget("hosts", ["instrumentation", "hosts"], { instead: "on Kubernetes use tracestack:instrumentation.dcgmExporter" }));
  }
  return problems;
}

/** The env var holding vLLM's OTLP traces endpoint on Kubernetes, which its owner's args reference. */
export const VLLM_TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

/**
 * vLLM's tracing flags as its owner adds them to the container's args on Kubernetes: the endpoint
 * by reference to the env tracestack delivers (the kubelet expands `$(VAR)` in args), so tracestack
 * never owns the args list and the flags stay the same when the agent's address or port changes.
 */
export function vllmOwnerArgs(s: Pick<InstrumentedService, "collectDetailedTraces">): string[] {
  return [
    `--otlp-traces-endpoint=$(${VLLM_TRACES_ENDPOINT_ENV})`,
    ...(s.collectDetailedTraces ? [`--collect-detailed-traces=${[...new Set(s.collectDetailedTraces)].join(",")}`] : []),
  ];
}
