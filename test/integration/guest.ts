/**
 * The disposable Debian host of the integration test: built once by
 * tools/integration/build-guest.sh (debootstrap + mkfs.ext4 -d), cached under
 * .test-out/integration/guest-<hash of the build script>/, booted with qemu (a qcow2 overlay
 * per run, so the cached image stays pristine) and reached over real SSH on a forwarded port.
 *
 * Everything here is asynchronous on purpose: the release and Elasticsearch stand-ins run in
 * the test's own process, so a synchronous child process would block them while the guest
 * downloads from them.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

export const PROJECT_DIR = resolve(__dirname, "../..");
export const OUT_DIR = join(PROJECT_DIR, ".test-out/integration");
export const BUILD_SCRIPT = join(PROJECT_DIR, "tools/integration/build-guest.sh");
export const GUEST_USER = "deploy";
/** The host as the guest sees it (QEMU user-mode networking). */
export const HOST_FROM_GUEST = "10.0.2.2";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking the event loop. */
export function exec(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env, cwd: opts.cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          child.kill("SIGKILL");
          stderr += `\n[killed after ${opts.timeoutMs} ms]`;
        }, opts.timeoutMs)
      : undefined;
    child.on("error", reject);
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

const APT_PACKAGES: [tool: string, pkg: string][] = [
  ["debootstrap", "debootstrap"],
  ["qemu-system-x86_64", "qemu-system-x86"],
  ["qemu-img", "qemu-utils"],
  ["mkfs.ext4", "e2fsprogs"],
  ["ssh", "openssh-client"],
  ["ssh-keygen", "openssh-client"],
  ["ssh-agent", "openssh-client"],
  ["ssh-add", "openssh-client"],
  ["tar", "tar"],
  ["gzip", "gzip"],
];

/** Installs the Debian packages the test needs (root only; else says what is missing). */
export function ensureTools(): void {
  const missing = [...new Set(APT_PACKAGES.filter(([tool]) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`integration test: missing ${missing.join(", ")}; install them: apt-get install ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["update", "-qq"],
    ["install", "-y", "-qq", "--no-install-recommends", ...missing],
  ]) {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  }
}

export interface GuestImage {
  dir: string;
  rootfs: string;
  kernel: string;
  initrd: string;
  key: string;
  built: boolean;
  buildSeconds: number;
}

/** The cached guest, built when the build script changed (or on the first run). */
export async function ensureGuestImage(log: (s: string) => void): Promise<GuestImage> {
  const hash = createHash("sha256").update(readFileSync(BUILD_SCRIPT)).digest("hex").slice(0, 16);
  const dir = join(OUT_DIR, `guest-${hash}`);
  const files = { rootfs: join(dir, "rootfs.img"), kernel: join(dir, "vmlinuz"), initrd: join(dir, "initrd.img"), key: join(dir, "id_ed25519") };
  if (Object.values(files).every(existsSync)) return { dir, ...files, built: false, buildSeconds: 0 };
  mkdirSync(OUT_DIR, { recursive: true });
  // Older guests (another build script) are 2 GB each (sparse): keep only the current one.
  for (const e of readdirSync(OUT_DIR)) if (e.startsWith("guest-") && e !== `guest-${hash}`) rmSync(join(OUT_DIR, e), { recursive: true, force: true });
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  log(`building the guest image (debootstrap bookworm) into ${dir}`);
  const t0 = Date.now();
  const r = await exec("bash", [BUILD_SCRIPT, tmp], { timeoutMs: 30 * 60_000 });
  if (r.code !== 0) throw new Error(`build-guest.sh failed (${r.code}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, ...files, built: true, buildSeconds: (Date.now() - t0) / 1000 };
}

/** A free TCP port on 127.0.0.1 (closed again; qemu or a server binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface Guest {
  sshPort: number;
  bootSeconds: number;
  accel: string;
  consoleLog: string;
  /** Runs a command line on the guest as the SSH user (like @pulumi/command's remote session). */
  ssh(commandLine: string, input?: string, timeoutMs?: number): Promise<Result>;
  stop(): Promise<void>;
}

export function sshArgs(image: GuestImage, port: number, controlDir?: string): string[] {
  return [
    // One TCP connection reused for every session (each command is still its own SSH exec
    // channel, as @pulumi/command's are): handshakes under software emulation cost seconds.
    ...(controlDir ? ["-o", "ControlMaster=no", "-o", `ControlPath=${controlDir}/ssh-%C`] : []),
    "-i",
    image.key,
    "-p",
    String(port),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "ServerAliveInterval=15",
    `${GUEST_USER}@127.0.0.1`,
  ];
}

/**
 * Boots the guest. Software emulation (TCG) by default: /dev/kvm may exist in a sandbox without
 * working (nested virtualisation), and a hung KVM guest prints nothing. TRACESTACK_IT_ACCEL=kvm opts in.
 */
export async function bootGuest(image: GuestImage, runDir: string, log: (s: string) => void, port?: number): Promise<Guest> {
  const accel = process.env.TRACESTACK_IT_ACCEL === "kvm" ? "kvm" : "tcg";
  const overlay = join(runDir, "overlay.qcow2");
  const consoleLog = join(runDir, "console.log");
  const mk = await exec("qemu-img", ["create", "-q", "-f", "qcow2", "-b", image.rootfs, "-F", "raw", overlay]);
  if (mk.code !== 0) throw new Error(`qemu-img create failed: ${mk.stderr}`);
  const sshPort = port ?? (await freePort());
  const args = [
    ...(accel === "kvm" ? ["-enable-kvm", "-cpu", "host"] : ["-accel", "tcg"]),
    "-m",
    "2048",
    "-smp",
    "2",
    "-kernel",
    image.kernel,
    "-initrd",
    image.initrd,
    "-append",
    "root=/dev/vda rw rootfstype=ext4 console=ttyS0 net.ifnames=0 quiet",
    "-drive",
    `file=${overlay},if=virtio,format=qcow2`,
    "-netdev",
    `user,id=n0,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
    "-device",
    "virtio-net-pci,netdev=n0",
    "-nographic",
    "-serial",
    `file:${consoleLog}`,
    "-monitor",
    "none",
    "-pidfile",
    join(runDir, "qemu.pid"),
  ];
  const t0 = Date.now();
  const qemu: ChildProcess = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
  let qemuOut = "";
  let exited: number | null = null;
  qemu.stdout?.setEncoding("utf8").on("data", (d: string) => (qemuOut += d));
  qemu.stderr?.setEncoding("utf8").on("data", (d: string) => (qemuOut += d));
  qemu.on("exit", (code) => (exited = code ?? -1));
  log(`booting the guest (qemu, ${accel}), SSH on 127.0.0.1:${sshPort}`);

  const ssh = (commandLine: string, input?: string, timeoutMs = 10 * 60_000) =>
    exec("ssh", [...sshArgs(image, sshPort, runDir), commandLine], { input, timeoutMs });
  const stop = async () => {
    master?.kill("SIGTERM");
    if (exited !== null) return;
    // A clean poweroff keeps nothing (the overlay is thrown away); just end qemu.
    qemu.kill("SIGTERM");
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        qemu.kill("SIGKILL");
        r();
      }, 10_000);
      qemu.on("exit", () => {
        clearTimeout(t);
        r();
      });
    });
  };

  let master: ChildProcess | undefined;
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`qemu exited (${exited}) before SSH came up: ${qemuOut}\nconsole: ${tail(consoleLog)}`);
    const r = await exec("ssh", [...sshArgs(image, sshPort), "sudo -n true && systemctl is-system-running --wait"], { timeoutMs: 60_000 });
    if (r.code === 0 || /^(running|degraded)$/m.test(r.stdout)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the guest did not answer SSH within 10 minutes (last: ${r.stdout}${r.stderr})\nconsole: ${tail(consoleLog)}`);
    }
    await new Promise((r2) => setTimeout(r2, 2000));
  }
  // The shared connection (stdio ignored: a master holding the test's pipes would keep them open).
  master = spawn("ssh", ["-M", "-N", ...sshArgs(image, sshPort, runDir).map((a) => (a === "ControlMaster=no" ? "ControlMaster=yes" : a))], { stdio: "ignore" });
  for (let i = 0; i < 50; i++) {
    const check = await exec("ssh", [...sshArgs(image, sshPort, runDir).slice(0, -1), "-O", "check", `${GUEST_USER}@127.0.0.1`], { timeoutMs: 5000 });
    if (check.code === 0) break;
    await new Promise((r2) => setTimeout(r2, 200));
  }
  return { sshPort, bootSeconds: (Date.now() - t0) / 1000, accel, consoleLog, ssh, stop };
}

/** Ends the qemu of an earlier run in `runDir` that was itself killed before it could stop its guest. */
export function killStaleGuest(runDir: string): void {
  try {
    const pid = Number(readFileSync(join(runDir, "qemu.pid"), "utf8").trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (cmdline.includes(join(runDir, "overlay.qcow2"))) process.kill(pid, "SIGKILL");
  } catch {
    /* no earlier run, or its qemu is gone */
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8").slice(-3000);
  } catch {
    return "(no console output)";
  }
}
