"""Building the configured frame reader behind one small interface."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

from moodcast.config.errors import MoodcastError
from moodcast.config.files import NotARegularFileError, is_there, read_regular
from moodcast.config.settings import MoodcastConfig
from moodcast.models.mood import MoodEstimate, Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from moodcast.models.text.caption_mood import CaptionMood
    from moodcast.models.vision.classifier import SceneClassifier
    from moodcast.models.vision.fusion import Appearance, SceneFusion
    from moodcast.models.vision.scene import SceneReader, ThingCounter


class MoodReader(Protocol):
    """Reads one frame (and the previous one, for motion) into a mood estimate."""

    taxonomy: Taxonomy

    def read(
        self, frame: NDArray[np.uint8], previous: NDArray[np.uint8] | None = None
    ) -> MoodEstimate: ...


def active_taxonomy(config: MoodcastConfig) -> Taxonomy:
    """The configured taxonomy without its forbidden moods (the config's mood names were
    checked against it by ``load_config``: ``config.moods``)."""
    from moodcast.models import response

    full = load_taxonomy(config.mood.taxonomy)
    return full.without(response.forbidden(config.mood, full))


def thing_counter(config: MoodcastConfig) -> tuple[ThingCounter | None, str]:
    """The object detector when it is on and installed, else HOG's people count, else none;
    and a line saying which and why (for doctor and the state)."""
    from moodcast.models.vision.scene import PeopleCounter

    r = config.reader
    if not r.people_detection:
        return None, "no people count (reader.people_detection: false)"
    if r.objects.enabled:
        from moodcast.models.vision.objects import ObjectDetector

        try:
            return ObjectDetector(
                r.objects
            ), f"object detector (SSD-MobileNet-v2 COCO, {r.objects.input_size} px)"
        except MoodcastError as exc:
            logger.warning("object detector unavailable, counting people with HOG: %s", exc)
            return PeopleCounter(), f"HOG people count: the object detector is unavailable ({exc})"
    return PeopleCounter(), "HOG people count (reader.objects.enabled: false)"


def _scene_reader(config: MoodcastConfig, taxonomy: Taxonomy) -> SceneReader:

    reader, _ = _scene_reader_and_problem(config, taxonomy)
    return reader


def _scene_reader_and_problem(
    config: MoodcastConfig, taxonomy: Taxonomy
) -> tuple[SceneReader, str]:
    """The scene reader, and what keeps it from being as configured ('' when nothing does)."""
    from moodcast.models.vision.objects import ObjectDetector
    from moodcast.models.vision.scene import SceneReader

    counter, detail = thing_counter(config)
    text = None
    if isinstance(counter, ObjectDetector) and config.reader.objects.describe:
        text = _text_reader(config, taxonomy)
    problem = detail if detail.startswith("HOG people count: the object detector") else ""
    fusion, classifier, models, trouble = _fusion_parts(config)
    mono, mono_detail, mono_trouble = (None, "", "") if fusion is None else _mono_fusion(classifier)
    problem = "; ".join(filter(None, (problem, trouble, mono_trouble)))
    scene = SceneReader(taxonomy, counter, text=text, classifier=classifier, fusion=fusion,
                        mono=mono)  # fmt: skip
    scene.counter_detail = detail
    scene.models_detail = "; ".join(filter(None, (models, mono_detail)))
    if mono_trouble:
        scene.mono_detail = mono_trouble
    return scene, problem


def _mono_fusion(classifier: SceneClassifier | None) -> tuple[SceneFusion | None, str, str]:
    """The fusion for frames without colour (night vision), a line for doctor, and what keeps
    it from use ('' when nothing does: for the state). Without it such frames are read by the
    colour fusion at a quarter of its confidence (it reads them gloomy)."""
    from moodcast.models.vision.fusion import MONO_FILE, load_fusion

    try:
        mono = load_fusion(name=MONO_FILE)
    except MoodcastError as exc:
        trouble = f"colourless frames (night vision) read by the colour fusion: {exc}"
        logger.warning("%s", trouble)
        return None, trouble, trouble
    look = mono.appearance
    if look is not None and (classifier is None or not _appearance_fits(look, classifier)):
        mono = replace(mono, appearance=None)  # the classes and cues still read
        how = "without the classifier's appearance"
    else:
        how = "with the classifier's appearance" if look is not None else "of the cues"
    return mono, f"colourless frames (night vision): fusion fitted on colourless copies, {how}", ""


def _appearance_fits(look: Appearance, classifier: SceneClassifier) -> bool:
    """Whether the classifier gives the pooled features and style statistics ``look`` was
    fitted on (same graph, same sizes)."""
    return (look.style in (0, classifier.style_size)
            and classifier.appearance_size * len(look.views) + look.style == len(look.valence)
            and look.model_sha256 == classifier.model_sha256)  # fmt: skip


def _fusion_parts(
    config: MoodcastConfig,
) -> tuple[SceneFusion | None, SceneClassifier | None, str, str]:
    """The fitted fusion and the classifier it reads, each when configured and usable; a line
    saying which are in use and why (for doctor), and what keeps them from being as configured
    ('' when nothing does: for the state)."""
    from moodcast.models.vision.fusion import load_fusion

    r = config.reader
    if r.fusion == "hand-set":
        return None, None, "hand-set weights (reader.fusion: hand-set)", ""
    try:
        fusion = load_fusion()
    except MoodcastError as exc:
        logger.warning("the fitted scene fusion cannot be used, reading with hand-set weights: %s",
                       exc)  # fmt: skip
        detail = f"hand-set weights: the fitted fusion is unavailable ({exc})"
        return None, None, detail, detail
    cues = fusion.training.get("cues", "fitted cues")
    if not any(f.startswith("class_") for f in fusion.features) and fusion.appearance is None:
        return fusion, None, f"fitted fusion ({cues}); the classifier is not read by it", ""
    if not r.classifier:
        detail = f"fitted fusion ({cues}) without the classifier (reader.classifier: false)"
        return fusion, None, detail, ""
    from moodcast.models.vision.classifier import SceneClassifier

    try:
        classifier = SceneClassifier(r.threads, appearance=fusion.appearance is not None)
    except MoodcastError as exc:
        logger.warning("the scene classifier is unavailable, reading without it: %s", exc)
        detail = f"fitted fusion ({cues}) without the classifier: {exc}"
        return fusion, None, detail, detail
    if classifier.labels_sha256 != fusion.classes.labels_sha256:  # the table stored, now checked
        detail = (f"fitted fusion ({cues}) without the classifier: its class names are not the"
                  " ones the fusion's class table was read for (fit the fusion again)")  # fmt: skip
        logger.warning("%s", detail)
        return fusion, None, detail, detail
    look = fusion.appearance
    if look is not None and not _appearance_fits(look, classifier):
        detail = (f"fitted fusion ({cues}) with EfficientNet-Lite3: classes, without its"
                  " appearance: the classifier's pooled features or style statistics are"
                  " missing, of another size or from another graph than the fusion was fitted"
                  " on (fit the fusion again)")  # fmt: skip
        logger.warning("%s", detail)
        return replace(fusion, appearance=None), classifier, detail, detail
    what = "classes"
    if look is not None:
        style = "; the frame's style" if look.style else ""
        what = f"classes and appearance ({', '.join(look.views)}{style})"
    return fusion, classifier, f"fitted fusion ({cues}) with EfficientNet-Lite3: {what}", ""


def _text_reader(config: MoodcastConfig, taxonomy: Taxonomy) -> CaptionMood | None:
    """The built-in text model, for reading what the detector saw; None when it cannot load."""
    from moodcast.models.text.caption_mood import CaptionMood

    r = config.reader
    try:
        return CaptionMood(None, taxonomy, "int8", r.threads, r.providers)
    except (MoodcastError, ImportError) as exc:
        logger.warning("what was seen is not read as text: %s", exc)
        return None


def build_reader(config: MoodcastConfig, taxonomy: Taxonomy, *,
                 photographs: bool = False) -> MoodReader:  # fmt: skip
    """The configured reader; raises MoodcastError when caption models cannot be used.
    ``photographs``: it reads photographs, not a camera's frames, so a frame without colour
    is a black-and-white photograph (read as one) rather than a camera in night vision."""
    scene = _scene_reader(config, taxonomy)
    if photographs:
        scene.colourless_as = "photograph"
    return scene if config.reader.kind == "scene" else _caption_reader(config, taxonomy, scene)


def _caption_reader(config: MoodcastConfig, taxonomy: Taxonomy, scene: SceneReader) -> MoodReader:
    from moodcast.models.text.caption_mood import CaptionMood, text_model_dir
    from moodcast.models.vision.caption_reader import CaptionReader
    from moodcast.models.vision.captioner import BlipCaptioner

    r = config.reader
    if r.models_dir is None:
        raise MoodcastError(
            f"reader.kind {r.kind!r} needs reader.models_dir",
            "run 'moodcast models export --out DIR' and set reader.models_dir (or --models DIR)",
        )
    captioner = BlipCaptioner(r.models_dir, r.precision, r.threads, r.providers, r.prompt)
    shared = scene.text  # the built-in model the scene reader already loaded
    if (
        shared is not None
        and r.precision == "int8"
        and (text_model_dir(r.models_dir) == text_model_dir(None))
    ):
        text = shared
    else:
        text = CaptionMood(r.models_dir, taxonomy, r.precision, r.threads, r.providers)
    weight = 1.0 if r.kind == "caption" else r.caption_weight
    return CaptionReader(captioner, text, scene, weight)


def build_reader_or_scene(config: MoodcastConfig, taxonomy: Taxonomy) -> tuple[MoodReader, str]:
    """The configured reader, or a fallback with the reason when that is impossible (the
    scene reader for the caption reader, HOG for the object detector)."""
    scene, problem = _scene_reader_and_problem(config, taxonomy)
    if config.reader.kind == "scene":
        return scene, problem
    try:
        return _caption_reader(config, taxonomy, scene), problem
    except MoodcastError as exc:
        why = f"{config.reader.kind} reader unavailable ({exc}); using the scene reader"
        return scene, "; ".join(p for p in (why, problem) if p)


def load_photo(path: Path) -> NDArray[np.uint8]:
    """A photo as a BGR array, or an error that says why it cannot be read. Only a regular
    file of at most ``MAX_PHOTO_BYTES`` is read: a video or a disk image named by mistake
    was read whole into memory (1.6 GB resident for a 1.5 GB file), and a FIFO or a device
    was said not to exist."""
    from moodcast.models.vision.frames import MAX_PHOTO_BYTES, decode_image

    fix = "give the path of a JPEG or PNG file"
    if is_there(path, folder=True):
        raise MoodcastError(f"photo {path} is a folder", fix)
    try:
        data = read_regular(path, MAX_PHOTO_BYTES, "photo")
    except FileNotFoundError:
        raise MoodcastError(f"photo {path} does not exist", fix) from None
    except NotARegularFileError as exc:
        _refuse_a_video(path)  # a clip over the size a photograph may have
        raise MoodcastError(
            f"photo {path} is {exc.strerror}",
            f"a photograph is a JPEG or PNG file of at most"
            f" {MAX_PHOTO_BYTES >> 20} MB (scale a bigger one down)",
        ) from None
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise MoodcastError(f"photo {path}: {why}", "check the path given") from None
    return decode_image(data, str(path))


def _refuse_a_video(path: Path) -> None:
    """Say it is a video, and where one goes, when ``path`` is a regular file whose first
    bytes say so; nothing otherwise."""
    from moodcast.models.vision.frames import refuse_a_video

    try:
        if not path.is_file():
            return
        with path.open("rb") as file:
            head = file.read(16)
    except OSError:
        return
    refuse_a_video(head, str(path))


def reader_overrides(kind: str | None, models_dir: Path | None) -> dict[str, str]:
    """Config overrides (dotted keys) for the CLI's --reader and --models flags."""
    overrides = {}
    if kind:
        overrides["reader.kind"] = kind
    if models_dir:
        overrides["reader.models_dir"] = str(models_dir)
    return overrides
