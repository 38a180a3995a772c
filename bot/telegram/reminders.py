"""Daily reminders on Telegram: python-telegram-bot's JobQueue, the record store, the outbox.

- At start-up every active reminder is loaded and scheduled (`run_once` at its due time); a
  turn that sets, changes or turns off a chat's reminder reschedules or removes that chat's job.
- A job that fires does no database work on the event loop: it adds the reminder to a queue that
  one task drains in batches on the Runtime's database thread (`Bridge.remind`). There each
  reminder is CLAIMED (compare-and-set on its `next_due`) and its message queued in the outbox
  in ONE transaction: a `kill -9` after that sends it on restart (the outbox is flushed at
  start-up) and never claims it again; a kill before it leaves the reminder due, so the restarted
  bot claims and sends it then. Each occurrence is sent once.
- Several instances on one PostgreSQL (bot/telegram/cluster.py): a reminder set through one instance is
  a job of that instance only, so each instance also looks every few seconds for reminders due
  a little while ago that are still unclaimed — left by an instance that stopped or died — and
  takes them up. The claim decides: whichever instance claims an occurrence sends it; a job or
  a sweep that comes second finds it claimed and sends nothing.
- The claimed reminders' chats are flushed at a steady pace, `share` of the overall rate limit
  (two thirds by default), so thousands due in the same minute go out within Telegram's limits
  and leave room for the replies of runners who are chatting meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.telegram.outage import storage_failure
from conversations.recovery_records import Reminder

if TYPE_CHECKING:
    from telegram.ext import Application, Job, JobQueue

    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 200  # reminders claimed per trip to the database thread (a runner's turn can slip in between)
REMINDER_SHARE = 2 / 3  # of the overall rate limit
SWEEP_EVERY_S = 2.0  # shared database: how often an instance looks for reminders no job sent ...
SWEEP_GRACE_S = 3.0  # ... due at least this long ago (real seconds), so a live job goes first


class Reminders:
    """Schedules each chat's reminder as one JobQueue job and sends the due ones."""

    def __init__(self, application: Application, runtime: Runtime, clock: Clock, rate: float = 0.0) -> None:
        job_queue = application.job_queue
        if job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
            raise RuntimeError("python-telegram-bot's JobQueue is missing: install python-telegram-bot[job-queue]")
        self.job_queue: JobQueue[Any] = job_queue
        self.runtime = runtime
        self.clock = clock
        self.rate = rate  # sends a second; 0: no pacing
        self.jobs: dict[int, Job[Any]] = {}
        self.snoozes: dict[int, Job[Any]] = {}  # one-off "again in an hour" jobs, in memory only
        self.due: deque[Reminder] = deque()
        self.to_send: asyncio.Queue[int] = asyncio.Queue()
        self.claimed = 0
        self._drainer: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Schedule every active reminder (yielding to the event loop as it goes); returns how many."""
        started = time.perf_counter()
        reminders = await self.runtime.db(self.runtime.bridge.records.active_reminders)
        for index, reminder in enumerate(reminders):
            try:
                self.schedule(reminder)
            except Exception as error:  # one odd row must not stop start-up (by chat id, never text)
                log.warning("chat %s: its reminder could not be scheduled (%s); skipped", reminder.chat_id,
                            type(error).__name__)  # fmt: skip
            if index % 500 == 499:
                await asyncio.sleep(0)
        self._sender = asyncio.create_task(self._send_loop())
        if self.runtime.cluster is not None:  # other instances' reminders are due here too
            self._sweeper = asyncio.create_task(self._sweep_loop())
        log.info("scheduled %d reminders in %.2f s", len(reminders), time.perf_counter() - started)
        return len(reminders)

    async def stop(self) -> None:
        for task in (self._drainer, self._sender, self._sweeper, *self._flushes):
            if task is not None:
                task.cancel()

    # ----- scheduling ------------------------------------------------------------------------
    def schedule(self, reminder: Reminder) -> None:
        self.unschedule(reminder.chat_id)
        self.jobs[reminder.chat_id] = self.job_queue.run_once(
            self._fire,
            when=self.clock.real_seconds_until(reminder.due),
            data=reminder,
            name=f"reminder {reminder.chat_id}",
            chat_id=reminder.chat_id,
            job_kwargs={"misfire_grace_time": None},  # late (a busy loop, a slow start) is still sent
        )

    def unschedule(self, chat_id: int) -> None:
        job = self.jobs.pop(chat_id, None)
        if job is not None:
            job.schedule_removal()

    def reschedule(self, chat_id: int, reminder: Reminder | None) -> None:
        """A turn set, changed or turned off the chat's reminder (or forgot the chat)."""
        if reminder is None or not reminder.active:
            self.unschedule(chat_id)
            self.unsnooze(chat_id)  # off, or forgotten: no snoozed reminder either
        else:
            self.schedule(reminder)

    # ----- snoozed: today's reminder once more, the daily time unchanged -----------------------------
    def snooze(self, chat_id: int, minutes: int) -> None:
        """Send today's reminder again in `minutes` (of the bot's clock), once.

        A job of this process only: a restart before it falls due loses the snooze (the next
        daily reminder still comes). Turning reminders off or /forget drops it (`reschedule`),
        and a snooze that fires for a reminder since turned off or a day since marked sends nothing.
        """
        self.unsnooze(chat_id)
        self.snoozes[chat_id] = self.job_queue.run_once(
            self._fire_snooze,
            when=minutes * 60 / self.clock.speed,
            data=chat_id,
            name=f"snoozed reminder {chat_id}",
            chat_id=chat_id,
            job_kwargs={"misfire_grace_time": None},
        )

    def unsnooze(self, chat_id: int) -> None:
        job = self.snoozes.pop(chat_id, None)
        if job is not None:
            job.schedule_removal()

    async def _fire_snooze(self, context: Any) -> None:
        chat_id: int = context.job.data
        if self.snoozes.get(chat_id) is context.job:
            del self.snoozes[chat_id]
        runtime = self.runtime
        try:
            async with runtime.chat_turn(chat_id):  # never beside a turn of the same chat
                queued = await runtime.db(runtime.bridge.snoozed, chat_id)
                if queued:  # the card comes again: the one snoozed keeps no live buttons
                    await runtime.close_keyboard(chat_id, "")
        except Exception as error:  # by chat id and kind only; the daily reminder still comes
            log.warning("chat %s: a snoozed reminder could not be sent (%s)", chat_id, type(error).__name__)
            return
        if queued:
            self.to_send.put_nowait(chat_id)

    # ----- due: claim and queue on the database thread, then send at a steady pace ---------------
    async def _fire(self, context: Any) -> None:
        reminder: Reminder = context.job.data
        if self.jobs.get(reminder.chat_id) is context.job:
            del self.jobs[reminder.chat_id]
        self.due.append(reminder)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self.due:
            batch = [self.due.popleft() for _ in range(min(BATCH, len(self.due)))]
            try:
                outcomes = await self.claim(batch)
            except Exception as error:
                if not storage_failure(error):  # one reminder that cannot be sent must not hold up the others
                    outcomes = await self.claim_one_by_one(batch)
                else:  # the database: the whole batch again, shortly
                    log.warning("could not claim %d due reminders (%s); trying again shortly", len(batch),
                                type(error).__name__)  # fmt: skip
                    await asyncio.sleep(2.0)
                    self.due.extend(batch)
                    continue
            for chat_id, queued, after in outcomes:
                if after is not None and chat_id not in self.jobs:
                    self.schedule(after)
                if queued:
                    self.claimed += 1
                    self.to_send.put_nowait(chat_id)

    async def claim(self, batch: list[Reminder]) -> list[tuple[int, bool, Reminder | None]]:
        """Claim and queue a batch of due reminders on the database thread.

        On a shared database (several instances, several database threads) each chat's reminder
        runs under the chat's cross-instance lock, which every turn of that chat also takes, so a
        reminder that moves a plan's session on cannot overwrite a turn saved at the same moment.
        SQLite runs everything on one database thread, so nothing overlaps there.
        """
        runtime = self.runtime
        if runtime.cluster is None:
            return await runtime.db(runtime.bridge.remind, batch)
        outcomes: list[tuple[int, bool, Reminder | None]] = []
        for reminder in batch:
            async with runtime.cluster.chat(reminder.chat_id):
                outcomes += await runtime.db(runtime.bridge.remind, [reminder])
        return outcomes

    async def claim_one_by_one(self, batch: list[Reminder]) -> list[tuple[int, bool, Reminder | None]]:
        """A batch that failed, claimed singly: one that fails on its own is dropped (logged by chat
        id); one that meets a database failure waits for the next round."""
        outcomes: list[tuple[int, bool, Reminder | None]] = []
        for reminder in batch:
            try:
                outcomes += await self.claim([reminder])
            except Exception as error:
                if storage_failure(error):
                    await asyncio.sleep(2.0)  # the database: this one waits for the next round
                    self.due.append(reminder)
                else:
                    log.warning("chat %s: its reminder could not be sent (%s); skipped", reminder.chat_id,
                                type(error).__name__)  # fmt: skip
        return outcomes

    async def _sweep_loop(self) -> None:
        """On a shared database: take up reminders due a while ago that no instance claimed (set
        through another instance, or left by one that died). Skipped while a batch is under way."""
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            if self.due or (self._drainer is not None and not self._drainer.done()) or self.runtime.stopping:
                continue
            before = self.clock.now() - dt.timedelta(seconds=SWEEP_GRACE_S * self.clock.speed)
            try:
                found = await self.runtime.db(self.runtime.bridge.records.due_reminders, before, BATCH)
            except Exception as error:
                log.warning("could not look for unclaimed due reminders (%s)", type(error).__name__)
                continue
            if found:
                log.info("taking up %d due reminders no job of this instance held", len(found))
                self.due.extend(found)
                self._drainer = asyncio.create_task(self._drain())

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.rate if self.rate else 0.0
        next_at = loop.time()
        while True:
            chat_id = await self.to_send.get()
            wait = next_at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            next_at = max(next_at, loop.time()) + interval  # evenly spaced, no bursts
            task = asyncio.create_task(self.runtime.flush_in_order(chat_id))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)
