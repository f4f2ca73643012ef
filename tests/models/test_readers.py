"""Building the configured reader: one text model serves the caption and what was seen."""

from __future__ import annotations

import shutil
from pathlib import Path

from moodcast.config.settings import load_config
from moodcast.models.readers import active_taxonomy, build_reader_or_scene


def test_the_built_in_text_model_is_loaded_once_for_caption_and_scene(tiny_models, tmp_path):
    blip_only = tmp_path / "blip"
    blip_only.mkdir()
    for path in tiny_models.iterdir():  # the export without its own text model
        if path.is_file() and not path.name.startswith("text"):
            shutil.copy(path, blip_only / path.name)
    config = load_config(None, {"reader.kind": "fused", "reader.models_dir": str(blip_only)})
    reader, problem = build_reader_or_scene(config, active_taxonomy(config))
    assert problem == ""
    scene = reader.scene  # type: ignore[attr-defined]
    assert scene.text is not None and reader.text is scene.text  # type: ignore[attr-defined]
    assert "object detector" in scene.counter_detail


def test_an_export_with_its_own_text_model_keeps_it(tiny_models: Path) -> None:
    from moodcast.models.text.caption_mood import text_model_dir

    config = load_config(None, {"reader.kind": "fused", "reader.models_dir": str(tiny_models)})
    reader, _ = build_reader_or_scene(config, active_taxonomy(config))
    own = text_model_dir(tiny_models) != text_model_dir(None)
    shared = reader.text is reader.scene.text  # type: ignore[attr-defined]
    assert shared is not own
