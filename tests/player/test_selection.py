from __future__ import annotations

import numpy as np
import pytest

from moodcast.config.settings import SelectionSettings
from moodcast.models.mood import MoodEstimate, load_taxonomy
from moodcast.player.selection import PlayHistory, TrackSelector
from moodcast.player.track import Track, TrackMood

TAXONOMY = load_taxonomy("cowen13")


def track(track_id: int, artist: str, mood: str | None, taxonomy: str = "cowen13") -> Track:
    data = None
    if mood is not None:
        anchor = load_taxonomy(taxonomy).get(mood)
        probs = load_taxonomy(taxonomy).probabilities(anchor.valence, anchor.arousal)
        data = TrackMood("file", taxonomy, mood, anchor.valence, anchor.arousal, probs, (mood,))
    return Track(track_id, f"/{track_id}.ogg", artist, f"t{track_id}", "", 1.0, "ok", "", data)


def estimate_for(mood: str) -> MoodEstimate:
    anchor = TAXONOMY.get(mood)
    probs = TAXONOMY.probabilities(anchor.valence, anchor.arousal)
    return MoodEstimate(anchor.valence, anchor.arousal, probs, 1.0)


LIBRARY = [
    track(1, "a", "sad"),
    track(2, "b", "sad"),
    track(3, "c", "joyful"),
    track(4, "d", "energizing"),
    track(5, "e", "calm"),
    track(6, "f", None),
]


@pytest.mark.parametrize(
    ("mood", "expected"),
    [("sad", {1, 2}), ("joyful", {3}), ("energizing", {4}), ("calm", {5})],
)
def test_best_matching_tracks_are_picked(mood: str, expected: set[int]) -> None:
    policy = SelectionSettings(top_k=len(expected), temperature=0.01)
    selector = TrackSelector(LIBRARY, TAXONOMY, policy)
    picks = {
        selector.pick(estimate_for(mood), PlayHistory(policy), np.random.default_rng(i)).track.id
        for i in range(20)
    }
    assert picks == expected


def test_no_repeat_within_window_and_artists_kept_apart() -> None:
    policy = SelectionSettings(top_k=3, repeat_window=4, artist_gap=1)
    library = [track(i, "same" if i < 3 else f"x{i}", "sad") for i in range(8)]
    selector, history = TrackSelector(library, TAXONOMY, policy), PlayHistory(policy)
    rng, played = np.random.default_rng(0), []
    for _ in range(30):
        pick = selector.pick(estimate_for("sad"), history, rng)
        history.add(pick.track)
        played.append(pick.track)
    for i in range(1, len(played)):
        window = [t.id for t in played[max(0, i - 4) : i]]
        assert played[i].id not in window
        assert not (played[i].artist == played[i - 1].artist == "same")


def test_tracks_without_mood_only_when_nothing_else_is_left() -> None:
    policy = SelectionSettings(top_k=8, repeat_window=5, artist_gap=0)
    selector, history = TrackSelector(LIBRARY, TAXONOMY, policy), PlayHistory(policy)
    rng = np.random.default_rng(1)
    picks = []
    for _ in range(6):
        pick = selector.pick(estimate_for("joyful"), history, rng)
        history.add(pick.track)
        picks.append(pick)
    assert [p.track.id for p in picks][-1] == 6
    assert "no mood information" in picks[-1].reason
    assert all(p.track.id != 6 for p in picks[:-1])


def test_exhausted_window_still_plays_and_says_why() -> None:
    policy = SelectionSettings(repeat_window=50, artist_gap=0)
    library = [track(1, "a", "sad")]
    selector, history = TrackSelector(library, TAXONOMY, policy), PlayHistory(policy)
    history.add(library[0])
    pick = selector.pick(estimate_for("sad"), history, np.random.default_rng(0))
    assert pick.track.id == 1 and "played recently" in pick.reason


def test_tracks_stored_under_another_taxonomy_still_match() -> None:
    library = [track(1, "a", "sad", "moodsic5"), track(2, "b", "happy", "moodsic5")]
    policy = SelectionSettings(top_k=1)
    selector = TrackSelector(library, TAXONOMY, policy)
    pick = selector.pick(estimate_for("sad"), PlayHistory(policy), np.random.default_rng(0))
    assert pick.track.id == 1


def test_empty_library_gives_no_pick() -> None:
    policy = SelectionSettings()
    selector = TrackSelector([], TAXONOMY, policy)
    assert selector.pick(estimate_for("sad"), PlayHistory(policy), np.random.default_rng()) is None
