"""Opening hours, dayparts and the job scheduler (APScheduler).

The time rules are pure functions of a local datetime that the daemon evaluates on every
tick and acts on at their edges (so windows across midnight and a clock change just work);
APScheduler runs the capture job and the nightly rescan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from moodcast.config.clock import parse_hhmm, weekday_name
from moodcast.config.settings import Daypart, OpeningWindow, ScheduleSettings
from moodcast.edge.events import EventQueue, RescanDue

logger = logging.getLogger(__name__)


def is_open(windows: Sequence[OpeningWindow], now: datetime) -> bool:
    """Whether music should play now; no windows means always. Windows may cross midnight."""
    if not windows:
        return True
    today, yesterday = weekday_name(now.weekday()), weekday_name(now.weekday() - 1)
    clock = now.time()
    for w in windows:
        start, end = parse_hhmm(w.open), parse_hhmm(w.close)
        if start <= end:
            if today in w.days and start <= clock < end:
                return True
        elif (today in w.days and clock >= start) or (yesterday in w.days and clock < end):
            return True
    return False


def current_daypart(dayparts: Sequence[Daypart], now: datetime) -> Daypart | None:
    """The latest daypart that has started today (before the first: yesterday's last)."""
    if not dayparts:
        return None
    ordered = sorted(dayparts, key=lambda d: d.start)
    current = ordered[-1]
    for part in ordered:
        if parse_hhmm(part.start) <= now.time():
            current = part
    return current


class JobScheduler:
    """APScheduler jobs: capture at an interval, and the nightly rescan."""

    def __init__(
        self,
        settings: ScheduleSettings,
        rescan_time: str,
        events: EventQueue,
        capture: Callable[[], None],
    ) -> None:
        self._settings = settings
        self._rescan_time = rescan_time
        self._events = events
        self._capture = capture
        self._scheduler: object | None = None

    def start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger

        s = self._settings
        scheduler = BackgroundScheduler(daemon=True)
        common = {"max_instances": 1, "coalesce": True}
        scheduler.add_job(
            self._capture,
            "interval",
            seconds=s.capture_interval_s,
            id="capture",
            next_run_time=datetime.now(),
            misfire_grace_time=max(1, int(s.capture_interval_s)),
            **common,
        )
        rescan_at = parse_hhmm(self._rescan_time)
        scheduler.add_job(
            self._events.put,
            CronTrigger(hour=rescan_at.hour, minute=rescan_at.minute),
            args=[RescanDue()],
            id="rescan",
            misfire_grace_time=3600,
            **common,
        )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)  # type: ignore[attr-defined]
            self._scheduler = None
