/**
 * Dialing an endpoint another component returned: the target's address of its workload as seen
 * from the client's host, narrowed to what the listener binds to (its host's loopback from the
 * same host, the bound address when it binds one). Validation guarantees no client is handed
 * another host's loopback; should one be, it gets the host's address. Pure.
 */
import { dialAddress } from "../config/bind";
import type { Target } from "../targets/types";
import type { Endpoint } from "../workload/refs";

/** `host:port` (IPv6 in brackets) of `e` as a client on `fromHost` reaches it. */
export function dial(target: Pick<Target, "address">, e: Endpoint, fromHost: string | undefined): string {
  const addr = target.address(e.workload, fromHost);
  const host = dialAddress(e.bind, e.workload.placement, addr, fromHost) ?? addr;
  return `${host.includes(":") ? `[${host}]` : host}:${e.port}`;
}
