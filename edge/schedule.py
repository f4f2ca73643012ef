"""Opening hours, dayparts and the job scheduler (APScheduler).

The time rules are pure functions of a local datetime that the daemon evaluates on every
tick and acts on at their edges (so windows across midnight and a clock change just work);
captures run on a monotonic interval and APScheduler runs the nightly rescan.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from moodcast.config.clock import parse_hhmm
from moodcast.config.settings import Announcement, ScheduleSettings
from moodcast.edge.events import AnnounceDue, EventQueue, RescanDue

logger = logging.getLogger(__name__)

# A job never runs twice at once, and runs missed while the process slept run once.
_ONE_AT_A_TIME: dict[str, Any] = {"max_instances": 1, "coalesce": True}


class IntervalRunner:
    """Runs a job every ``interval`` seconds on its own thread, timed by the monotonic clock.

    A wall-clock interval (APScheduler's) stops when the clock steps back: a Pi without a
    real-time clock boots in the past and NTP moves it by hours or years, and an interval
    trigger then waits until the wall clock catches up. Runs never overlap; a run that takes
    longer than the interval delays the next instead of piling up. It waits on an Event (a
    monotonic condition wait), never time.sleep: under libfaketime, with which the clock-step
    test steps the wall clock, time.sleep failed with EINVAL.
    """

    def __init__(self, interval: float, job: Callable[[], None], name: str) -> None:
        self._interval, self._job, self._name = interval, job, name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            try:
                self._job()
            except Exception:  # one failed run must not end the schedule
                logger.exception("%s failed", self._name)
            self.runs += 1
            due = max(due + self._interval, time.monotonic())
            self._stop.wait(max(0.0, due - time.monotonic()))

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None


class JobScheduler:
    """The capture job at an interval (monotonic), and the nightly rescan (APScheduler,
    by the wall clock, since 04:00 is a wall-clock time)."""

    def __init__(
        self,
        settings: ScheduleSettings,
        rescan_time: str,
        events: EventQueue,
        capture: Callable[[], None],
        announcements: Sequence[Announcement] = (),
    ) -> None:
        self._settings = settings
        self._announcements = announcements
        self._rescan_time = rescan_time
        self._events = events
        self._capture = capture
        self._scheduler: object | None = None
        self._captures = IntervalRunner(settings.capture_interval_s, capture, "capture")

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger

        scheduler = BackgroundScheduler(daemon=True)
        rescan_at = parse_hhmm(self._rescan_time)
        scheduler.add_job(
            self._events.put,
            CronTrigger(hour=rescan_at.hour, minute=rescan_at.minute),
            args=[RescanDue()],
            id="rescan",
            misfire_grace_time=3600,
            **_ONE_AT_A_TIME,
        )
        scheduler.start()
        self._scheduler = scheduler
        self.plan_announcements(self._announcements)
        self._captures.start()

    def plan_announcements(self, items: Sequence[Announcement]) -> None:
        """The named announcements' times, in place of those planned before (central
        settings from a fleet may change them while the daemon runs)."""
        from apscheduler.triggers.cron import CronTrigger

        scheduler: Any = self._scheduler
        if scheduler is None:
            self._announcements = items
            return
        for job in scheduler.get_jobs():
            if job.id.startswith("announce-"):
                job.remove()
        self._announcements = items
        for item in items:
            days = ",".join(item.days)
            for n, at in enumerate(item.at):
                t = parse_hhmm(at)
                scheduler.add_job(self._events.put, CronTrigger(day_of_week=days, hour=t.hour,
                                  minute=t.minute), args=[AnnounceDue(item.name)],
                                  id=f"announce-{item.name}-{n}", misfire_grace_time=120,
                                  **_ONE_AT_A_TIME)  # fmt: skip

    def stop(self) -> None:
        self._captures.stop()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)  # type: ignore[attr-defined]
            self._scheduler = None
