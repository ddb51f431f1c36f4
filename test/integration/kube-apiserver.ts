/**
 * A real Kubernetes API server for the integration suite, started the way controller-runtime's
 * envtest starts one: the toolchain's etcd (`--unsafe-no-fsync`, loopback only) and
 * kube-apiserver (`npm run toolchain`) with generated keys — a CA, the server's certificate,
 * the service-account signing key pair — RBAC authorization, and an admin client certificate in
 * `system:masters`; the ServiceAccount admission plugin off (no controller manager creates
 * tokens). No kubelet, scheduler or controller manager: objects are stored, validated, defaulted
 * and admitted, server-side apply tracks their field managers, and no pod ever runs.
 *
 * `kubectl` is the toolchain's, built from the same Kubernetes release as the API server.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_DIR } from "../helpers/render";

const BIN = join(PROJECT_DIR, ".toolchain/bin");

/** A toolchain binary; missing, the suite fails with how to build it. */
export function toolchainBinary(name: "kube-apiserver" | "kube-controller-manager" | "kubectl" | "etcd" | "pulumi-resource-kubernetes"): string {
  const p = join(BIN, name);
  if (!existsSync(p)) {
    throw new Error(
      `${p} is missing: build it with \`npm run toolchain\` (README "The toolchain"; TRACESTACK_TOOLCHAIN_KUBE=0 skips the Kubernetes binaries there, TRACESTACK_TOOLCHAIN_K8S_PROVIDER=0 the provider alone, and this test then fails)`,
    );
  }
  return p;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr}`);
}

/** CA, server certificate (127.0.0.1, localhost), admin client certificate (system:masters), service-account keys. */
function generateKeys(dir: string): void {
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=tracestack-test-ca"], dir);
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver"], dir);
  openssl(
    ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext"],
    dir,
  );
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "admin.key", "-out", "admin.csr", "-subj", "/O=system:masters/CN=tracestack-admin"], dir);
  openssl(
    ["x509", "-req", "-in", "admin.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "admin.crt", "-days", "2", "-extfile", "client.ext"],
    dir,
  );
  openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key"], dir);
  openssl(["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
}

/**
 * A team's own Deployment that tracestack patches (applied by the test under the team's field
 * manager), as JSON for `kubectl apply -f -`. The container has `env` only when given some.
 */
export function ownerDeployment(namespace: string, name: string, args: string[], env: { name: string; value: string }[]): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: `example.invalid/${name}:1.0.0`, args, ...(env.length > 0 ? { env } : {}) }] },
      },
    },
  });
}

export interface KubeResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class KubeApiServer {
  readonly dir: string;
  readonly kubeconfig: string;
  private readonly procs: ChildProcess[] = [];
  private constructor(dir: string) {
    this.dir = dir;
    this.kubeconfig = join(dir, "kubeconfig");
  }

  /**
   * Starts etcd and kube-apiserver on free loopback ports and waits for /readyz. With
   * `controllers`, the toolchain's kube-controller-manager runs those controllers only (e.g. the
   * garbage collector, which finishes a foreground deletion by removing its `foregroundDeletion`
   * finalizer, and the namespace controller, which empties and removes a deleted Namespace), as
   * the admin client, with no serving port and no leader election.
   */
  static async start(opts: { controllers?: string[] } = {}): Promise<KubeApiServer> {
    const etcd = toolchainBinary("etcd");
    const apiserver = toolchainBinary("kube-apiserver");
    toolchainBinary("kubectl");
    const k = new KubeApiServer(mkdtempSync(join(tmpdir(), "tracestack-kube-")));
    const d = k.dir;
    generateKeys(d);
    const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
    mkdirSync(join(d, "etcd"));
    k.procs.push(
      spawn(
        etcd,
        [
          "--name=tracestack-test",
          `--data-dir=${join(d, "etcd")}`,
          `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
          `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-cluster=tracestack-test=http://127.0.0.1:${etcdPeer}`,
          "--unsafe-no-fsync",
          "--listen-metrics-urls=",
        ],
        { stdio: ["ignore", openSync(join(d, "etcd.log"), "w"), openSync(join(d, "etcd.log"), "a")] },
      ),
    );
    k.procs.push(
      spawn(
        apiserver,
        [
          `--etcd-servers=http://127.0.0.1:${etcdClient}`,
          "--advertise-address=127.0.0.1",
          // The kubernetes Service's endpoint can't be a loopback address: no endpoint reconciler.
          "--endpoint-reconciler-type=none",
          "--bind-address=127.0.0.1",
          `--secure-port=${securePort}`,
          `--cert-dir=${join(d, "certs")}`,
          `--tls-cert-file=${join(d, "server.crt")}`,
          `--tls-private-key-file=${join(d, "server.key")}`,
          `--client-ca-file=${join(d, "ca.crt")}`,
          "--authorization-mode=RBAC",
          `--service-account-issuer=https://127.0.0.1:${securePort}`,
          `--service-account-key-file=${join(d, "sa.pub")}`,
          `--service-account-signing-key-file=${join(d, "sa.key")}`,
          "--disable-admission-plugins=ServiceAccount",
          "--service-cluster-ip-range=10.0.0.0/24",
          "--allow-privileged=true",
          "--storage-media-type=application/json",
        ],
        { stdio: ["ignore", openSync(join(d, "apiserver.log"), "w"), openSync(join(d, "apiserver.log"), "a")] },
      ),
    );
    const b64 = (f: string) => readFileSync(join(d, f)).toString("base64");
    writeFileSync(
      k.kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "test", cluster: { server: `https://127.0.0.1:${securePort}`, "certificate-authority-data": b64("ca.crt") } }],
        users: [{ name: "admin", user: { "client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key") } }],
        contexts: [{ name: "test", context: { cluster: "test", user: "admin" } }],
        "current-context": "test",
      }),
    );
    const deadline = Date.now() + 120_000;
    let controllers = opts.controllers && opts.controllers.length > 0 ? opts.controllers : undefined;
    for (;;) {
      for (const p of k.procs) {
        if (p.exitCode !== null) {
          const logs = ["etcd.log", "apiserver.log", "controller-manager.log"]
            .filter((f) => existsSync(join(d, f)))
            .map((f) => `${f}:\n${readFileSync(join(d, f), "utf8").slice(-3000)}`)
            .join("\n");
          k.stop();
          throw new Error(`${p.spawnfile} exited with ${p.exitCode} before the API server was ready\n${logs}`);
        }
      }
      if (k.kubectl(["get", "--raw", "/readyz"]).stdout.trim() === "ok") {
        if (!controllers) break;
        k.procs.push(
          spawn(
            toolchainBinary("kube-controller-manager"),
            [
              `--kubeconfig=${k.kubeconfig}`,
              `--controllers=${controllers.join(",")}`,
              "--leader-elect=false",
              "--secure-port=0",
              "--use-service-account-credentials=false",
            ],
            { stdio: ["ignore", openSync(join(d, "controller-manager.log"), "w"), openSync(join(d, "controller-manager.log"), "a")] },
          ),
        );
        controllers = undefined;
        continue;
      }
      if (Date.now() > deadline) {
        const log = readFileSync(join(d, "apiserver.log"), "utf8").slice(-3000);
        k.stop();
        throw new Error(`the API server was not ready within 120 s:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return k;
  }

  /** The API server's version, e.g. v1.37.2. */
  serverVersion(): string {
    return (JSON.parse(this.kubectl(["version", "-o", "json"]).stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion;
  }

  kubectl(args: string[], stdin?: string): KubeResult {
    const r = spawnSync(toolchainBinary("kubectl"), [`--kubeconfig=${this.kubeconfig}`, ...args], { input: stdin, encoding: "utf8", timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** kubectl that must succeed; its stdout. */
  ok(args: string[], stdin?: string): string {
    const r = this.kubectl(args, stdin);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** The live object as JSON. */
  get<T = Record<string, unknown>>(kind: string, name: string, namespace?: string): T {
    return JSON.parse(this.ok(["get", kind, name, "-o", "json", "--show-managed-fields", ...(namespace ? ["-n", namespace] : [])])) as T;
  }

  stop(): void {
    for (const p of [...this.procs].reverse()) {
      if (p.exitCode === null && p.pid !== undefined) p.kill("SIGTERM");
    }
    spawnSync("sleep", ["1"]);
    for (const p of this.procs) {
      if (p.exitCode === null && p.pid !== undefined) p.kill("SIGKILL");
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `kubectl version --client`: the toolchain kubectl's version. */
export function kubectlClientVersion(): string {
  const out = execFileSync(toolchainBinary("kubectl"), ["version", "--client", "-o", "json"], { encoding: "utf8" });
  return (JSON.parse(out) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
}
