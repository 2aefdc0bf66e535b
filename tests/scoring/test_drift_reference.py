"""The training population stored with every model (drift_reference.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from accunode_cli.errors import ArtifactIntegrityError
from accunode_cli.scoring import KINDS, load_model
from accunode_cli.scoring.artifacts import sha256_bytes, shipped_model_dir
from accunode_cli.scoring.reference import REFERENCE_FILE


def _check(folder: Path, rows: int) -> None:
    model = load_model(json.loads((folder / "manifest.json").read_text())["kind"], folder)
    reference = model.reference
    assert reference is not None and reference["rows"] == rows
    assert REFERENCE_FILE in model.manifest["files"]
    card = json.loads((folder / "scorecard.json").read_text())
    for j, name in enumerate(model.ratio_names):
        part = reference["ratios"][name]
        assert part["edges"] == card["features"][j]["edges"]  # the model's own bins
        total = sum(part["shares"]) + part["missing"] + part["not_meaningful"]
        assert total == pytest.approx(1.0, abs=1e-9)
    shares = np.asarray(reference["score"]["shares"])
    assert shares.sum() == pytest.approx(1.0) and np.all(np.abs(shares - 0.1) < 0.01)
    assert 0 < reference["mean_probability"] < 0.1


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_models_carry_their_training_population(kind: str) -> None:
    """The shipped folders hold the file, hashed in the manifest, on the scorecard's bins."""
    folder = shipped_model_dir(kind)
    _check(folder, load_model(kind).manifest["training_data"]["rows"])


@pytest.mark.parametrize("kind", KINDS)
def test_training_writes_it_and_it_stays_out_of_the_version(
    kind: str, small_models: dict[str, Path], small_tables: dict[str, object]
) -> None:
    """`model train` writes it; the version hashes only the files that score."""
    folder = small_models[kind]
    _check(folder, small_tables[kind].num_rows)  # type: ignore[attr-defined]
    manifest = json.loads((folder / "manifest.json").read_text())
    scoring_files = {k: v for k, v in sorted(manifest["files"].items()) if k != REFERENCE_FILE}
    content = sha256_bytes("".join(scoring_files.values()).encode())
    assert manifest["version"].endswith(content[:8])


def test_a_changed_reference_is_refused(small_models: dict[str, Path], tmp_path: Path) -> None:
    """Like every artifact, an edited drift_reference.json fails the hash check."""
    folder = tmp_path / "model"
    shutil.copytree(small_models["annual"], folder)
    path = folder / REFERENCE_FILE
    path.write_text(path.read_text().replace('"rows": ', '"rows": 1'))
    with pytest.raises(ArtifactIntegrityError, match=REFERENCE_FILE):
        load_model("annual", folder)
