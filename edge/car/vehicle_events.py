"""The vehicle's events as the daemon's loop takes them: readings, a source's problems and
the power line, handed to :class:`Vehicle` on the daemon's thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from moodcast.edge.car.vehicle import Vehicle
from moodcast.edge.events import PowerSignal, VehicleRead, VehicleStatus
from moodcast.edge.status.health import Health

logger = logging.getLogger(__name__)


def vehicle_handlers(vehicle: Vehicle | None, health: Health) -> dict[type, Callable[[Any], None]]:
    """One handler per vehicle event; without a vehicle (not a car) they are dropped."""
    if vehicle is None:
        return dict.fromkeys((VehicleRead, VehicleStatus, PowerSignal), lambda _e: None)

    def on_reading(event: VehicleRead) -> None:
        dropped = vehicle.on_reading(event.reading)
        if dropped:
            logger.info("vehicle: %s reading: %s", event.reading.source, dropped)
        health.dirty = True

    def on_status(event: VehicleStatus) -> None:
        if event.problem:
            logger.warning("vehicle: %s: %s", event.source, event.problem)
        vehicle.on_status(event.source, event.problem)
        health.dirty = True

    def on_power(event: PowerSignal) -> None:
        if event.failing:
            logger.warning("power line: the power is about to go; fading out")
        elif event.detail:
            logger.warning("%s", event.detail)
        vehicle.on_power(event.failing, event.detail)
        health.dirty = True

    return {VehicleRead: on_reading, VehicleStatus: on_status, PowerSignal: on_power}
