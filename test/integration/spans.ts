/**
 * Helpers the wire tests share (hosts.test.ts on the VM, tls-wire.test.ts on loopback): one span
 * as an application sends it over OTLP/HTTP JSON, the wait for its document in the Elasticsearch
 * stand-in, and `npm run certs`'s command line (tools/certs.ts) as the README runs it.
 */
import { join } from "node:path";
import { PROJECT_DIR } from "../helpers/render";
import type { FakeElasticsearch } from "./standins";

/** One span as OTLP/HTTP JSON (`POST /v1/traces`): the resource's service name, one scope, one span. */
export function otlpSpan(p: {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  name: string;
  durationNs: bigint;
  attributes?: Record<string, string>;
  status: { code: number; message?: string };
}): unknown {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: p.service } }] },
        scopeSpans: [
          {
            scope: { name: p.scope },
            spans: [
              {
                traceId: p.traceId,
                spanId: p.spanId,
                name: p.name,
                kind: 2,
                startTimeUnixNano: String(now - p.durationNs),
                endTimeUnixNano: String(now),
                ...(p.attributes ? { attributes: Object.entries(p.attributes).map(([key, v]) => ({ key, value: { stringValue: v } })) } : {}),
                status: p.status,
              },
            ],
          },
        ],
      },
    ],
  };
}

/**
 * The stand-in's first document of the trace, polled every second until `ms` have passed
 * (tail sampling decides after its decision_wait; Jaeger's bulk processor flushes every 200 ms);
 * undefined if none arrived.
 */
export async function spanDocument(es: FakeElasticsearch, traceId: string, ms: number): Promise<FakeElasticsearch["documents"][number] | undefined> {
  const deadline = Date.now() + ms;
  let doc = es.documents.find((d) => d.source.traceID === traceId);
  while (!doc && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    doc = es.documents.find((d) => d.source.traceID === traceId);
  }
  return doc;
}

/** `node tools/certs.ts --stack … --stack-file … --out …` (what `npm run certs` runs), as exec arguments. */
export function certsToolArgs(stack: string, stackFile: string, out: string): string[] {
  return ["--require", "ts-node/register/transpile-only", join(PROJECT_DIR, "tools/certs.ts"), "--stack", stack, "--stack-file", stackFile, "--out", out];
}
