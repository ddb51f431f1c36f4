/** launchd (macOS): a native workload as the LaunchDaemon `dev.tracestack.<name>`, run as `nobody`. */
import { launchDaemonPath, launchdLabel, renderLaunchDaemon } from "../../render/launchd/daemon";
import { activateLaunchdScript, removeLaunchdScript } from "../../render/scripts/host/launchd";
import { ROOT } from "./files";
import type { ServiceManager } from "./service";

/** macOS: the unprivileged account LaunchDaemons run as (creating a role account needs dscl). */
const DARWIN_USER = "nobody";
const DARWIN_GROUP = "nobody";

/** launchd has no journal of its own: the daemon's stdout and stderr. */
function logPath(workload: string): string {
  return `/var/log/tracestack/${workload}.log`;
}

export const launchd: ServiceManager = {
  rootGroup: "wheel",
  account: () => ({ user: DARWIN_USER, group: DARWIN_GROUP }),
  configModes: (a) => ({ plain: { owner: ROOT, group: "wheel", mode: "0644" }, secret: { owner: a.user, group: a.group, mode: "0600" } }),
  service(spec) {
    const label = launchdLabel(spec.name);
    return {
      name: label,
      definitionPath: launchDaemonPath(label),
      definitionFile: { name: `${label}.plist`, kind: "launchd-plist" },
      resourceSuffix: "launchd",
      probe: { kind: "launchd", label },
    };
  },
  definition: (spec, { service, binary, stateDir, account }) =>
    renderLaunchDaemon({
      label: service.name,
      program: [binary, ...spec.args],
      env: spec.env,
      user: account.user,
      group: account.group,
      workingDirectory: stateDir,
      logPath: logPath(spec.name),
      maxOpenFiles: 65536,
    }),
  activate: (spec, { service, host, account, validated }) =>
    activateLaunchdScript({
      label: service.name,
      plistPath: service.definitionPath,
      user: account.user,
      validated,
      health: spec.health,
      ports: spec.ports,
      logPath: logPath(spec.name),
      hostName: host.hostName,
    }),
  remove: (service) => removeLaunchdScript(service.name, service.definitionPath),
};
