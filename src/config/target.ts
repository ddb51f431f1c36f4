/**
 * The `tracestack:target` key: bare hosts over SSH, or a Kubernetes cluster. Every key module
 * that checks placement against the target imports it from here (a leaf below them: no cycle).
 */
import { z } from "zod";
import { displayText, dnsLabel, dnsSubdomain, hostName, kubeconfigPath, port, scalar } from "./scalars";

export const OS_FAMILIES = ["arch", "debian", "ubuntu", "macos"] as const;
export type OsFamily = (typeof OS_FAMILIES)[number];

/** A DNS name, or an IPv4 or IPv6 address: nothing a shell or ssh would read as more than a host. */
const HOST_ADDRESS =
  /^(?:(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+)$/;
/** A POSIX login name (useradd's rule). */
const POSIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const POSIX_USER_ALLOWED = "allowed: a login name of lower-case letters, digits, '_' and '-', starting with a letter or '_' (at most 32)";
const SSH_PUBLIC_KEY =
  /^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}$/;

export const hostSchema = z.strictObject({
  /** DNS name or IP address the deployer reaches the host at over SSH (it lands on an ssh command line: checked, never shell text). */
  address: z.string().regex(HOST_ADDRESS, { message: "allowed: a DNS name (letters, digits, '-' and '.') or an IPv4/IPv6 address" }),
  /** Operating system family; decides the package manager and service manager. */
  os: z.enum(OS_FAMILIES),
  /** CPU architecture; picks the release tarball. @default amd64 */
  arch: z.enum(["amd64", "arm64"]).default("amd64"),
  /** The host is a WSL2 distribution (systemd must be enabled in /etc/wsl.conf); refused with os macos. @default false */
  wsl: z.boolean().default(false),
  /** SSH port. @default 22 */
  sshPort: port.default(22),
  /** SSH user for this host. @default `target.ssh.user` */
  user: z.string().regex(POSIX_USER, { message: POSIX_USER_ALLOWED }).optional(),
  /**
   * The host's SSH public key (one line of `ssh-keyscan -t ed25519 <address>` without the host
   * name, e.g. `ssh-ed25519 AAAA…`). Remote commands and the drift probe then accept that key only;
   * without it any key is accepted (a warning says so), and secrets travel on stdin to whoever answers.
   */
  hostKey: z
    .string()
    .regex(SSH_PUBLIC_KEY, { message: 'allowed: an SSH public key line, e.g. "ssh-ed25519 AAAAC3Nza…" (ssh-keyscan -t ed25519 <address>)' })
    .optional(),
  /** GPU model, reported as a resource attribute. */
  gpu: displayText("a GPU model", "NVIDIA GeForce RTX 4090").optional(),
});

export const hostsTargetSchema = z.strictObject({
  /** Bare hosts over SSH: systemd (launchd on macOS) and Docker. */
  kind: z.literal("hosts"),
  /** How the deployer logs in over SSH. @default every field's default */
  ssh: z
    .strictObject({
      /** Default SSH user; the private key comes from the secret `tracestack:sshPrivateKey`, else the SSH agent. @default root */
      user: z.string().regex(POSIX_USER, { message: POSIX_USER_ALLOWED }).default("root"),
    })
    .prefault({}),
  /** The machines, by name. */
  hosts: z.record(hostName, hostSchema).refine((h) => Object.keys(h).length > 0, { message: "allowed: at least one host" }),
  /**
   * Compare each host with what tracestack last placed there at every preview and up (one read-only
   * `ssh -o BatchMode=yes … sudo -n` probe per workload), so a hand edit shows as a change of the
   * resource that owns it (README "Drift"). Needs the SSH agent's key for the system ssh. @default true
   */
  driftCheck: z.boolean().optional(),
});

export const kubernetesTargetSchema = z.strictObject({
  /** A Kubernetes cluster, through @pulumi/kubernetes. */
  kind: z.literal("kubernetes"),
  /** Namespace of the tracing stack. @default observability */
  namespace: dnsLabel.default("observability"),
  /** kubeconfig context to deploy to. @default the kubeconfig's current context */
  context: scalar({
    allowed:
      "a kubeconfig context name of letters, digits, '.', '_', ':', '@', '/', '+' and '-', starting with a letter or digit (at most 253), such as kind-kind or arn:aws:eks:eu-west-1:123456789012:cluster/prod",
    pattern: /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/,
    max: 253,
  }).optional(),
  /** Path of the kubeconfig file (the content may instead be given as the secret `tracestack:kubeconfig`). */
  kubeconfigPath: kubeconfigPath.optional(),
  /** StorageClass for persistent volumes. @default the cluster's default class */
  storageClass: dnsSubdomain("gp3").optional(),
  /**
   * Publish the Jaeger UI and Grafana through `networking.k8s.io/v1` Ingress objects. Absent (or a
   * UI without its entry): not published; reach it with `kubectl port-forward`. NetworkPolicies
   * admit a published UI's port only from the ingress controller's namespace. @default not published
   */
  ingress: z
    .strictObject({
      /** IngressClass that serves the objects, e.g. `nginx`. */
      className: dnsSubdomain("nginx"),
      /** Namespace of the ingress controller's pods (its `kubernetes.io/metadata.name` label). @default ingress-nginx */
      controllerNamespace: dnsLabel.default("ingress-nginx"),
      /** The Jaeger UI: its host name and, for HTTPS, the TLS Secret (in the stack's namespace). @default not published */
      jaeger: z
        .strictObject({
          /** Host name, e.g. `jaeger.example.internal`. */
          host: z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, {
            message: "allowed: a lowercase DNS name such as jaeger.example.internal",
          }),
          /** Secret of type kubernetes.io/tls with the certificate for `host`. @default plain HTTP */
          tlsSecret: dnsLabel.optional(),
        })
        .optional(),
      /** Grafana: its host name and, for HTTPS, the TLS Secret (in the stack's namespace). @default not published */
      grafana: z
        .strictObject({
          /** Host name, e.g. `grafana.example.internal`. */
          host: z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, {
            message: "allowed: a lowercase DNS name such as grafana.example.internal",
          }),
          /** Secret of type kubernetes.io/tls with the certificate for `host`. @default plain HTTP */
          tlsSecret: dnsLabel.optional(),
        })
        .optional(),
    })
    .optional(),
});

export const targetSchema = z.discriminatedUnion("kind", [hostsTargetSchema, kubernetesTargetSchema]);

export type HostsTarget = z.output<typeof hostsTargetSchema>;
export type KubernetesTarget = z.output<typeof kubernetesTargetSchema>;
export type Target = z.output<typeof targetSchema>;
export type TargetKind = Target["kind"];
export type HostConfig = z.output<typeof hostSchema>;
