"""Fit the scene reader's fusion on labelled photographs and write it into the package.

    scripts/fetch_photos.sh
    .venv/bin/python scripts/fit_scene_fusion.py [--labels tests/data/photos/train.tsv]
        [--folder .cache/photos] [--out models/vision] [--k 5] [--group NAME] [--check]
        [--on OLDER_TRAIN.tsv] [--monochrome] [--no-copies] [--no-neighbours] [--ridge R]
        [--no-nested-confidence]

Reads every photograph of the labels file with the scene reader's parts (light and colour, the
object detector and the text model's reading of what it saw, the ImageNet classifier's classes,
its pooled features of the frame, its halves and its quarters, and the frame's style
statistics, and for the groups that read the whole frame the same of each photograph's mirrored
and cut copies, fitted beside it: fusion_fit.COPIES), builds the class table (the text model's
reading of each class name), chooses the cue group (with the views of the frame the appearance
reads), the regularisation and the number of the pooled features' principal components by
repeated k-fold cross-validation (least log-loss of the tempered odds: a proper score, steadier
than accuracy on ~100 photographs), reports each choice's figures with every source (package)
held out in turn (the estimate for photographs from elsewhere), fits on the whole file (with
the table of its photographs nearest a frame, fusion_fit.MEMORY; --no-neighbours: without) and
writes scene_fusion.json with its manifest. --ridge fixes the regularisation instead of
choosing it (the components are still chosen): the k-fold rule scores fits on photographs of
sources they have seen, and scripts/choose_ridge.py chooses one with every source held out,
over more photographs than the training file. The held-out photographs
(tests/data/photos/heldout.tsv) are never read here: measure on them with 'moodcast models
evaluate-images'. --check fits and prints without writing. --monochrome fits the fusion for
frames without colour (a camera in night vision, a black-and-white one) on colourless copies of
the same photographs (scene_fusion_mono.json, beside the other in the manifest).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moodcast.config.settings import ObjectSettings  # noqa: E402
from moodcast.models.mood import load_taxonomy  # noqa: E402
from moodcast.models.readers import load_photo  # noqa: E402
from moodcast.models.text.caption_labels import quadrant_of, quadrant_recalls  # noqa: E402
from moodcast.models.text.caption_mood import CaptionMood  # noqa: E402
from moodcast.models.vision import fusion_fit  # noqa: E402
from moodcast.models.vision.classifier import SceneClassifier, packaged_files  # noqa: E402
from moodcast.models.vision.fusion import (  # noqa: E402
    FILE,
    KIND,
    MONO_FILE,
    VIEWS,
    ClassTable,
    SceneFusion,
    load_fusion,
)
from moodcast.models.vision.image_eval import LabelledImage, read_image_labels  # noqa: E402
from moodcast.models.vision.monochrome import grey  # noqa: E402
from moodcast.models.vision.objects import ObjectDetector  # noqa: E402
from moodcast.models.vision.scene import SceneReader  # noqa: E402

# Sharpness and darkness are measured but not fitted: without them the cross-validated
# accuracy was higher (0.718 against 0.709), and with them a dark, sharp starfield read tense.
LIGHT = ("brightness", "saturation", "warmth", "contrast", "colourfulness", "haze")
# "crowd": the detector's person scores summed (objects.GLIMPSE), since the round after cd04864.
OBJECTS = ("people", "crowd", "vehicles", "seen_pleasant", "seen_lively")
CLASSES = ("class_pleasant", "class_lively")
GROUPS = {"light and colour": LIGHT, "+ objects and what was seen": LIGHT + OBJECTS,
          "+ classes": LIGHT + OBJECTS + CLASSES,
          "+ appearance of the frame": LIGHT + OBJECTS + CLASSES,
          "+ appearance of the frame, and its style": LIGHT + OBJECTS + CLASSES,
          "+ appearance of the frame and its halves": LIGHT + OBJECTS + CLASSES,
          "+ appearance of the frame and its quarters": LIGHT + OBJECTS + CLASSES,
          "+ appearance of the frame and its quarters, and the frame's style":
              LIGHT + OBJECTS + CLASSES}  # fmt: skip
# The groups that read the classifier's pooled features: of which views of the frame (each
# view one more pass of the classifier: ~10 ms here, docs/scene-reader.md), and whether the
# frame's style statistics too (free: read from the frame's pass).
QUARTERS = ("top-left", "top-right", "bottom-left", "bottom-right")
APPEARANCE = {
    "+ appearance of the frame": (("frame",), False),
    "+ appearance of the frame, and its style": (("frame",), True),  # one pass: a slow board's
    "+ appearance of the frame and its halves": (("frame", "top", "bottom"), False),
    "+ appearance of the frame and its quarters": (("frame", *QUARTERS), False),
    "+ appearance of the frame and its quarters, and the frame's style":
        (("frame", *QUARTERS), True),
}  # fmt: skip


def class_table(text: CaptionMood, names: tuple[str, ...], labels_sha256: str) -> ClassTable:
    """The text model's P(pleasant) and P(lively) for each class name, read as a caption."""
    odds = np.array([text.va.probabilities(text.embed(f"a {name}"))[0] for name in names])
    return ClassTable(odds[:, 0].astype(np.float64), odds[:, 1].astype(np.float64), labels_sha256)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Observed:
    """What the reader's parts made of every labelled photograph."""

    cues: list[dict[str, float]]
    quadrants: list[str]
    names: list[str]
    classes: ClassTable
    described: list[str]
    # The pooled features of every view, then the frame's style (components chosen later).
    probe: fusion_fit.Probe
    # The whole frame's pooled features and style under each of fusion_fit.COPIES (none: the
    # photographs alone), fitted beside the photographs by the groups that read the frame.
    copies: tuple[fusion_fit.Looks, ...] = ()
    # The table of nearest photographs each fit of an appearance group builds (None: none).
    memory: fusion_fit.Memory | None = fusion_fit.MEMORY

    def looks(self, group: str, components: int) -> fusion_fit.Probe | None:
        """The group's views of the pooled features (and the frame's style) at
        ``components`` (None: not read)."""
        if group not in APPEARANCE or not components:
            return None
        views, style = APPEARANCE[group]
        every = self.probe.style
        size = (len(self.probe.looks[0]) - every) // len(VIEWS)
        keep = [np.arange(size) + size * VIEWS.index(v) for v in views]
        if style:
            keep.append(np.arange(every) + size * len(VIEWS))
        rows = np.concatenate(keep)
        # The copies hold the whole frame's features only: the groups that read its halves or
        # quarters are fitted on the photographs alone.
        copies: tuple[fusion_fit.Looks, ...] = ()
        if views == ("frame",):
            own = np.concatenate([np.arange(size)] + ([np.arange(every) + size] if style else []))
            copies = tuple([look[own] for look in copy] for copy in self.copies)
        return fusion_fit.Probe([look[rows] for look in self.probe.looks], components,
                                self.probe.model_sha256, views, every if style else 0,
                                copies, self.memory)  # fmt: skip


def read_cues(args: argparse.Namespace, text: CaptionMood,
              rows: Sequence[LabelledImage] | None = None) -> Observed:  # fmt: skip
    """The cues of every labelled photograph (``rows``, or those of ``args.labels``), their
    quadrants and names, the class table, what the reader described on each and the
    classifier's pooled features."""
    taxonomy = text.taxonomy
    classifier = SceneClassifier()
    _, labels_path = packaged_files()
    classes = class_table(text, classifier.labels, sha256(labels_path))
    if rows is None:
        rows = read_image_labels(args.labels, args.folder)
    cues: list[dict[str, float]] = []
    described: list[str] = []
    looks: list[Any] = []
    copied: list[list[Any]] = [[] for _ in fusion_fit.COPIES if args.copies]
    detector = ObjectDetector(ObjectSettings())  # stateless: loaded once, not per photograph
    for row in rows:  # a reader each, so no photograph is read against the one before it
        reader = SceneReader(taxonomy, detector, text=text, classifier=classifier)
        frame = load_photo(row.file)
        if args.monochrome:  # as a night-vision or black-and-white camera gives it
            frame = grey(frame)
        cues.append(reader.observe(frame, classes=classes, described=described,
                                   looks=looks, views=VIEWS, style=True))  # fmt: skip
        prepared = reader.prepare(frame).frame  # what the classifier read: bars cut, masks filled
        for name, copy in zip(fusion_fit.COPIES, copied, strict=False):
            seen = classifier.look(fusion_fit.copy_of(prepared, name), style=True)
            copy.append(None if seen.appearance is None or seen.style is None
                        else np.concatenate([seen.appearance, seen.style]))  # fmt: skip
    if any(look is None for look in looks) or any(c is None for copy in copied for c in copy):
        sys.exit("the classifier gave no pooled features: is ai-edge-litert installed?")
    quadrants = [r.quadrant for r in rows]
    names = [str(r.file.relative_to(args.folder)) for r in rows]
    if args.dump:
        args.dump.write_text(json.dumps({"names": names, "quadrants": quadrants, "cues": cues,
                                         "people": [r.people for r in rows],
                                         "described": described}))  # fmt: skip
    probe = fusion_fit.Probe(looks, 0, classifier.model_sha256, VIEWS, classifier.style_size)
    # Without colour the table read no better (docs/scene-reader.md, the round after 4e4e6c3).
    memory = fusion_fit.MEMORY if args.neighbours and not args.monochrome else None
    return Observed(cues, quadrants, names, classes, described, probe, tuple(copied), memory)


def read_pooled(files: Sequence[Path], folder: Path) -> tuple[Observed, list[int]]:
    """Every photograph of the labels ``files`` read as the fit reads them (copies too), in
    the files' order, and how many each file has; each file's own errors name its own lines,
    before any reading (MoodcastError)."""
    rows: list[LabelledImage] = []
    sizes = []
    for path in files:
        part = read_image_labels(path, folder)
        rows += part
        sizes.append(len(part))
    read = argparse.Namespace(labels=None, folder=folder, monochrome=False, copies=True,
                              dump=None, neighbours=True)  # fmt: skip
    return read_cues(read, CaptionMood(None, load_taxonomy("cowen13")), rows), sizes


def weighing_options(parser: argparse.ArgumentParser) -> None:
    """The options for fits weighed and built otherwise than by default: this script's, and
    the measuring scripts' to compare with the shipped way on the same photographs."""
    parser.add_argument("--quadrant-balance", type=float, default=fusion_fit.BALANCE.quadrants,
                        help="each quadrant, on top of each axis's sides: 0 as the set has it,"
                             " 1 equal (default %(default)s)")  # fmt: skip
    parser.add_argument("--no-neighbours", dest="neighbours", action="store_false",
                        help="fit without the table of the photographs nearest a frame (the"
                             " fits before the round after 2ce1c00; a monochrome fit never"
                             " has it: it read no better there)")  # fmt: skip


def check_weighing(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Refuse a weighing out of range as soon as the options are parsed, before the
    photographs are read (minutes)."""
    check_share(parser, "--quadrant-balance", args.quadrant_balance)


def check_share(parser: argparse.ArgumentParser, option: str, value: float) -> None:
    """A weighing is a share of the way from the set's own mix (0) to equal (1)."""
    if not 0.0 <= value <= 1.0:  # NaN too
        parser.error(f"{option} {value} is not between 0 and 1"
                     " (0: weigh as the set has them, 1: equal)")  # fmt: skip


def weighed(seen: Observed, args: argparse.Namespace) -> tuple[Observed, fusion_fit.Balance]:
    """The photographs read, with the table of nearest photographs or without, and the
    weighing the options ask for (checked by check_weighing when they were parsed)."""
    memory = seen.memory if args.neighbours else None
    return (dataclasses.replace(seen, memory=memory),
            fusion_fit.Balance(fusion_fit.BALANCE.sides, args.quadrant_balance))  # fmt: skip


def shipped_settings() -> tuple[str, int, float]:
    """The shipped fusion's cue group, components and ridge, as its training recorded them
    (MoodcastError when the fusion does not match its manifest)."""
    training = load_fusion().training
    return str(training["cues"]), int(training["components"]), float(training["ridge"])


def choose(seen: Observed, args: argparse.Namespace,
           ) -> tuple[str, dict[str, Any], dict[str, fusion_fit.BySource]]:  # fmt: skip
    """The cue group, ridge (unless given) and components with the least cross-validated
    log-loss, the figures of each group's best, and the same fits' figures with each source
    (package) held out in turn: the estimate for photographs from elsewhere."""
    results, unseen = {}, {}
    ridges = (args.ridge,) if args.ridge else fusion_fit.RIDGES
    for group, features in GROUPS.items():
        if args.group and group != args.group:  # one group asked for: a slow board's
            continue
        trials = list(fusion_fit.COMPONENTS) if group in APPEARANCE else [0]
        best = min((fusion_fit.cross_validate(
                        seen.cues, seen.quadrants, seen.names, features, ridge, seen.classes,
                        args.k, args.weighing, seen.looks(group, c), args.repeats)
                    for ridge in ridges for c in trials),
                   key=lambda cv: (round(cv.log_loss, 4), -cv.ridge))  # fmt: skip
        results[group] = best
        more = f", {best.components} components" if best.components else ""
        print(f"  {group}: log-loss {best.log_loss:.3f}, quadrant {best.quadrant:.3f}"
              f" (valence {best.valence:.3f}, arousal {best.arousal:.3f})"
              f" at ridge {best.ridge}{more}")  # fmt: skip
        u = fusion_fit.by_source(
            seen.cues, seen.quadrants, seen.names, features, best.ridge, seen.classes,
            args.weighing, seen.looks(group, best.components))  # fmt: skip
        if u is None:
            print("    one source: none to hold out (no figures for photographs from elsewhere)")
            continue
        unseen[group] = u
        print(f"    each of {u.sources} sources held out in turn: log-loss {u.log_loss:.3f},"
              f" quadrant {u.quadrant:.3f} (valence {u.valence:.3f}, arousal {u.arousal:.3f}),"
              f" unpleasant read unpleasant {u.unpleasant_read_unpleasant:.3f},"
              f" mean of the quadrants' recalls {u.mean_recall:.3f} ("
              + ", ".join(f"{q} {r:.2f}" for q, r in u.recalls.items()) + ")")  # fmt: skip
    # On a tie, the group with more kinds of evidence (less riding on colour alone, which is
    # what misread real scenes before).
    group = min(results, key=lambda g: (round(results[g].log_loss, 3), -list(GROUPS).index(g)))
    print(f"chosen: {group}, ridge {results[group].ridge}")
    if group in unseen:  # which sources a fit without them reads worst
        print("  each source held out, right of its photographs: " + ", ".join(
            f"{s} {r}/{n}" for s, (n, r) in unseen[group].per_source.items()))  # fmt: skip
        for labels in args.on:
            print(on_photographs(unseen[group], seen, labels, args.folder))
    return group, results, unseen


def on_photographs(unseen: fusion_fit.BySource, seen: Observed, labels: Path,
                   folder: Path) -> str:  # fmt: skip
    """The by-source figures on the photographs of another labels file only: a training file
    grown by photographs of the same sources compared with the old one on the same photographs
    (per-source sums cannot, when a source has photographs in both)."""
    wanted = {str(r.file.relative_to(folder)) for r in read_image_labels(labels, folder)}
    rows = [i for i, name in enumerate(seen.names) if name in wanted]
    if not rows:
        return f"  {labels}: none of its photographs is in this training file"
    quadrants = [seen.quadrants[i] for i in rows]
    right = fusion_fit.right_quadrant(unseen.logits[rows], quadrants) > 0.5
    recall = quadrant_recalls(quadrants, right)
    return (f"  each source held out, on the {len(rows)} photographs of {labels} (of"
            f" {len(wanted)}): {int(right.sum())} right, quadrant {right.mean():.3f}, mean of"
            f" the quadrants' recalls {np.mean(list(recall.values())):.3f}")  # fmt: skip


def options() -> argparse.Namespace:
    """The command line, checked before any photograph is read (minutes)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, default=ROOT / "tests/data/photos/train.tsv")
    parser.add_argument("--folder", type=Path, default=ROOT / ".cache/photos")
    parser.add_argument("--out", type=Path, default=ROOT / "models/vision")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=fusion_fit.SPLITS,
                        help="k-fold splits averaged over (default %(default)s)")  # fmt: skip
    parser.add_argument(
        "--balance",
        type=float,
        default=fusion_fit.BALANCE.sides,
        help="each axis's sides: 0 weigh as the set has them, 1 equal (default %(default)s)",
    )
    parser.add_argument("--group", choices=list(GROUPS),
                        help="fit this cue group only, e.g. '+ appearance of the frame, and its"
                             " style' (one pass of the classifier) for a slow board")  # fmt: skip
    parser.add_argument("--ridge", type=float,
                        help="fit at this ridge instead of choosing one by k-fold log-loss (a"
                             " ridge chosen with other sources held out: scripts/"
                             "choose_ridge.py)")  # fmt: skip
    parser.add_argument("--dump", type=Path, help="also write the cues read, as JSON")
    parser.add_argument("--on", type=Path, action="append", default=[],
                        help="also give the by-source figures on this labels file's photographs"
                             " alone (an older training file; repeatable)")  # fmt: skip
    parser.add_argument(
        "--monochrome",
        action="store_true",
        help="fit the fusion for frames without colour (night vision, black and"
        f" white) on colourless copies of the photographs: {MONO_FILE}",
    )
    parser.add_argument("--no-copies", dest="copies", action="store_false",
                        help="fit on the photographs alone, not also on their mirrored and cut"
                             " copies (the fits before the round after 314b3cd; always so"
                             " with --monochrome, where the copies did not help)")  # fmt: skip
    weighing_options(parser)  # --quadrant-balance, --no-neighbours: as the measuring scripts
    parser.add_argument("--confidence-balance", type=float,
                        default=fusion_fit.BALANCE.confidence,
                        help="each quadrant in the confidence curve's readings: 0 as the set"
                             " has it (the fits before the round after a773cee), 1 equal"
                             " (default %(default)s)")  # fmt: skip
    parser.add_argument("--no-nested-confidence", dest="nested", action="store_false",
                        help="skip the figure of how the confidence holds on sources the fit"
                             " never saw (each read by a fusion fitted and calibrated on the"
                             " others: an hour and a half here); the file says it was not"
                             " measured")  # fmt: skip
    parser.add_argument("--check", action="store_true", help="fit and print, write nothing")
    args = parser.parse_args()
    check_share(parser, "--balance", args.balance)
    check_weighing(args, parser)
    check_share(parser, "--confidence-balance", args.confidence_balance)
    if args.ridge is not None and not args.ridge > 0:  # NaN too
        parser.error(f"--ridge {args.ridge} is not above 0 (the larger, the smoother the fit)")
    args.weighing = fusion_fit.Balance(args.balance, args.quadrant_balance,
                                       args.confidence_balance)  # fmt: skip
    # Colourless copies fitted beside the photographs read no better, each source held out
    # (log-loss 0.795 against 0.790; docs/scene-reader.md): the photographs alone.
    args.copies = args.copies and not args.monochrome
    return args


def main() -> None:
    args = options()
    text = CaptionMood(None, load_taxonomy("cowen13"))  # read once, for the cues and the names
    seen = read_cues(args, text)
    cues, quadrants = seen.cues, seen.quadrants
    n = len(cues)
    print(f"{n} photographs from {args.labels}; {args.k}-fold cross-validation,"
          f" {args.repeats} splits")  # fmt: skip
    group, results, unseen = choose(seen, args)
    ridge, components = results[group].ridge, results[group].components
    probe = seen.looks(group, components)
    training = {
        "labels": str(args.labels.relative_to(ROOT)) if args.labels.is_relative_to(ROOT)
        else str(args.labels), "labels_sha256": sha256(args.labels), "photographs": n,
        "k": args.k, "repeats": args.repeats,
        "chosen_by": "least log-loss" + (", ridge given" if args.ridge else ""),
        "cross_validation": {g: cv.to_dict() for g, cv in results.items()},
        "by_source": {g: u.to_dict() for g, u in unseen.items()},
        "ridge": ridge, "cues": group, "balance": args.balance,
        "quadrant_balance": args.quadrant_balance, "components": components,
        "text_phrase": "a {class name}",
        "copies": list(fusion_fit.COPIES) if probe is not None and probe.copies else [],
        "neighbours": None if probe is None or probe.memory is None
        else dataclasses.asdict(probe.memory),
        "frames": "monochrome" if args.monochrome else "colour",
    }  # fmt: skip
    confident = None
    if args.nested:
        confident = fusion_fit.by_source_confidence(
            cues, quadrants, seen.names, GROUPS[group], ridge, seen.classes, args.k,
            args.weighing, probe)  # fmt: skip
    if confident is not None:
        print(f"  each source read by a fusion fitted and calibrated on the others:"
              f" {confident.readings} readings at >= 0.75, {confident.right:.3f} right"
              f" ({confident.right_each_quadrant_alike:.3f} with each quadrant"
              f" equally often)")  # fmt: skip
    nested: str | dict[str, Any] | None = None  # one source: none to hold out
    if not args.nested:
        nested = "not measured (--no-nested-confidence)"
    elif confident is not None:
        nested = {
            "readings_at_0.75": confident.readings,
            "right": round(confident.right, 4),
            "right_each_quadrant_alike": round(confident.right_each_quadrant_alike, 4),
        }
    training["by_source_confidence"] = nested
    logits = results[group].logits  # the chosen fit's out-of-fold logits, not fitted again
    pleasant, lively = fusion_fit.sides(quadrants)
    factors = (fusion_fit.temperature(logits[:, 0], pleasant),
               fusion_fit.temperature(logits[:, 1], lively))  # fmt: skip
    how = "each source held out" if group in unseen else "k-fold (one source: none to hold out)"
    training["calibration"] = {"valence": round(factors[0], 3), "arousal": round(factors[1], 3),
                               "confidence_from": how,
                               "confidence_balance": args.confidence_balance}  # fmt: skip
    fusion = fusion_fit.fit(cues, quadrants, GROUPS[group], ridge, seen.classes, training,
                            args.weighing, probe)  # fmt: skip
    # The temperature from the stratified folds (the probabilities' best fit); the confidence
    # from each source read by a fit without it (how sure a reading from elsewhere may be).
    sources = fusion_fit.confidence_logits(unseen.get(group), logits)
    fusion = fusion_fit.calibrated(fusion, factors, sources, quadrants, args.weighing)
    chosen_looks = [None] * n if probe is None else list(probe.looks)
    fusion = named_spread(fusion, cues, seen.described, chosen_looks, text)
    report(fusion, factors, sources, quadrants, how)
    if not args.check:
        write(fusion, args.out, MONO_FILE if args.monochrome else FILE)


def named_spread(fusion: SceneFusion, cues: list[dict[str, float]], described: list[str],
                 looks: list[Any], text: CaptionMood) -> SceneFusion:  # fmt: skip
    """The fusion with its training photographs' descriptions and the centring that names
    their moods most evenly (fusion_fit.centring)."""
    taxonomy = text.taxonomy
    homes = [quadrant_of(m.valence, m.arousal) for m in taxonomy.moods]
    rows, read_as = [], []
    for found, description, look in zip(cues, described, looks, strict=True):
        if description:
            rows.append(text.vocabulary.similarity(text.embed(description)))
            p_pleasant, p_lively = fusion.odds(found, look)
            read_as.append(quadrant_of(p_pleasant - 0.5, p_lively - 0.5))
    weight = fusion_fit.centring(np.array(rows), homes, read_as)
    print(f"named moods: centring {weight} (of each mood's mean similarity)")
    kept = tuple(sorted(set(described) - {""}))
    return dataclasses.replace(fusion, described=kept, centring=weight)


def report(fusion: SceneFusion, factors: tuple[float, float], logits: Any,
           quadrants: list[str], how: str) -> None:  # fmt: skip
    print(f"calibration: logits times {factors[0]:.2f} (valence), {factors[1]:.2f} (arousal)")
    print(f"  confidence band, {how}: readings, right quadrant")
    scaled = logits * np.array(factors)
    said = np.interp(fusion_fit.top_quadrant(scaled), fusion.confidence_at, fusion.confidence_is)
    for low, high, count, right in fusion_fit.bands(
        said, fusion_fit.right_quadrant(scaled, quadrants)
    ):
        print(f"    {low:.2f}-{high:.2f}: {count}, {right:.3f}")
    for axis, model in (("valence", fusion.valence), ("arousal", fusion.arousal)):
        ranked = sorted(zip(fusion.features, model.weights, strict=True), key=lambda f: -abs(f[1]))
        print(f"  {axis}: " + ", ".join(f"{f} {w:+.2f}" for f, w in ranked[:6]))


def write(fusion: SceneFusion, out: Path, name: str = FILE) -> None:
    """The fusion as ``name`` in ``out``, and its line in the manifest (the other fusion's
    line, colour or monochrome, kept where it still matches its file)."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / name
    target.write_text(json.dumps(fusion.to_json(), indent=1) + "\n", "utf-8")
    files: Any = {}
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):  # none yet: afresh
        files = json.loads((out / "manifest.json").read_text("utf-8"))["files"]
    files = (
        {
            f: entry
            for f, entry in files.items()
            if f in (FILE, MONO_FILE)
            and f != name
            and isinstance(entry, dict)
            and (out / f).is_file()
            and entry.get("sha256") == sha256(out / f)
        }
        if isinstance(files, dict)
        else {}
    )
    files[name] = {"sha256": sha256(target)}
    manifest = {"kind": KIND, "files": dict(sorted(files.items())),
                "source": "fitted by scripts/fit_scene_fusion.py on labelled photographs"
                          " from Debian, PyPI and npm packages"
                          " (tests/data/photos/sources.tsv); the monochrome one on colourless"
                          " copies of them"}  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    print(f"wrote {target} and its manifest")


if __name__ == "__main__":
    main()
