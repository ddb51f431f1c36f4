"""embeddings: the second service of the integration app, under `opentelemetry-instrument` in its own
unit's ExecStart (tracestack's drop-in only sets the OTEL_* environment). `mode` picks a fast answer,
a 500, or a slow one (longer than the gateway's slow-trace threshold in the test's stack)."""
import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace

app = FastAPI()
SLOW_SECONDS = 2.5


@app.get("/health")
def health():
    return {"ok": True}


@app.post("/embed")
async def embed(request: Request):
    body = await request.json()
    span = trace.get_current_span()
    span.set_attribute("gen_ai.request.model", "nomic-embed-text-v1.5")
    span.set_attribute("run_id", body.get("run_id", ""))
    if body.get("mode") == "slow":
        await asyncio.sleep(SLOW_SECONDS)
    if body.get("mode") == "error":
        return JSONResponse({"error": "model not loaded"}, status_code=500)
    return {"vector": [0.25] * 8}
