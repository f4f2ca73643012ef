"""How the reader's figure on sources it has not seen grows with the sources it is fitted on.

    .venv/bin/python scripts/source_curve.py --labels tests/data/photos/train.tsv \\
        --labels tests/data/photos/heldout.tsv [--folder .cache/photos] \\
        [--share 0.25 --share 0.5 ...] [--draws 3] [--seed 0] [--quadrant-balance B]
        [--no-neighbours]

Each source (package) is read by a fusion fitted, at the shipped fusion's cue group,
components and ridge (models/vision/scene_fusion.json), on a random share of the other sources,
drawn anew for each source and each draw; at a share of 1 it is the figure choose_ridge.py
gives at that ridge. Photographs are read as the fitting script reads them (cues, pooled
features, style, mirrored and cut copies). Whether more labelled sources would move the
figure is what the curve says: still climbing between the last shares, they would; flat, the
reader's features, not the number of sources, hold it where it is.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.config.errors import MoodcastError  # noqa: E402
from moodcast.models.vision import fusion_fit  # noqa: E402
from scripts import fit_scene_fusion as fitting  # noqa: E402

SHARES = (0.25, 0.5, 0.75, 1.0)
TRIES = 100  # draws of a share's sources until both sides of each axis are in it


def draw(others: Sequence[str], share: float, rng: random.Random, quadrants: Sequence[str],
         sources: Sequence[str]) -> list[int]:  # fmt: skip
    """The rows of a random ``share`` of ``others`` (at least one source) that hold both sides
    of each axis, so that both axes can be fitted."""
    count = max(1, round(share * len(others)))
    for _ in range(TRIES):
        keep = set(rng.sample(list(others), count))
        rows = [i for i, s in enumerate(sources) if s in keep]
        axes = fusion_fit.sides([quadrants[i] for i in rows])
        if all(0 < y.sum() < len(y) for y in axes):
            return rows
    raise MoodcastError(f"no {count} of the other sources hold both sides of each axis",
                        "label photographs of every quadrant in more sources")  # fmt: skip


def right_by_share(seen: fitting.Observed, features: Sequence[str], probe: fusion_fit.Probe,
                   ridge: float, share: float, rng: random.Random,
                   weighing: fusion_fit.Balance = fusion_fit.BALANCE,
                   ) -> NDArray[np.bool_]:  # fmt: skip
    """Whether each photograph's quadrant is read right by a fit on ``share`` of the other
    sources."""
    sources = [fusion_fit.source_of(name) for name in seen.names]
    logits = np.zeros((len(sources), 2))
    for held in sorted(set(sources)):
        others = sorted(set(sources) - {held})
        train = draw(others, share, rng, seen.quadrants, sources)
        fusion = fusion_fit.fit([seen.cues[i] for i in train], [seen.quadrants[i] for i in train],
                                features, ridge, seen.classes, {},
                                weighing, probe.subset(train))  # fmt: skip
        for i in (i for i, s in enumerate(sources) if s == held):
            logits[i] = fusion.logits(seen.cues[i], probe.looks[i])
    right: NDArray[np.bool_] = fusion_fit.right_quadrant(logits, seen.quadrants) > 0.5
    return right


def table(seen: fitting.Observed, files: list[Path], sizes: list[int], shares: list[float],
          draws: int, seed: int,
          weighing: fusion_fit.Balance = fusion_fit.BALANCE) -> str:  # fmt: skip
    """A Markdown row per share: right in each draw, their mean, and each file's part."""
    group, components, ridge = fitting.shipped_settings()
    probe = seen.looks(group, components)  # once: every draw reads the same features
    if probe is None:
        raise MoodcastError(f"the cue group {group!r} reads no pooled features",
                            "give a fusion fitted on the classifier's appearance")  # fmt: skip
    sources = len({fusion_fit.source_of(name) for name in seen.names})
    parts = " | ".join(f"{path.name} ({n}), mean" for path, n in zip(files, sizes, strict=True))
    out = [f"| share of the other {sources - 1} sources | right of {len(seen.names)}, each draw"
           f" | mean | {parts} |", "|---" * (3 + len(files)) + "|"]  # fmt: skip
    ends = np.cumsum([0, *sizes])
    for share in shares:
        rng = random.Random(f"{seed}-{share}")
        times = 1 if share == 1 else draws  # every other source: one draw is all there is
        right = np.array([right_by_share(seen, fitting.GROUPS[group], probe, ridge, share, rng,
                                         weighing) for _ in range(times)])  # fmt: skip
        each = ", ".join(str(int(r.sum())) for r in right)
        per_file = " | ".join(f"{right[:, a:b].sum(axis=1).mean():.1f}"
                              for a, b in itertools.pairwise(ends))  # fmt: skip
        out.append(f"| {share:g} | {each} | {right.sum(axis=1).mean():.1f} | {per_file} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, action="append", required=True)
    parser.add_argument("--folder", type=Path, default=ROOT / ".cache/photos")
    parser.add_argument("--share", type=float, action="append", default=[])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    fitting.weighing_options(parser)
    args = parser.parse_args()
    fitting.check_weighing(args, parser)
    shares = args.share or list(SHARES)
    if args.draws < 1 or not all(0 < s <= 1 for s in shares):  # NaN too
        parser.error("--draws must be 1 or more and every --share above 0 and at most 1")
    try:
        seen, sizes = fitting.read_pooled(args.labels, args.folder)
        if len({fusion_fit.source_of(name) for name in seen.names}) < 3:
            parser.error("the photographs come from fewer than three sources: none to draw")
        seen, weighing = fitting.weighed(seen, args)
        print(table(seen, args.labels, sizes, shares, args.draws, args.seed, weighing))
    except MoodcastError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
