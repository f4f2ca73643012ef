from __future__ import annotations

import numpy as np
import pytest

from moodcast.config.errors import MoodcastError
from moodcast.models.rows import TableRows


def test_rows_read_from_the_file_equal_the_table(tmp_path, torch_available) -> None:
    import torch

    from moodcast.models.export.blip import write_embeddings

    table = torch.randn(300, 24) * torch.linspace(0.01, 3, 300)[:, None]
    write_embeddings(table, tmp_path)
    ids = [0, 299, 7, 7, 150]
    exact = TableRows(tmp_path / "embeddings.npy")
    assert np.array_equal(exact(ids), table.numpy()[ids])
    int8 = TableRows(tmp_path / "embeddings.int8.npy", tmp_path / "embeddings.int8.scales.npy")
    error = np.abs(int8(ids) - table.numpy()[ids]).max(axis=1)
    assert np.all(error <= np.abs(table.numpy()[ids]).max(axis=1) / 254 + 1e-6)  # half a step
    with pytest.raises(ValueError, match="outside the table"):
        exact([300])


def test_a_damaged_or_foreign_table_is_refused(tmp_path) -> None:
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    with pytest.raises(MoodcastError, match=r"not a \.npy table"):
        TableRows(tmp_path / "junk.npy")
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2), np.float32))
    with pytest.raises(MoodcastError, match="shape"):
        TableRows(tmp_path / "cube.npy")
    np.save(tmp_path / "q.npy", np.zeros((4, 3), np.int8))
    with pytest.raises(MoodcastError, match="one scale per row"):
        TableRows(tmp_path / "q.npy")
