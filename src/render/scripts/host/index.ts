/** The scripts the hosts target runs over SSH, by concern (see ./common.ts for what they share). */
export { STATE_DIR, checkedPath, restartFlag } from "./common";
export type { Flavor } from "./common";
export { preflightLines } from "./preflight";
export type { HostFacts } from "./preflight";
export { installReleaseScript, installRoot, installedBinary } from "./release";
export type { InstallReleaseInput } from "./release";
export { removeFileScript, writeFileScript } from "./files";
export type { WriteFileInput } from "./files";
export { activateServiceScript, removeServiceScript } from "./systemd";
export type { ActivateServiceInput } from "./systemd";
export { activateLaunchdScript, removeLaunchdScript } from "./launchd";
export type { ActivateLaunchdInput } from "./launchd";
export { runJobScript } from "./jobs";
export { PROBE_HEADER, PROBE_OFFLINE, PROBE_UNREACHABLE, parseProbe, probeKey, probeScript } from "./probe";
export type { ProbeItem, ProbeResult } from "./probe";
export { MAX_SCRIPT_LENGTH, bundleScript, bundleStdin } from "./bundle";
export type { BundleStep } from "./bundle";
