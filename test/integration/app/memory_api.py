"""memory-api: the front service of the integration app. Run by systemd as
`opentelemetry-instrument uvicorn memory_api:app` (tracestack's drop-in wraps ExecStart), it calls
`embeddings` over HTTP (httpx, traceparent propagated by the instrumentation) and answers with its
own trace and span IDs, so the test knows which trace each request made.

It plants what a careless service records: a bearer token, an email address and a password in span
attributes, a secret in a span event; the gateway must mask them. `run_id`, `max_tokens` and the model
name are kept keys and must arrive untouched.
"""
import os

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace

EMBEDDINGS_URL = os.environ.get("EMBEDDINGS_URL", "http://127.0.0.1:8101")
MODEL = "nomic-embed-text-v1.5"
app = FastAPI()


@app.get("/health")
def health():
    return {"ok": True}


@app.get("/recall")
async def recall(request: Request, mode: str = "fast", run_id: str = "", q: str = ""):
    span = trace.get_current_span()
    ctx = span.get_span_context()
    span.set_attribute("run_id", run_id)
    span.set_attribute("max_tokens", 256)
    span.set_attribute("gen_ai.request.model", MODEL)
    span.set_attribute("user.email", request.headers.get("x-user-email", ""))
    span.set_attribute("http.request.header.authorization", request.headers.get("authorization", ""))
    span.set_attribute("db.password", request.headers.get("x-db-password", ""))
    span.add_event("memory.lookup", {"detail": f"api_key={request.headers.get('x-event-secret', '')} for {request.headers.get('x-user-email', '')}"})
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(f"{EMBEDDINGS_URL}/embed", json={"text": q, "mode": mode, "run_id": run_id})
    ids = {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x"), "embeddings_status": r.status_code}
    if r.status_code >= 500:
        return JSONResponse(ids, status_code=502)
    return {**ids, "dims": len(r.json()["vector"])}
