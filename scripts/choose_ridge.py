"""Which ridge reads photographs of sources a fit has not seen best: each source held out.

    .venv/bin/python scripts/choose_ridge.py --labels tests/data/photos/train.tsv \\
        --labels OTHER.tsv [--folder .cache/photos] [--components N] [--ridge 30 ...]
        [--quadrant-balance B] [--no-neighbours]

``fit_scene_fusion.py`` chooses its ridge by repeated k-fold log-loss, whose folds put
photographs of one package on both sides of a split: it scores fits on sources they have seen.
On the training file alone that rule is flat between ridges of 30 and 100 (docs/
scene-reader.md, "The round after d3ebdc6"). This script pools the labels files given (the
training file and photographs of more sources, read here but never fitted into the shipped
fusion), reads every photograph as the fitting script does (its cues, the classifier's pooled
features and style, the mirrored and cut copies), and for each ridge reads each source by a
fit on all the others (``fusion_fit.by_source``, the shipped fusion's cue group, components
unless given, and weighing): right,
log-loss, the mean of the quadrants' recalls, and right on each file's part. The ridge with
the least log-loss is the one to give ``fit_scene_fusion.py --ridge``; a labels file used to
choose is no longer a clean test of that choice, so keep another out.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.config.errors import MoodcastError  # noqa: E402
from moodcast.models.vision import fusion_fit  # noqa: E402
from scripts import fit_scene_fusion as fitting  # noqa: E402

RIDGES = (10.0, 30.0, 60.0, 100.0, 200.0)


def table(seen: fitting.Observed, files: list[Path], sizes: list[int], group: str,
          components: int, ridges: list[float], weighing: fusion_fit.Balance) -> str:  # fmt: skip
    """A Markdown row per ridge: each source held out, over all and per file."""
    parts = " | ".join(f"right of {path.name} ({n})" for path, n in zip(files, sizes, strict=True))
    out = [f"| ridge | right of {len(seen.names)} | log-loss | mean of the quadrants' recalls"
           f" | {parts} |", "|---" * (4 + len(files)) + "|"]  # fmt: skip
    probe = seen.looks(group, components)
    for ridge in ridges:
        u = fusion_fit.by_source(seen.cues, seen.quadrants, seen.names, fitting.GROUPS[group],
                                 ridge, seen.classes, weighing, probe)  # fmt: skip
        if u is None:
            sys.exit("choose_ridge: the photographs come from one source: none to hold out")
        right = fusion_fit.right_quadrant(u.logits, seen.quadrants) > 0.5
        ends = np.cumsum([0, *sizes])
        each = " | ".join(str(int(right[a:b].sum())) for a, b in itertools.pairwise(ends))
        out.append(f"| {ridge:g} | {int(right.sum())} | {u.log_loss:.4f} | {u.mean_recall:.3f}"
                   f" | {each} |")  # fmt: skip
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, action="append", required=True)
    parser.add_argument("--folder", type=Path, default=ROOT / ".cache/photos")
    parser.add_argument("--components", type=int,
                        help="the pooled features' principal components (default: the shipped"
                             " fusion's)")  # fmt: skip
    parser.add_argument("--ridge", type=float, action="append", default=[])
    fitting.weighing_options(parser)
    args = parser.parse_args()
    fitting.check_weighing(args, parser)
    ridges = args.ridge or list(RIDGES)
    if (args.components is not None and args.components < 1) or not all(r > 0 for r in ridges):
        parser.error("--components must be 1 or more and every --ridge above 0")  # NaN too
    try:
        group, components, _ = fitting.shipped_settings()
        seen, sizes = fitting.read_pooled(args.labels, args.folder)
    except MoodcastError as error:
        parser.error(str(error))
    components = components if args.components is None else args.components
    seen, weighing = fitting.weighed(seen, args)
    print(table(seen, args.labels, sizes, group, components, ridges, weighing))


if __name__ == "__main__":
    main()
