"""`make serve`: the API on 127.0.0.1 as API Gateway would serve it, with no Docker.

Each HTTP request becomes the payload-2.0 event (and authorizer call) that template.yaml's HTTP API
would send, and runs through the same Lambda handlers. One lock serialises requests: the embedded
moto DynamoDB is not atomic per request under threads, and DynamoDB is. The server's own pages, with
no credentials: the OpenAPI document at /openapi.json and Swagger UI at /swagger (offline: the UI's
script and style come from the copy inside aws-lambda-powertools). The stream consumer runs in
a thread, fed the table's real stream records (see dynamodb/streams.py), so /history and /live work too,
and so does the local scheduler (api/local_scheduler.py), which fires scheduled changes when due.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from decision_flows_local.dynamodb.embedded import LocalStore
    from decision_flows_local.dynamodb.streams import StreamPoller

LOCAL_DEFAULTS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    # botocore >= 1.44.4 sends stream calls to an account endpoint the embedded DynamoDB does not know.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    # Metrics are lines in the function's log on AWS; here they would bury the request log.
    "POWERTOOLS_METRICS_DISABLED": "true",
    "LOG_LEVEL": "WARNING",
}
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
log = logging.getLogger("decision_flows_local")
DOC_PAGES = ("/openapi.json", "/swagger", "/swagger.js", "/swagger.css")
HEALTH = "/api/v1/health"


class LocalApi:
    """A WSGI application that plays API Gateway in front of the template's functions.

    ``lock`` is shared with the stream poller (the consumer's writes are requests to DynamoDB too);
    ``consumer_status``, when given, is added to the health check's answer as ``streamConsumer``."""

    def __init__(
        self, lock: threading.Lock | None = None, consumer_status: Callable[[], BaseModel] | None = None
    ) -> None:
        from decision_flows_local import template

        self.lock = lock or threading.Lock()
        self._consumer_status = consumer_status
        # Import every handler now: cold starts happen once, before the first request.
        for route in template.routes():
            template.handler(route.function)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        from decision_flows_local import template
        from decision_flows_local.api import gateway

        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        if method == "GET" and path in DOC_PAGES:
            # Swagger UI links its document as /swagger?format=json (Powertools serves it there).
            as_json = path == "/swagger" and environ.get("QUERY_STRING") == "format=json"
            return _send(start_response, *doc_page("/openapi.json" if as_json else path))
        body = request_body(environ)
        headers = [(name[5:].replace("_", "-"), value) for name, value in environ.items() if name.startswith("HTTP_")]
        headers += [(name.replace("_", "-"), environ[name]) for name in ("CONTENT_TYPE",) if environ.get(name)]
        try:
            event = gateway.event_from_http(
                method, path, environ.get("QUERY_STRING", ""), headers, body, environ.get("REMOTE_ADDR", "")
            )
        except LookupError:
            return _send(start_response, 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')
        with self.lock:
            authorized = gateway.authorize_like_api_gateway(event)
            if isinstance(authorized, gateway.HttpResponse):  # API Gateway's own 401/403
                payload = json.dumps(authorized.body).encode()
                return _send(start_response, authorized.status, {"Content-Type": "application/json"}, payload)
            result = template.handler(gateway.function_for(method, path))(authorized, gateway.LambdaContext())
        data = result.get("body") or ""
        payload = base64.b64decode(data) if result.get("isBase64Encoded") else data.encode()
        # Also on health's 503 (an extension member of its problem details): a store that stopped
        # answering is when how the consumer is doing matters most.
        if path == HEALTH and result["statusCode"] in (200, 503) and self._consumer_status is not None:
            consumer = self._consumer_status().model_dump(mode="json", by_alias=True)
            payload = json.dumps({**json.loads(payload), "streamConsumer": consumer}).encode()
        return _send(start_response, result["statusCode"], dict(result.get("headers") or {}), payload)


def request_body(environ: dict[str, Any]) -> bytes:
    """The whole body, as API Gateway passes it on: sized by Content-Length, or dechunked when the
    client sent ``Transfer-Encoding: chunked`` (werkzeug then marks the input as terminated)."""
    from werkzeug.wsgi import get_input_stream

    return get_input_stream(environ).read()


def _send(start_response: StartResponse, status: int, headers: dict[str, str], body: bytes) -> list[bytes]:
    start_response(f"{status} {HTTPStatus(status).phrase}", [*headers.items(), ("Content-Length", str(len(body)))])
    return [body]


@cache
def doc_page(path: str) -> tuple[int, dict[str, str], bytes]:
    """One of DOC_PAGES, built on first request: a handler and template.yaml that disagree on a route break these
    pages (500, saying which), not the API."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    from decision_flows_local.api import openapi

    assets = Path(swagger_ui.__file__).parent
    if path == "/swagger.js":
        return 200, {"Content-Type": "text/javascript"}, (assets / "swagger-ui-bundle.min.js").read_bytes()
    if path == "/swagger.css":
        return 200, {"Content-Type": "text/css"}, (assets / "swagger-ui.min.css").read_bytes()
    try:
        document = json.dumps(openapi.build())
    except openapi.RouteMismatch as error:
        log.error("openapi: %s", error)
        return 500, {"Content-Type": "text/plain; charset=utf-8"}, f"{error}\n".encode()
    if path == "/openapi.json":
        return 200, {"Content-Type": "application/json"}, document.encode()
    html = generate_swagger_html(document, "/swagger.js", "/swagger.css", "/", oauth2_config=None)
    return 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode()


def stream_poller(lock: threading.Lock, store: LocalStore) -> StreamPoller:
    """The template's stream consumer on the flows table's stream, sharing the requests' lock."""
    from decision_flows.dal.client import dynamodb_client
    from decision_flows_local.dynamodb.streams import StreamPoller

    after_poll = store.after_stream_poll if store.embedded else None
    return StreamPoller.for_template(dynamodb_client(), lock=lock, after_poll=after_poll)


def local_api(store: LocalStore) -> tuple[LocalApi, StreamPoller]:
    """The API and its stream consumer on a started store, sharing one lock (not polling yet)."""
    lock = threading.Lock()
    poller = stream_poller(lock, store)
    return LocalApi(lock, poller.status), poller


def start_polling(poller: StreamPoller) -> threading.Event:
    """Run the poller in a thread; set the event to stop it."""
    stop = threading.Event()
    threading.Thread(target=poller.run, args=(stop,), name="stream-poller", daemon=True).start()
    print(f"stream: {poller.consumer.function} reads {poller.consumer.table}'s stream in-process ({HEALTH} reports it)")
    return stop


def configure_environment() -> None:
    """The functions' environment from template.yaml, under whatever the caller set explicitly."""
    from decision_flows_local import template

    for name, value in {**LOCAL_DEFAULTS, **template.function_environment()}.items():
        if name != "DYNAMODB_ENDPOINT_URL":
            os.environ.setdefault(name, value)
    os.environ.pop("AWS_PROFILE", None)


def main() -> int:
    from werkzeug.serving import WSGIRequestHandler, make_server

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("werkzeug", "botocore", "boto3"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
    configure_environment()
    from decision_flows import wiring
    from decision_flows_local.api.local_scheduler import SWEEP_INTERVAL_SECONDS, LocalScheduler
    from decision_flows_local.dynamodb.embedded import LocalStore
    from decision_flows_local.fixtures.api_keys import SeedError, seed_api_keys

    started = time.perf_counter()
    store = LocalStore(endpoint)
    created = store.start()
    app, poller = local_api(store)

    class RequestLog(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            log.info("%s %s %s", self.command, self.path, code)

    port = int(os.environ.get("PORT", "3000"))
    try:
        server = make_server("127.0.0.1", port, app, threaded=True, request_handler=RequestLog)
    except SystemExit:  # werkzeug has printed "Port N is in use by another program."
        print(f"error: port {port} is taken; choose another, e.g. PORT={port + 1} make serve", file=sys.stderr)
        store.stop()
        return 1
    base_url = f"http://127.0.0.1:{server.server_port}"
    try:
        key_lines = seed_api_keys(os.environ.get("LOCAL_API_KEYS", ""), store.embedded, base_url)
    except SeedError as error:
        print(f"error: {error}", file=sys.stderr)
        server.server_close()
        store.stop()
        return 1
    stop_polling = start_polling(poller)
    stop_scheduling = LocalScheduler(wiring.schedule_service().sweep, app.lock).start()
    print(f"scheduler: fires due schedules in-process, sweeping the store every {SWEEP_INTERVAL_SECONDS} s")
    print(f"storage: {store.description}" + (f" (created {', '.join(created)})" if created else ""))
    print(*key_lines, sep="\n")
    print(f"ready in {time.perf_counter() - started:.1f} s: {base_url} (Ctrl-C stops)")
    sys.stdout.flush()

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # also for SIGTERM, and for SIGINT where a parent shell ignores it

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        stop_polling.set()
        stop_scheduling.set()
        server.server_close()
        store.stop()
    print("stopped", flush=True)
    sys.stdout.flush()
    # The embedded store's in-memory tables can take long to garbage-collect; nothing is left to save.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
