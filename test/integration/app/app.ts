/**
 * The two-service FastAPI app of the integration suite: `memory-api` calling `embeddings` over
 * HTTP, each a systemd unit under `opentelemetry-instrument` and instrumented by the drop-in
 * tracestack renders for it (the stack declares both as `instrumentation.services`).
 *
 * The wheels come from PyPI, fetched on the host with `pip download` for the guest's Python
 * (CPython 3.11, manylinux x86_64: Debian bookworm) and cached under
 * ~/.cache/tracestack/wheels/<sha256 of requirements.lock> (TRACESTACK_WHEEL_CACHE), like the
 * toolchain's binaries; the guest installs them from a wheel directory (`pip install --no-index
 * --find-links`, hashes required) with the pip wheel itself, into a venv of its own python3. The
 * guest never reaches PyPI.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { exec } from "../guest";

export const APP_SOURCE = __dirname;
export const LOCK_FILE = join(APP_SOURCE, "requirements.lock");
/** Where the app lives on the guest. */
export const APP_DIR = "/opt/tracestack-it-app";
export const APP_USER = "itapp";
/** The guest's Python, which the wheels are fetched for. */
export const GUEST_PYTHON = {
  version: "3.11",
  abi: "cp311",
  platforms: ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64"],
};

export const SERVICES = {
  memoryApi: { name: "memory-api", unit: "memory-api", port: 8100 },
  embeddings: { name: "embeddings", unit: "embeddings", port: 8101 },
} as const;

const MEMORY_API_COMMAND = `${APP_DIR}/venv/bin/uvicorn memory_api:app --app-dir ${APP_DIR} --host 127.0.0.1 --port ${SERVICES.memoryApi.port}`;

/**
 * The stack's `instrumentation` key for the app: memory-api's ExecStart wrapped by the drop-in
 * (`wrapExecStart`, OTLP gRPC to the node's agent), embeddings already under opentelemetry-instrument
 * in its own unit (the drop-in sets only the environment; OTLP http/protobuf).
 */
export function appInstrumentation(host: string): Record<string, unknown> {
  return {
    services: {
      [SERVICES.memoryApi.name]: {
        kind: "python-otel",
        placement: { host, unit: SERVICES.memoryApi.unit },
        protocol: "grpc",
        wrapExecStart: { instrument: `${APP_DIR}/venv/bin/opentelemetry-instrument`, command: MEMORY_API_COMMAND },
        healthPaths: ["/health"],
      },
      [SERVICES.embeddings.name]: {
        kind: "python-otel",
        placement: { host, unit: SERVICES.embeddings.unit },
        protocol: "http/protobuf",
        healthPaths: ["/health"],
      },
    },
  };
}

/** The wheel directory for requirements.lock: cached, else `pip download`ed from PyPI. */
export async function ensureWheels(log: (s: string) => void): Promise<{ dir: string; fetched: boolean }> {
  const lock = readFileSync(LOCK_FILE);
  const key = createHash("sha256").update(lock).digest("hex").slice(0, 16);
  const root = process.env.TRACESTACK_WHEEL_CACHE ?? join(homedir(), ".cache/tracestack/wheels");
  const dir = join(root, `cp${GUEST_PYTHON.version.replace(".", "")}-${key}`);
  if (existsSync(join(dir, ".complete"))) return { dir, fetched: false };
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`fetching the app's wheels from PyPI (pip download, CPython ${GUEST_PYTHON.version} manylinux x86_64) into ${dir}`);
  const args = [
    "-m",
    "pip",
    "download",
    "--no-deps",
    "--require-hashes",
    "--only-binary=:all:",
    "--python-version",
    GUEST_PYTHON.version,
    "--implementation",
    "cp",
    "--abi",
    GUEST_PYTHON.abi,
    ...GUEST_PYTHON.platforms.flatMap((p) => ["--platform", p]),
    "-r",
    LOCK_FILE,
    "-d",
    tmp,
  ];
  // The lock is complete (--no-deps): no find-links or index the environment points pip at.
  const env = { ...process.env, PIP_FIND_LINKS: "", PIP_NO_INPUT: "1" };
  const r = await exec("python3", args, { env, timeoutMs: 15 * 60_000 });
  if (r.code !== 0)
    throw new Error(
      `integration test: pip download of the app's wheels failed (needs python3 with pip and PyPI):\n${r.stdout.slice(-2000)}${r.stderr.slice(-3000)}`,
    );
  const expected = readFileSync(LOCK_FILE, "utf8")
    .split("\n")
    .filter((l) => /^[a-z0-9]/i.test(l)).length;
  const got = readdirSync(tmp).filter((f) => f.endsWith(".whl")).length;
  if (got !== expected) throw new Error(`integration test: pip download wrote ${got} wheels, requirements.lock pins ${expected}`);
  copyFileSync(LOCK_FILE, join(tmp, ".complete"));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, fetched: true };
}

/** A tar of the app (sources, lock, wheels) under `root`/app/app.tar, for the guest to fetch from the release server. */
export async function packApp(root: string, wheels: string): Promise<string> {
  const stage = join(root, "app");
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, "src/wheels"), { recursive: true });
  for (const f of ["memory_api.py", "embeddings.py", "driver.py", "requirements.lock"]) copyFileSync(join(APP_SOURCE, f), join(stage, "src", f));
  for (const f of readdirSync(wheels).filter((x) => x.endsWith(".whl"))) copyFileSync(join(wheels, f), join(stage, "src/wheels", f));
  const r = await exec("tar", ["-C", join(stage, "src"), "-cf", join(stage, "app.tar"), "."]);
  if (r.code !== 0) throw new Error(`tar failed: ${r.stderr}`);
  rmSync(join(stage, "src"), { recursive: true, force: true });
  return "app/app.tar";
}

function unit(description: string, execStart: string, env: Record<string, string> = {}): string {
  return [
    "[Unit]",
    `Description=${description} (tracestack integration app)`,
    "After=network-online.target",
    "",
    "[Service]",
    `User=${APP_USER}`,
    `WorkingDirectory=${APP_DIR}`,
    ...Object.entries(env).map(([k, v]) => `Environment=${k}=${v}`),
    `ExecStart=${execStart}`,
    "Restart=on-failure",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * The guest's install (root): the app from the test's server, a venv of the guest's python3
 * (Debian ships venv without ensurepip: `--without-pip`, pip then runs from its wheel), every
 * wheel by hash from the local directory, a system user, and the two units — enabled, not started:
 * the first `pulumi up` places their drop-ins (its `try-restart` leaves stopped units alone).
 */
export function installScript(url: string): string {
  const memoryUnit = unit("memory-api", MEMORY_API_COMMAND, { EMBEDDINGS_URL: `http://127.0.0.1:${SERVICES.embeddings.port}` });
  const embeddingsUnit = unit(
    "embeddings",
    `${APP_DIR}/venv/bin/opentelemetry-instrument ${APP_DIR}/venv/bin/uvicorn embeddings:app --app-dir ${APP_DIR} --host 127.0.0.1 --port ${SERVICES.embeddings.port}`,
  );
  return [
    "set -euo pipefail",
    `python3 -c 'import sys; sys.exit(0 if sys.version_info[:2] == (${GUEST_PYTHON.version.replace(".", ", ")}) else 1)' || { echo "the guest's python3 is $(python3 -V), the wheels are for ${GUEST_PYTHON.version}" >&2; exit 1; }`,
    `install -d -m 0755 ${APP_DIR}`,
    `curl -fsS --max-time 300 ${url} | tar -x -C ${APP_DIR}`,
    `python3 -m venv --without-pip ${APP_DIR}/venv`,
    // pip runs from its own wheel (a zip on sys.path): `<wheel>/pip` is a path inside it, not a glob.
    `pip_wheel="$(ls ${APP_DIR}/wheels/pip-*.whl)"`,
    `PIP_NO_INPUT=1 ${APP_DIR}/venv/bin/python "$pip_wheel/pip" install -q --no-index --find-links ${APP_DIR}/wheels --require-hashes -r ${APP_DIR}/requirements.lock`,
    `id -u ${APP_USER} >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${APP_USER}`,
    `cat > /etc/systemd/system/${SERVICES.memoryApi.unit}.service <<'UNIT'\n${memoryUnit}UNIT`,
    `cat > /etc/systemd/system/${SERVICES.embeddings.unit}.service <<'UNIT'\n${embeddingsUnit}UNIT`,
    "systemctl daemon-reload",
    `systemctl enable ${SERVICES.memoryApi.unit} ${SERVICES.embeddings.unit} 2>&1`,
    `${APP_DIR}/venv/bin/python -c 'import fastapi, uvicorn, httpx, opentelemetry.instrumentation.fastapi; print("app installed: fastapi", fastapi.__version__)'`,
  ].join("\n");
}
