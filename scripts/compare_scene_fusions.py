"""The scene reader's figures with the fusion of several commits, on the same photographs.

    .venv/bin/python scripts/compare_scene_fusions.py hand-set 62d2584 8893707 HEAD \
        --labels tests/data/photos/heldout.tsv [--labels more.tsv ...] [--folder .cache/photos]
        [--monochrome] [--changed]

Each revision's fusions (``models/vision/manifest.json`` and the files it lists: the colour
fusion, and since the monochrome one was added, that too) are taken from git (``hand-set``:
the hand-set weights; ``.``: the working tree's; a folder with a ``manifest.json``: the fusions
in it, e.g. what ``fit_scene_fusion.py --out`` wrote, read without swapping them into the
package), the default scene reader is built with them,
and every labels file is read and scored as ``moodcast models evaluate-images`` does. One
Markdown row per revision and labels file: quadrant, sides, log-loss, how many readings are
at 0.75 or more and how often right, unpleasant photographs read unpleasant, the most named
mood and the people-count error on photographs with people. The photographs are read as
photographs (a black-and-white one by the colour fusion); ``--monochrome`` reads every one
without its colour, as a camera in night vision gives it (by the monochrome fusion).
``--changed`` lists, under the table, the photographs the revisions read in different
quadrants: what a refit gained and lost, which the totals hide.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.config.settings import load_config  # noqa: E402
from moodcast.models.mood import MoodEstimate  # noqa: E402
from moodcast.models.readers import active_taxonomy, build_reader, load_photo  # noqa: E402
from moodcast.models.text.caption_eval import Evaluation  # noqa: E402
from moodcast.models.text.caption_labels import quadrant_of  # noqa: E402
from moodcast.models.vision import fusion as fusion_module  # noqa: E402
from moodcast.models.vision import image_eval  # noqa: E402
from moodcast.models.vision.monochrome import grey  # noqa: E402


@contextmanager
def _fusions_in(folder: Path) -> Iterator[None]:
    """The package's fusions read from ``folder`` while inside."""
    shipped = fusion_module.fusion_dir
    fusion_module.fusion_dir = lambda: folder
    try:
        yield
    finally:
        fusion_module.fusion_dir = shipped


@contextmanager
def fusion_of(revision: str) -> Iterator[None]:
    """The shipped fusion replaced by ``revision``'s while inside (``.``: left as it is)."""
    if revision in (".", "hand-set"):
        yield
    elif (Path(revision) / "manifest.json").is_file():
        with _fusions_in(Path(revision)):
            yield
    else:
        with tempfile.TemporaryDirectory() as folder:
            manifest = _show(revision, "manifest.json")
            (Path(folder) / "manifest.json").write_text(manifest, "utf-8")
            for name in json.loads(manifest)["files"]:
                (Path(folder) / name).write_text(_show(revision, name), "utf-8")
            with _fusions_in(Path(folder)):
                yield


def _show(revision: str, name: str) -> str:
    return subprocess.run(["git", "show", f"{revision}:models/vision/{name}"], cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout  # fmt: skip


def confident(figures: Evaluation) -> str:
    """The readings at 0.75 or more and the share of them right, as "n, share"."""
    sure = [(n, right) for band, n, right in figures.by_confidence if band.startswith("0.75")]
    n_sure, right_sure = sure[0] if sure else (0, None)
    return f"{n_sure}, " + ("–" if right_sure is None else f"{right_sure:.3f}")


def row(revision: str, labels: Path, result: image_eval.ImageEvaluation) -> str:
    f = result.figures
    unpleasant = sum(f.confusion.get(t, {}).get(r, 0) for t in ("LV-HA", "LV-LA")
                     for r in ("LV-HA", "LV-LA"))  # fmt: skip
    of = sum(sum(f.confusion.get(t, {}).values()) for t in ("LV-HA", "LV-LA"))
    mood, times = next(iter(result.moods_named.items()))
    loss = "–" if result.log_loss is None else f"{result.log_loss:.3f}"
    people = "–" if result.crowd_error is None else f"{result.crowd_error:.2f}"
    return (f"| {revision} | {labels.name} ({f.n}) | {f.quadrant:.3f} | {f.valence:.3f} /"
            f" {f.arousal:.3f} | {loss} | {confident(f)} | {unpleasant} of {of} |"
            f" *{mood}* {times / f.n:.2f} | {people} |")  # fmt: skip


def changed(labels: Path, rows: Sequence[image_eval.LabelledImage],
            read: dict[str, list[MoodEstimate]]) -> list[str]:  # fmt: skip
    """Markdown rows of the photographs of ``labels`` that not every revision read in the same
    quadrant: each revision's quadrant and confidence."""
    lines = []
    for i, labelled in enumerate(rows):
        seen = {rev: readings[i] for rev, readings in read.items()}
        quadrants = {rev: quadrant_of(m.valence, m.arousal) for rev, m in seen.items()}
        if len(set(quadrants.values())) > 1:
            cells = " | ".join(f"{quadrants[rev]} {m.confidence:.2f}" for rev, m in seen.items())
            name = f"{labelled.file.parent.name}/{labelled.file.name}"  # as the labels name it
            lines.append(f"| {name} | {labelled.quadrant} | {cells} |")
    head = f"\n{labels.name}: read in different quadrants, {len(lines)} of {len(rows)}\n"
    columns = " | ".join(read)
    return [head, f"| photograph | truth | {columns} |", "|---|---|" + "---|" * len(read),
            *lines]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "revisions", nargs="+", help="git revisions, '.', 'hand-set' or folders with a manifest"
    )
    parser.add_argument("--labels", type=Path, action="append", required=True)
    parser.add_argument("--folder", type=Path, default=ROOT / ".cache/photos")
    parser.add_argument(
        "--monochrome",
        action="store_true",
        help="read the photographs without their colour (night vision)",
    )
    parser.add_argument(
        "--changed",
        action="store_true",
        help="also list the photographs the revisions read in different quadrants",
    )
    args = parser.parse_args()
    seen = grey if args.monochrome else (lambda frame: frame)
    sets = [(labels, image_eval.read_image_labels(labels, args.folder)) for labels in args.labels]
    print("| fusion | photographs | quadrant | valence / arousal | log-loss |"
          " at ≥ 0.75: readings, right | unpleasant read unpleasant | most named |"
          " people error (with people) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    read: dict[Path, dict[str, list[MoodEstimate]]] = {labels: {} for labels, _ in sets}
    for revision in args.revisions:
        overrides = {"reader.fusion": "hand-set"} if revision == "hand-set" else {}
        config = load_config(None, overrides)
        taxonomy = active_taxonomy(config)
        with fusion_of(revision):
            reader = build_reader(config, taxonomy, photographs=not args.monochrome)
        for labels, rows in sets:
            readings = [reader.read(seen(load_photo(r.file))) for r in rows]
            read[labels][revision] = readings
            print(row(revision, labels, image_eval.evaluate_images(rows, readings, taxonomy)),
                  flush=True)  # fmt: skip
    if args.changed:
        for labels, rows in sets:
            print("\n".join(changed(labels, rows, read[labels])))


if __name__ == "__main__":
    main()
