import { chmodSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RenderResult } from "../tools/render-lib";
import { render } from "./helpers/render";
import { hasTool, innerScript, run } from "./helpers/tools";

let r: RenderResult;
beforeAll(async () => {
  r = await render("home");
});

/** Every script the hosts target runs or places: remote command bodies and script artifacts. */
function scripts(): [string, string][] {
  const out: [string, string][] = [];
  for (const p of r.plan.filter((x) => x.type === "command:remote:Command")) {
    for (const field of ["create", "update", "delete"] as const) {
      const v = p.inputs[field];
      if (typeof v === "string") out.push([`${p.name}.${field}`, innerScript(v)]);
    }
  }
  // Bash scripts only: the WSL2 port-forwarding script is PowerShell for the Windows side.
  for (const a of r.manifest.artifacts.filter((x) => x.kind === "script" && !x.path.endsWith(".ps1"))) out.push([a.path, r.files[a.path]]);
  return out;
}

describe("scripts on the hosts", () => {
  it("are all strict bash (set -euo pipefail)", () => {
    const all = scripts();
    expect(all.length).toBeGreaterThan(10);
    for (const [name, s] of all) expect(s, name).toMatch(/^set -euo pipefail$/m);
  });

  it.skipIf(!hasTool("shellcheck"))("are shellcheck-clean", () => {
    for (const [name, s] of scripts()) {
      const res = run("shellcheck", ["-s", "bash", "-"], s.startsWith("#!") ? s : `#!/usr/bin/env bash\n${s}`);
      expect(res.out, name).toBe("");
      expect(res.status, name).toBe(0);
    }
  });

  it("never put a secret on a command line", () => {
    for (const [name, s] of scripts()) expect(s, name).not.toMatch(/offline-password|\[secret\]/);
  });
});

describe("systemd units", () => {
  it.skipIf(!hasTool("systemd-analyze"))("pass systemd-analyze verify without a warning", () => {
    const units = r.manifest.artifacts.filter((a) => a.kind === "systemd-unit");
    expect(units.length).toBeGreaterThan(0);
    for (const a of units) {
      const root = mkdtempSync(join(tmpdir(), "tracestack-systemd-"));
      cpSync("/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true, dereference: false });
      const unitPath = a.path.replace(/^files\/[^/]+/, "");
      mkdirSync(join(root, dirname(unitPath)), { recursive: true });
      writeFileSync(join(root, unitPath), r.files[a.path]);
      // The binaries the unit starts exist on a converged host: stand-ins here.
      for (const m of r.files[a.path].matchAll(/^ExecStart=(\S+)/gm)) {
        mkdirSync(join(root, dirname(m[1])), { recursive: true });
        writeFileSync(join(root, m[1]), "#!/bin/sh\n");
        chmodSync(join(root, m[1]), 0o755);
      }
      const res = run("systemd-analyze", ["verify", `--root=${root}`, unitPath]);
      expect(res.out, a.path).toBe("");
      expect(res.status, a.path).toBe(0);
    }
  });
});
