from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_caption_sessions_share_one_pool_and_later_sessions_still_open(tiny_models) -> None:
    """In a fresh process: once the caption reader shares threads, every session must (ORT);
    the caption graphs share one arena, and a second captioner reuses both."""
    script = textwrap.dedent(f"""
        import os
        from moodcast.models.onnx_runtime import session_options, share_threads
        assert session_options(3).intra_op_num_threads == 3   # no shared pool yet
        from moodcast.models.vision.captioner import BlipCaptioner
        cap = BlipCaptioner({str(tiny_models)!r}, "int8", threads=2)
        assert cap.encoder.get_session_options().use_per_session_threads is False
        assert cap.decoder.get_session_options().use_per_session_threads is False
        for session in (cap.encoder, cap.decoder):  # one arena for both graphs, too
            options = session.get_session_options()
            assert options.get_session_config_entry("session.use_env_allocators") == "1"
        threads = len(os.listdir("/proc/self/task"))
        BlipCaptioner({str(tiny_models)!r}, "fp32", threads=2)  # no new worker threads
        assert len(os.listdir("/proc/self/task")) == threads, "a second pool was made"
        from moodcast.models.audio.tagger_session import MusicnnTagger
        MusicnnTagger("mtt_musicnn", threads=1)  # a per-session pool would be refused by ORT now
        assert share_threads(4)
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.stdout.strip().endswith("ok"), done.stderr[-2000:]
