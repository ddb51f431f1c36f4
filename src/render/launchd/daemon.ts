/**
 * launchd LaunchDaemons (macOS): a native workload as a system job, the launchd counterpart of
 * src/render/systemd/unit.ts. Serialized with the deterministic plist writer of ./plist.ts
 * (keys sorted, tab-indented as `plutil -convert xml1` writes it), so the same input renders
 * byte-identical output and a digest of it decides restarts.
 * https://developer.apple.com/library/archive/documentation/MacOSX/Conceptual/BPSystemStartup/Chapters/CreatingLaunchdJobs.html
 */
import { toPlist } from "./plist";
import type { PlistValue } from "./plist";

/** Label prefix of every job tracestack runs: `dev.tracestack.<workload>`. */
export const LAUNCHD_LABEL_PREFIX = "dev.tracestack";

export function launchdLabel(workload: string): string {
  return `${LAUNCHD_LABEL_PREFIX}.${workload}`;
}

/** Where launchd reads system daemons from; the plist must be root:wheel 0644 or launchd refuses it. */
export function launchDaemonPath(label: string): string {
  return `/Library/LaunchDaemons/${label}.plist`;
}

export interface LaunchDaemonInput {
  label: string;
  /** argv: the binary then its arguments. */
  program: string[];
  env: Record<string, string>;
  user: string;
  group: string;
  workingDirectory: string;
  /** stdout and stderr of the daemon (launchd has no journal of its own for them). */
  logPath: string;
  /** Open-file limit (systemd's LimitNOFILE). */
  maxOpenFiles: number;
}

export function renderLaunchDaemon(d: LaunchDaemonInput): string {
  const job: Record<string, PlistValue> = {
    Label: d.label,
    ProgramArguments: d.program,
    UserName: d.user,
    GroupName: d.group,
    WorkingDirectory: d.workingDirectory,
    RunAtLoad: true,
    // Restart=on-failure: relaunch unless it exited cleanly; ThrottleInterval ≈ RestartSec.
    KeepAlive: { SuccessfulExit: false },
    ThrottleInterval: 5,
    ProcessType: "Background",
    StandardOutPath: d.logPath,
    StandardErrorPath: d.logPath,
    SoftResourceLimits: { NumberOfFiles: d.maxOpenFiles },
    HardResourceLimits: { NumberOfFiles: d.maxOpenFiles },
  };
  if (Object.keys(d.env).length > 0) job.EnvironmentVariables = { ...d.env };
  return toPlist(job);
}
