"""The volume heard: the state's (commands, dayparts, the start), never above
``player.max_volume``, and in a car lifted against road noise (a deck gain, capped the same)."""

from __future__ import annotations

from moodcast.config.settings import PlayerSettings
from moodcast.edge.car.drive import road_lift_db
from moodcast.edge.car.vehicle import Vehicle
from moodcast.edge.status.health import Health
from moodcast.edge.status.keeper import StateKeeper
from moodcast.edge.status.problems import ProblemKind
from moodcast.player.playback import Player


class VolumeControl:
    def __init__(self, settings: PlayerSettings, keeper: StateKeeper, player: Player,
                 health: Health, vehicle: Vehicle | None) -> None:  # fmt: skip
        self.settings, self.keeper, self.player = settings, keeper, player
        self.health, self.vehicle = health, vehicle

    def start(self) -> None:
        """At start: ``startup_volume`` if set, else the volume before the restart; capped."""
        start = self.settings.startup_volume
        self._set(self.keeper.state.volume if start is None else start)

    def command(self, volume: int) -> None:
        """A volume someone asked for: above the cap it is the cap, and said."""
        cap = self.settings.max_volume
        if volume > cap:
            self.health.report(ProblemKind.COMMAND, f"volume {volume} asked for; {cap} is the"
                               " most this device plays at (player.max_volume)")  # fmt: skip
        else:
            self.health.clear(ProblemKind.COMMAND)
        self._set(volume)
        self.apply()

    def daypart(self, volume: int) -> None:
        self._set(volume)

    def _set(self, volume: int) -> None:
        if self.keeper.change(volume=min(volume, self.settings.max_volume)):
            self.health.dirty = True

    def apply(self) -> None:
        """The player at the state's volume and, in a car, the road lift; each set only when
        it changes."""
        volume = self.keeper.state.volume
        if volume != self.player.volume:
            self.player.set_volume(volume)
        if self.vehicle is not None:
            lift = road_lift_db(volume, self.vehicle.boost_db, self.settings.max_volume)
            if abs(lift - self.player.lift_db) >= 0.05 or (lift == 0 and self.player.lift_db):
                self.player.lift(lift)
