/**
 * Elasticsearch for Jaeger's spans: deployed by the stack (a Docker container with a
 * protected data volume on a host; a StatefulSet with retained PVCs on Kubernetes),
 * security on, the `elastic` password generated — or an existing cluster by URL.
 */
import * as pulumi from "@pulumi/pulumi";
import { memoryQuantityBytes } from "../../config/scalars";
import { issueCa, issueCertificate } from "../../secrets/certificates";
import { generatedPassword } from "../../secrets/password";
import type { ElasticsearchDeploy, StackModel } from "../../config/index";
import type { Target } from "../../targets/types";
import { peersOf } from "../../workload/refs";
import type { WorkloadRef } from "../../workload/refs";
import type { WorkloadFile, WorkloadSpec } from "../../workload/types";
import { CA_FILE, CERT_FILE, KEY_FILE, serverTlsFiles } from "../tls/index";
import type { StackTls } from "../tls/index";

export interface ElasticsearchArgs {
  model: StackModel;
  target: Target;
  /** Password of an existing cluster (secret), from `tracestack:elasticsearchPassword`. */
  existingPassword?: pulumi.Output<string>;
  /** Host the main client (Jaeger) runs on: decides the URL `url` is. */
  clientHost?: string;
  /**
   * Every client (Jaeger, the ILM bootstrap job, Grafana), as the components that run them name
   * them: admitted by the NetworkPolicy on Kubernetes; on hosts, one on another host than
   * Elasticsearch's makes it listen beyond loopback.
   */
  clients: readonly WorkloadRef[];
  /** TLS on (`tracestack:tls`): a deployed cluster serves HTTPS with the stack's certificate. */
  tls?: StackTls;
}

export const ES_WORKLOAD = "elasticsearch";

/** The deployed cluster's workload. */
export function elasticsearchRef(model: StackModel): WorkloadRef {
  const es = model.elasticsearch;
  return { name: ES_WORKLOAD, ...(es.mode === "deploy" && es.host !== undefined ? { placement: es.host } : {}) };
}

/**
 * PodDisruptionBudget minAvailable of an `nodes`-node cluster: a master quorum (⌊n/2⌋+1) stays up,
 * and at most one node is away at a time, so a shard with one replica always keeps a copy.
 */
export function esMinAvailable(nodes: number): number | undefined {
  return nodes >= 3 ? Math.max(Math.floor(nodes / 2) + 1, nodes - 1) : undefined;
}
const ES_UID = 1000;
const ES_CERT_DIR = "/usr/share/elasticsearch/config/certs";

/** Half the container memory, in MiB: Elastic's heap guidance. */
export function heapMegabytes(memory: string): number {
  return Math.max(256, Math.floor(memoryQuantityBytes(memory) / 2 ** 20 / 2));
}

/** The workload, described once for both targets. */
export function elasticsearchWorkload(
  es: ElasticsearchDeploy,
  namespace: string | undefined,
  password: pulumi.Input<string>,
  transportFiles: WorkloadFile[],
  exposure: "loopback" | "network",
  httpTlsFiles: WorkloadFile[] = [],
  clients: readonly WorkloadRef[] = [],
): WorkloadSpec {
  const heap = heapMegabytes(es.resources.memory);
  const multiNode = es.nodes > 1;
  const https = httpTlsFiles.length > 0;
  const env: Record<string, string> = {
    "cluster.name": "tracestack",
    "xpack.security.enabled": "true",
    // tracestack:tls on: HTTPS with the stack's certificate; off: plain HTTP inside the cluster
    // network (or on loopback), authentication on either way.
    "xpack.security.http.ssl.enabled": https ? "true" : "false",
    ...(https
      ? {
          "xpack.security.http.ssl.key": `${ES_CERT_DIR}/${KEY_FILE}`,
          "xpack.security.http.ssl.certificate": `${ES_CERT_DIR}/${CERT_FILE}`,
          "xpack.security.http.ssl.certificate_authorities": `${ES_CERT_DIR}/${CA_FILE}`,
        }
      : {}),
    "xpack.ml.enabled": "false",
    // No vm.max_map_count sysctl (which needs a privileged init container): use NIO instead of mmap.
    "node.store.allow_mmap": "false",
    ES_JAVA_OPTS: `-Xms${heap}m -Xmx${heap}m`,
  };
  if (multiNode) {
    const headless = `${ES_WORKLOAD}-headless.${namespace ?? "default"}.svc`;
    env["discovery.seed_hosts"] = headless;
    env["cluster.initial_master_nodes"] = Array.from({ length: es.nodes }, (_, i) => `${ES_WORKLOAD}-${i}`).join(",");
    env["xpack.security.transport.ssl.enabled"] = "true";
    env["xpack.security.transport.ssl.verification_mode"] = "certificate";
    env["xpack.security.transport.ssl.key"] = `${ES_CERT_DIR}/transport.key`;
    env["xpack.security.transport.ssl.certificate"] = `${ES_CERT_DIR}/transport.crt`;
    env["xpack.security.transport.ssl.certificate_authorities"] = `${ES_CERT_DIR}/ca.crt`;
  } else {
    env["discovery.type"] = "single-node";
  }
  return {
    name: ES_WORKLOAD,
    component: "elasticsearch",
    placement: es.host,
    hostRuntime: "docker",
    image: `docker.elastic.co/elasticsearch/elasticsearch:${es.version}`,
    configDir: ES_CERT_DIR,
    args: [],
    env,
    secretEnv: { ELASTIC_PASSWORD: password },
    files: [...transportFiles, ...httpTlsFiles],
    ports: [{ name: "http", port: es.port }, ...(multiNode ? [{ name: "transport", port: 9300 }] : [])],
    // Every path needs credentials; curl reads them from stdin so the password is in no argv.
    ingressFrom: [{ port: "http", from: peersOf(clients) }, ...(multiNode ? [{ port: "transport", from: [{ workload: ES_WORKLOAD }] }] : [])],
    health: {
      port: es.port,
      path: "/_cluster/health?local=true",
      exec: `printf 'user = "elastic:%s"\\n' "$ELASTIC_PASSWORD" | curl -fsS -K - -o /dev/null ${https ? `--cacert '${ES_CERT_DIR}/${CA_FILE}' 'https` : `'http`}://127.0.0.1:${es.port}/_cluster/health?local=true'`,
    },
    volumes: [{ name: "data", mountPath: "/usr/share/elasticsearch/data", size: es.storageSize }],
    user: { name: "elasticsearch", uid: ES_UID },
    resources: es.resources,
    replicas: es.nodes,
    kubernetes: {
      podNameEnv: multiNode ? "node.name" : undefined,
      minAvailable: esMinAvailable(es.nodes),
      // The image writes under its root at start (the keystore and files generated in
      // /usr/share/elasticsearch/config, JVM temp files); a read-only root makes it fail to boot.
      writableRootFilesystem: true,
    },
    docker: { exposure },
    description: `Elasticsearch ${es.version} for Jaeger spans (tracestack)`,
    documentation: "https://www.elastic.co/guide/en/elasticsearch/reference/current/docker.html",
  };
}

export class Elasticsearch extends pulumi.ComponentResource {
  /** URL Jaeger and the ILM bootstrap use. */
  readonly url: pulumi.Output<string>;
  readonly username: string;
  readonly password: pulumi.Output<string>;
  readonly caFile?: string;
  /** Resolves once the cluster's resources exist. */
  readonly ready: pulumi.Output<string>;

  constructor(name: string, args: ElasticsearchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tracestack:storage:Elasticsearch", name, {}, opts);
    const es = args.model.elasticsearch;
    switch (es.mode) {
      case "existing": {
        this.url = pulumi.output(es.url);
        this.username = es.username;
        if (!args.existingPassword) throw new pulumi.ResourceError("tracestack:elasticsearchPassword is required for an existing cluster", this);
        this.password = pulumi.secret(args.existingPassword);
        this.caFile = es.caFile;
        this.ready = pulumi.output(es.url);
        break;
      }
      case "deploy": {
        this.username = "elastic";
        // Alphanumeric: the password travels through env files and curl configs without quoting surprises.
        this.password = generatedPassword(`${name}-elastic-password`, this);
        const transportFiles = es.nodes > 1 ? this.transportCertificates(name, args) : [];
        const namespace = args.target.podNamespace();
        const local = (h: string | undefined) => h === undefined || h === es.host;
        const exposure = local(args.clientHost) && args.clients.every((c) => local(c.placement)) ? "loopback" : "network";
        const httpTls = args.tls ? serverTlsFiles(args.tls.server("elasticsearch"), args.tls.caPem) : [];
        const spec = elasticsearchWorkload(es, namespace, this.password, transportFiles, exposure, httpTls, args.clients);
        const deployed = args.target.deployWorkload(this, spec);
        this.url = pulumi.output(`${args.tls ? "https" : "http"}://${args.target.address(spec, args.clientHost)}:${es.port}`);
        this.ready = deployed.ready;
        break;
      }
      default: {
        const never: never = es;
        throw new Error(`unknown elasticsearch mode ${JSON.stringify(never)}`);
      }
    }
    this.registerOutputs({ url: this.url, username: this.username });
  }

  /** Transport TLS for a multi-node cluster: one CA and one node certificate for every pod name. */
  private transportCertificates(name: string, args: ElasticsearchArgs): WorkloadFile[] {
    const ns = args.target.artifactTarget();
    const ca = issueCa(
      { key: `${name}-transport-ca-key`, cert: `${name}-transport-ca` },
      { curve: "P384", validityHours: 24 * 365 * 5, commonName: "tracestack elasticsearch transport CA" },
      this,
    );
    const node = issueCertificate(
      { key: `${name}-transport-key`, csr: `${name}-transport-csr`, cert: `${name}-transport-cert` },
      {
        ca,
        curve: "P384",
        commonName: `${ES_WORKLOAD}.${ns}.svc`,
        dnsNames: [`*.${ES_WORKLOAD}-headless.${ns}.svc`, `*.${ES_WORKLOAD}-headless.${ns}.svc.cluster.local`, `${ES_WORKLOAD}.${ns}.svc`],
        validityHours: 24 * 365 * 2,
        earlyRenewalHours: 24 * 30,
        uses: ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
      },
      this,
    );
    return [
      { name: "ca.crt", kind: "secret", content: ca.certPem, secret: true },
      { name: "transport.crt", kind: "secret", content: node.certPem, secret: true },
      { name: "transport.key", kind: "secret", content: node.keyPem, secret: true },
    ];
  }
}
