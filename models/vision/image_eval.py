"""How right a frame reader is on labelled photographs, measured like the caption reader.

A labels file has ``file<TAB>quadrant[<TAB>people]`` lines (``#`` comments, an optional
header): the photograph (relative to the folder), the valence/arousal quadrant that music for
the scene should sit in, and how many people it shows where counted. The figures: quadrant,
valence and arousal accuracy, the confusion matrix, how often each named mood is said, a
calibration table, the people-count error, the worst readings, and (for a reader that gives
each side's probability) the log-loss of those probabilities: a proper score, which tells
readers apart that accuracy on a few dozen photographs cannot.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodcast.config.errors import MoodcastError
from moodcast.config.text import whole_number
from moodcast.models.mood import MoodEstimate, Taxonomy
from moodcast.models.text.caption_eval import Evaluation, evaluate, report
from moodcast.models.text.caption_labels import (
    QUADRANTS,
    Labelled,
    is_header,
    labelled_lines,
    parse_quadrant,
)
from moodcast.models.vision.fusion import log_loss

_FORMAT = ("write 'file<TAB>quadrant[<TAB>people]' with quadrant one of "
           + ", ".join(QUADRANTS) + " and people a whole number")  # fmt: skip


@dataclass(frozen=True)
class LabelledImage:
    file: Path
    quadrant: str
    people: int | None
    line: int


@dataclass
class ImageEvaluation:
    figures: Evaluation
    moods_named: dict[str, int]  # named mood → readings, most said first
    people_error: float | None  # mean absolute error where counts are labelled
    people_n: int
    crowd_error: float | None = None  # the same on the photographs that show people
    crowd_n: int = 0
    log_loss: float | None = None  # both sides' (valence + arousal), where probabilities given
    not_read: list[Unread] = dataclasses.field(default_factory=list)  # left out of the figures

    def to_dict(self) -> dict[str, object]:
        return {**self.figures.to_dict(), "moods_named": self.moods_named,
                "people_error": self.people_error, "people_n": self.people_n,
                "people_error_with_people": self.crowd_error,
                "people_n_with_people": self.crowd_n, "log_loss": self.log_loss,
                "not_read": [dataclasses.asdict(u) for u in self.not_read]}  # fmt: skip


@dataclass(frozen=True)
class Unread:
    """A labelled photograph that could not be read, and why."""

    line: int
    file: str
    why: str


def read_photos(rows: Sequence[LabelledImage], read: Callable[[Path], MoodEstimate],
                ) -> tuple[list[LabelledImage], list[MoodEstimate], list[Unread]]:  # fmt: skip
    """Each photograph read, or set aside with the reason (a damaged or unsupported file
    among hundreds should cost its own line, not the whole measurement); an error only
    when none could be read."""
    kept: list[LabelledImage] = []
    readings: list[MoodEstimate] = []
    unread: list[Unread] = []
    for row in rows:
        try:
            readings.append(read(row.file))
        except MoodcastError as exc:
            unread.append(Unread(row.line, row.file.name, str(exc)))
            continue
        kept.append(row)
    if not kept:
        first = unread[0]
        raise MoodcastError(f"none of the {len(rows)} photographs could be read (line"
                            f" {first.line}: {first.why})",
                            "give JPEG, PNG, GIF, BMP or WebP files")  # fmt: skip
    return kept, readings, unread


def read_image_labels(path: Path, folder: Path) -> list[LabelledImage]:
    """Every labelled photograph; an error naming the line for anything else."""
    rows: list[LabelledImage] = []
    lines: dict[Path, int] = {}  # each photograph's line: one labelled twice counts twice
    for number, parts in labelled_lines(path, "image labels", _FORMAT):
        if not rows and is_header(parts):
            continue
        row = _row(parts, path, number, folder)
        first = lines.setdefault(row.file.resolve(), number)
        if first != number:
            raise MoodcastError(f"{path}:{number}: {parts[0]!r} is labelled on line {first}"
                                " already", "label each photograph once")  # fmt: skip
        rows.append(row)
    if not rows:
        raise MoodcastError(f"{path} holds no labelled photographs", _FORMAT)
    return rows


def _row(parts: list[str], path: Path, number: int, folder: Path) -> LabelledImage:
    where = f"{path}:{number}"
    if len(parts) not in (2, 3):
        raise MoodcastError(f"{where}: expected 2 or 3 tab-separated fields, found"
                            f" {len(parts)}", _FORMAT)  # fmt: skip
    name, quadrant = parts[0], parse_quadrant(parts[1])
    if quadrant is None:
        raise MoodcastError(f"{where}: unknown quadrant {parts[1]!r}", _FORMAT)
    file = folder / name
    if not name or not file.is_file():
        raise MoodcastError(f"{where}: no photograph {name!r} in {folder}",
                            "fix the name or fetch the photographs first")  # fmt: skip
    people = None
    if len(parts) == 3 and parts[2]:
        people = whole_number(parts[2])
        if people is None:
            raise MoodcastError(f"{where}: people {parts[2]!r} is not a whole number", _FORMAT)
    return LabelledImage(file, quadrant, people, number)


def evaluate_images(rows: Sequence[LabelledImage], readings: Sequence[MoodEstimate],
                    taxonomy: Taxonomy, not_read: Sequence[Unread] = (),
                    ) -> ImageEvaluation:  # fmt: skip
    """The figures of ``readings`` (one per row, in order) against the labels; ``not_read``:
    the photographs left out (:func:`read_photos`), listed beside the figures."""
    as_rows = [Labelled(r.file.name, r.quadrant, r.line) for r in rows]
    figures = evaluate(as_rows, readings, taxonomy)
    figures.wrong.sort(key=lambda w: -w.confidence)  # the worst: confident and wrong
    named = dict(Counter(r.mood for r in readings).most_common())
    counted = [(row.people, r.evidence.get("people", 0)) for row, r in
               zip(rows, readings, strict=True) if row.people is not None]  # fmt: skip
    pairs = [(truth, float(seen)) for truth, seen in counted if isinstance(seen, int | float)]
    errors = [abs(truth - seen) for truth, seen in pairs]
    crowd = [abs(truth - seen) for truth, seen in pairs if truth > 0]
    error = float(np.mean(errors)) if errors else None
    return ImageEvaluation(figures, named, error, len(errors),
                           float(np.mean(crowd)) if crowd else None, len(crowd),
                           _log_loss(rows, readings), list(not_read))  # fmt: skip


def _log_loss(rows: Sequence[LabelledImage], readings: Sequence[MoodEstimate]) -> float | None:
    """Mean log-loss of P(pleasant) plus that of P(lively); None unless every reading has them."""
    odds = [(r.evidence.get("p_pleasant"), r.evidence.get("p_lively")) for r in readings]
    if not odds or not all(isinstance(p, float) and isinstance(q, float) for p, q in odds):
        return None
    p = np.array(odds, dtype=np.float64)
    truth = np.array([(r.quadrant.startswith("HV"), r.quadrant.endswith("HA")) for r in rows],
                     dtype=np.float64)  # fmt: skip
    # 1e-3: the evidence rounds the probabilities to three places
    return log_loss(p[:, 0], truth[:, 0], 1e-3) + log_loss(p[:, 1], truth[:, 1], 1e-3)


def image_report(result: ImageEvaluation, title: str) -> str:
    """The figures as Markdown (the caption report's tables, plus moods and people)."""
    text = report(result.figures, title).replace(" captions: ", " photographs: ")
    lines = [text.replace("| caption | truth |", "| photograph | truth |"), ""]
    lines += ["| named mood | readings | share |", "|---|---|---|"]
    n = max(result.figures.n, 1)
    for mood, count in result.moods_named.items():
        lines.append(f"| {mood} | {count} | {count / n:.2f} |")
    if result.people_error is not None:
        lines += ["", f"People-count error (mean absolute) on {result.people_n} photographs"
                      f" with counts: {result.people_error:.2f}."]  # fmt: skip
    if result.crowd_error is not None:
        lines[-1] += (f" On the {result.crowd_n} that show people:"
                      f" {result.crowd_error:.2f}.")  # fmt: skip
    if result.log_loss is not None:
        lines += ["", f"Log-loss of the two sides' probabilities (valence + arousal, lower is"
                      f" better): {result.log_loss:.3f}."]  # fmt: skip
    if result.not_read:
        lines += ["", f"Not read, so not in the figures ({len(result.not_read)}):", ""]
        lines += [f"- line {u.line}, {u.file}: {u.why}" for u in result.not_read]
    return "\n".join(lines)
