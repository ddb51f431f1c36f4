"""Drives memory-api on the guest: `driver.py BASE_URL PLAN_JSON`, PLAN_JSON a list of
{"mode", "run_id", "query", "headers"}; requests run a few at a time; prints one JSON line per
request with its mode, HTTP status, the trace/span IDs memory-api reported and the time it took
as the client saw it (an upper bound of the trace's duration)."""
import asyncio
import json
import sys
import time

import httpx


async def main(base, plan):
    sem = asyncio.Semaphore(4)
    async with httpx.AsyncClient(timeout=60) as client:
        async def one(p):
            async with sem:
                t0 = time.monotonic()
                r = await client.get(f"{base}/recall", params={"mode": p["mode"], "run_id": p["run_id"], **p["query"]}, headers=p["headers"])
                elapsed_ms = round((time.monotonic() - t0) * 1000)
                return {"mode": p["mode"], "run_id": p["run_id"], "status": r.status_code, "elapsed_ms": elapsed_ms, **r.json()}
        for line in await asyncio.gather(*(one(p) for p in plan)):
            print(json.dumps(line))


asyncio.run(main(sys.argv[1], json.load(open(sys.argv[2]))))
