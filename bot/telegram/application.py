"""runner-bot on Telegram (python-telegram-bot v22): the application, its start and its stop.

`build_application` wires the handlers (bot/telegram/handlers.py); `serve` opens storage, carries
on with what the last run left unfinished, then polls (bot/telegram/polling.py) or serves the
webhook (bot/telegram/webhook.py) until stopped. Updates arrive through the inbox: written to the
database before Telegram is told they were received. Chats run concurrently, each chat's updates
in order (bot/telegram/chat_order.py); database work runs on threads of its own, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import secrets
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.clock import Clock
from bot.config import Settings
from bot.logs import configure_logging
from bot.startup import fail
from bot.storage.backends import open_store, record_store_for, shared
from bot.storage.sessions import SessionStore, StorageError
from bot.telegram.bridge import Bridge
from bot.telegram.cards import register_commands
from bot.telegram.chat_order import ChatOrderProcessor
from bot.telegram.handlers import (
    PRIVATE,
    on_button,
    on_edited,
    on_error,
    on_group_command,
    on_other_message,
    on_text,
)
from bot.telegram.outage import watch
from bot.telegram.polling import poll
from bot.telegram.reminders import REMINDER_SHARE, Reminders
from bot.telegram.runtime import Runtime
from bot.telegram.updates import RUNNING_APPLICATIONS, Fatal
from bot.telegram.webhook import serve_webhook
from conversations.engine import Engine

if TYPE_CHECKING:
    from bot.telegram.cluster import Cluster

log = logging.getLogger(__name__)

MENU_COMMANDS = (
    "start", "menu", "plan", "log", "progress", "mileage", "summary", "export", "remind",
    "prevent", "redflags", "help", "about", "privacy", "cancel", "forget",
)  # fmt: skip
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]


# ----- the application ------------------------------------------------------------------------
def build_application(
    settings: Settings,
    engine: Engine | None = None,
    store: SessionStore | None = None,
    request: BaseRequest | None = None,
) -> Application:
    """Build and wire the PTB Application. Storage opens in post_init and closes in post_shutdown.

    There is no PTB Updater: `serve` polls (or runs the webhook) itself, through the inbox.
    """
    holder: dict[str, Any] = {}
    processor = ChatOrderProcessor(lambda: holder.get("runtime"))
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .concurrent_updates(processor)
        .updater(None)
        # replies are HTML with every data string escaped (conversations/render.py)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
    )
    if settings.rate_limit:
        # retries are the deliverer's (bot/telegram/runtime.py), which honours retry_after and keeps order
        limiter = AIORateLimiter(overall_max_rate=settings.rate_limit, max_retries=0)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB's generic builder types
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url).base_file_url(
            file_url(settings.telegram_base_url)
        )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data.update(settings=settings, engine=engine, store=store, processor=processor)
    holder["data"] = application.bot_data
    application.bot_data["_holder"] = holder

    # 1. button presses, in any state
    application.add_handler(CallbackQueryHandler(on_button))
    # 2. typed text and /commands in private chats
    application.add_handler(MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT, on_text))
    # 3. anything else sent privately: photos, stickers, voice, locations, documents ...
    application.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & ~filters.TEXT, on_other_message)
    )
    # 4. edits of earlier messages
    application.add_handler(MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, on_edited))
    # 5. commands in groups get a pointer to a private chat; other group and channel traffic is ignored
    application.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, on_group_command))
    application.add_error_handler(on_error)
    return application


async def post_init(application: Application) -> None:
    """Open storage, build the engine, and register the command menu."""
    data = application.bot_data
    if "startup_log_level" in data:
        logging.getLogger("telegram.ext").setLevel(data.pop("startup_log_level"))
    settings: Settings = data["settings"]
    clock = Clock.parse(settings.test_clock)
    engine = data.get("engine") or Engine(now=clock.now)
    store = data.get("store") or open_store(settings)  # SQLite, or PostgreSQL by DATABASE_URL
    records = data.get("records") or record_store_for(store)
    bridge = Bridge(engine, store, records)
    runtime = Runtime(bridge, application.bot, processor=data.get("processor"), application=application,
                      executor=ThreadPoolExecutor(getattr(store, "DB_THREADS", 1), thread_name_prefix="runner-bot-db"))
    runtime.cluster = cluster_for(store)  # several instances on one PostgreSQL (bot/telegram/cluster.py)
    if runtime.cluster is not None:
        await runtime.cluster.open()
    data["bridge"], data["runtime"] = bridge, runtime
    data["_holder"]["runtime"] = runtime
    if application.job_queue is not None:
        share = settings.rate_limit * REMINDER_SHARE
        runtime.reminders = Reminders(application, runtime, clock, rate=share)
    await describe_bot(application, engine)


async def describe_bot(application: Application, engine: Engine) -> None:
    """The command menus per scope and the bot's profile texts (with "not for emergencies"), from the data."""
    message = engine.knowledge.message
    commands = [BotCommand(name, message(f"command_{name}")) for name in MENU_COMMANDS]
    try:
        await register_commands(application.bot, commands)
        await application.bot.set_my_description(message("bot_description"))
        await application.bot.set_my_short_description(message("bot_short_description"))
    except TelegramError as error:  # the bot works without them; try again next start
        log.warning("could not register the command menu and profile (%s)", type(error).__name__)


async def post_shutdown(application: Application) -> None:
    """Close storage (after the database thread has finished its work)."""
    runtime: Runtime | None = application.bot_data.get("runtime")
    if runtime is not None and runtime.cluster is not None:
        await runtime.cluster.close()
    if runtime is not None:
        runtime.close()
    bridge: Bridge | None = application.bot_data.get("bridge")
    if bridge is not None:
        bridge.store.close()


def file_url(base_url: str) -> str:
    """The file-download URL that goes with a Bot API base URL (…/bot -> …/file/bot)."""
    return base_url[: -len("bot")] + "file/bot" if base_url.endswith("/bot") else base_url


def run_telegram(settings: Settings) -> int:
    """Run the bot until it is stopped (Ctrl-C or SIGTERM). Start-up problems: one line, exit 1."""
    configure_logging(settings)
    raise_open_files_limit()
    application = build_application(settings)
    # A start-up failure (rejected token, unreachable server) is reported below in one line, so
    # PTB's own log of it is held back until the bot has started (post_init lifts this).
    startup_logger = logging.getLogger("telegram.ext")
    application.bot_data["startup_log_level"] = startup_logger.level
    startup_logger.setLevel(logging.CRITICAL)
    try:
        asyncio.run(serve(application, settings))
    except InvalidToken:
        return fail("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather")
    except Fatal as error:
        return fail(str(error))
    except StorageError as error:
        return fail(str(error))
    except NetworkError as error:
        return fail(
            f"could not reach the Telegram Bot API ({type(error).__name__}); check the network and TELEGRAM_BASE_URL"
        )
    except Exception as error:  # never a traceback, and never exit status 0 for a stop nobody asked for
        logging.getLogger(__name__).error("stopped by an unexpected %s", type(error).__name__, exc_info=error)
        return fail(f"stopped by an unexpected {type(error).__name__}; see the log above")
    return 0


async def serve(application: Application, settings: Settings) -> None:
    """Start, carry on with what the last run left unfinished, then poll or serve the webhook until stopped."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await application.initialize()  # getMe: a rejected token or an unreachable server stops here
    started = False
    stop_webhook = None
    poller: asyncio.Task[None] | None = None
    watcher: asyncio.Task[None] | None = None
    try:
        await post_init(application)
        runtime: Runtime = application.bot_data["runtime"]
        await application.start()
        started = True
        RUNNING_APPLICATIONS.append(application)
        if runtime.cluster is not None and not settings.webhook_url:
            await runtime.cluster.hold_poller(application.bot.id, application.bot.username)  # or Fatal
        await runtime.replay(application)  # unfinished updates first, and undelivered replies
        if runtime.cluster is not None:
            runtime.cluster.start_sweeper(application, runtime)  # what a stopped instance left
        if runtime.reminders is not None:
            await runtime.reminders.start()  # every active reminder, scheduled again
        if settings.webhook_url:
            secret = settings.webhook_secret_token or secrets.token_urlsafe(32)
            stop_webhook = await serve_webhook(
                application, runtime, settings.webhook_listen, settings.webhook_port,
                urlsplit(settings.webhook_url).path, secret,
            )  # fmt: skip
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
        else:
            await application.bot.delete_webhook()
            poller = asyncio.create_task(poll(application, runtime, ALLOWED_UPDATES, settings.retry_cap_s))
        watcher = asyncio.create_task(watch(application, runtime))  # outages, a deleted file (bot/telegram/outage.py)
        waiter = asyncio.create_task(stop.wait())
        watched = {waiter, watcher} | ({poller} if poller else set())
        done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        for task in (poller, watcher):
            if task in done:
                task.result()  # Fatal: the token was rejected, or the database file is gone
    finally:
        stopping: Runtime | None = application.bot_data.get("runtime")
        if stopping is not None:  # /readyz says 503; on PostgreSQL no new turn starts (work is handed back)
            stopping.stopping = True
            if stopping.cluster is not None:
                stopping.cluster.draining = True
        for task in (poller, watcher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Fatal):
                    await task
        if stop_webhook is not None:
            await stop_webhook()
        reminders = application.bot_data.get("runtime") and application.bot_data["runtime"].reminders
        if reminders is not None:
            await reminders.stop()
        if started:
            await application.stop()  # handles what is already queued, then stops
            RUNNING_APPLICATIONS.remove(application)
        await post_shutdown(application)
        await application.shutdown()


def raise_open_files_limit() -> None:
    """Many idle connections (a webhook under a slow-header flood) should not exhaust file handles."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else max(soft, 65536), hard))


def cluster_for(store: SessionStore) -> Cluster | None:
    """Cross-instance coordination for a shared store; None for SQLite (one process owns the file).

    The cluster (and psycopg) is imported only for a shared store, so a SQLite bot pays nothing for it.
    """
    if not shared(store):
        return None
    from bot.telegram.cluster import Cluster

    return Cluster(store.url)  # type: ignore[attr-defined]  # shared() checked it has one
