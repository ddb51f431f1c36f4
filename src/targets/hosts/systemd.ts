/** systemd (Linux): a native workload as `tracestack-<name>.service`, run as its own system user. */
import { activateServiceScript, removeServiceScript } from "../../render/scripts/host/systemd";
import { envAssignment, execLine, hardening, renderUnit } from "../../render/systemd/unit";
import { ROOT } from "./files";
import { reachablePorts, wslNotes } from "./ports";
import type { ServiceManager } from "./service";

export const systemd: ServiceManager = {
  rootGroup: ROOT,
  account: (spec) => ({ user: spec.user.name, group: spec.user.name }),
  configModes: (a) => ({ plain: { owner: ROOT, group: a.group, mode: "0640" }, secret: { owner: a.user, group: a.group, mode: "0600" } }),
  service(spec) {
    const unit = `tracestack-${spec.name}`;
    return {
      name: unit,
      definitionPath: `/etc/systemd/system/${unit}.service`,
      definitionFile: { name: `${unit}.service`, kind: "systemd-unit" },
      resourceSuffix: "unit",
      probe: { kind: "service", unit },
    };
  },
  definition(spec, { service, binary, stateDir, account }) {
    return renderUnit(
      [
        [
          "Unit",
          [
            ["Description", spec.description],
            ["Documentation", spec.documentation],
            ["Wants", "network-online.target"],
            ["After", "network-online.target"],
          ],
        ],
        [
          "Service",
          [
            ["Type", "simple"],
            ["User", account.user],
            ["Group", account.group],
            ...Object.keys(spec.env)
              .sort()
              .map((k): [string, string] => ["Environment", envAssignment(k, spec.env[k])]),
            ["ExecStart", execLine([binary, ...spec.args])],
            ["Restart", "on-failure"],
            ["RestartSec", "5s"],
            ["TimeoutStopSec", "30s"],
            ["LimitNOFILE", "65536"],
            ["MemoryMax", spec.resources.memory.replace(/i$/, "")],
            ["WorkingDirectory", stateDir],
            ...hardening([stateDir]),
          ],
        ],
        ["Install", [["WantedBy", "multi-user.target"]]],
      ],
      `${service.name}.service — rendered by tracestack; local changes are overwritten by pulumi up.`,
    );
  },
  activate: (spec, { service, host, account, validated }) =>
    activateServiceScript({
      unit: service.name,
      user: account.user,
      validated,
      health: spec.health,
      ports: spec.ports,
      hostName: host.hostName,
      notes: host.config.wsl ? wslNotes(host.config.address, reachablePorts(spec.ports)) : [],
    }),
  remove: (service) => removeServiceScript(service.name, service.definitionPath),
};
