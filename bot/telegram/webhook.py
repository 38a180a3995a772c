"""The webhook: a small tornado server that checks the secret and the size from the headers
before reading a body, with header and body time-outs; it also answers /healthz and /readyz."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from bot.telegram.outage import health_of

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

WEBHOOK_MAX_BODY = 1024 * 1024  # a real update (4,096 characters and their entities) is a few KB
WEBHOOK_HEADER_TIMEOUT_S = 10.0
WEBHOOK_BODY_TIMEOUT_S = 10.0


async def serve_webhook(
    application: Application, runtime: Runtime, listen: str, port: int, path: str, secret: str
) -> Callable[[], Coroutine[Any, Any, None]]:
    """Start the webhook server; returns a coroutine function that stops it.

    It also answers GET /healthz (200 while the process serves) and GET /readyz (200 when the
    database answers, no storage outage is under way and the bot is not stopping, 503 otherwise) for a load balancer or an
    orchestrator; neither needs the secret, and neither says more than "ok" or "not ready".
    """
    import tornado.httpserver
    import tornado.web

    @tornado.web.stream_request_body
    class Hook(tornado.web.RequestHandler):
        def prepare(self) -> None:
            given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                self.send_error(403)
                return
            if self.request.method != "POST":
                self.send_error(405)
                return
            length = self.request.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > WEBHOOK_MAX_BODY:
                self.send_error(413 if length.isdigit() else 411)
                return
            self.chunks: list[bytes] = []

        def data_received(self, chunk: bytes) -> None:
            self.chunks.append(chunk)

        async def post(self) -> None:
            try:
                raw = json.loads(b"".join(self.chunks))
            except ValueError:
                raw = None
            if not isinstance(raw, dict):
                self.send_error(400)
                return
            try:
                await runtime.intake(application, [raw])  # in the inbox before Telegram hears 200
            except Exception as error:  # not kept: Telegram hears 503 and sends it again later
                health_of(application).failed(error)
                log.warning("an update could not be kept in the inbox (%s); Telegram will send it again",
                            type(error).__name__)  # fmt: skip
                self.send_error(503)
                return
            health_of(application).recovered()
            self.set_status(200)
            self.finish()

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            self.finish(f"{status_code}")  # no echo of anything the caller sent

        def log_exception(self, *args: Any) -> None:  # tornado would log the request; it may hold text
            log.warning("the webhook refused a request")

    class Health(tornado.web.RequestHandler):
        def get(self) -> None:
            self.finish("ok")

    class Ready(tornado.web.RequestHandler):
        async def get(self) -> None:
            if not health_of(application).down and await runtime.ready():
                self.finish("ok")
            else:
                self.set_status(503)
                self.finish("not ready")

    routes: list[Any] = [("/healthz", Health), ("/readyz", Ready), (f"/{path.lstrip('/')}", Hook)]
    app = tornado.web.Application(routes, log_function=lambda handler: None)
    server = tornado.httpserver.HTTPServer(
        app,
        max_body_size=WEBHOOK_MAX_BODY,
        max_header_size=16 * 1024,
        idle_connection_timeout=WEBHOOK_HEADER_TIMEOUT_S,
        body_timeout=WEBHOOK_BODY_TIMEOUT_S,
    )
    server.listen(port, address=listen)

    async def stop() -> None:
        server.stop()
        with suppress(Exception):
            await asyncio.wait_for(server.close_all_connections(), 5)

    return stop
