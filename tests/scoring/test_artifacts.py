"""Model files are data with verified hashes: reproducible, tamper-evident, never pickle."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from accunode_cli.errors import ArtifactIntegrityError, ModelError
from accunode_cli.scoring import load_model
from accunode_cli.scoring.artifacts import shipped_model_dir
from accunode_cli.scoring.training import train_model

PACKAGE = Path(__file__).resolve().parents[2] / "accunode_cli"


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
def test_shipped_models_load_with_their_version(kind: str) -> None:
    model = load_model(kind)
    assert model.version.startswith(f"{kind}-")
    manifest = model.manifest
    assert set(manifest["files"]) >= {"ensemble.json", "scorecard.json", "lightgbm.txt"}
    assert ("spline.json" in manifest["files"]) == (kind == "quarterly")
    assert len(manifest["training_data"]["sha256"]) == 64
    assert manifest["metrics"]["test"]["model"]["auc"] > 0.5


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
def test_two_trainings_with_one_seed_give_identical_bytes(
    kind: str, small_tables: dict[str, object], small_models: dict[str, Path], tmp_path: Path
) -> None:
    again = tmp_path / kind
    train_model(kind, small_tables[kind], again, seed=3)
    first = sorted(p.name for p in small_models[kind].iterdir())
    assert first == sorted(p.name for p in again.iterdir())
    for name in first:
        assert (small_models[kind] / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.parametrize("kind", ["annual", "quarterly"])
def test_a_flipped_byte_in_any_file_is_refused_naming_the_file(kind: str, tmp_path: Path) -> None:
    source = shipped_model_dir(kind)
    for path in sorted(source.iterdir()):
        copy = tmp_path / f"{kind}-{path.name}"
        shutil.copytree(source, copy)
        target = copy / path.name
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        with pytest.raises(ArtifactIntegrityError) as caught:
            load_model(kind, copy)
        assert path.name in str(caught.value)
        assert caught.value.details["file"] == path.name


def test_a_missing_file_or_folder_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "annual"
    shutil.copytree(shipped_model_dir("annual"), copy)
    (copy / "lightgbm.txt").unlink()
    with pytest.raises(ArtifactIntegrityError, match="lightgbm.txt is missing"):
        load_model("annual", copy)
    with pytest.raises(ModelError, match="does not exist"):
        load_model("annual", tmp_path / "nowhere")


def test_a_model_of_the_other_kind_is_refused() -> None:
    with pytest.raises(ArtifactIntegrityError, match="quarterly"):
        load_model("annual", shipped_model_dir("quarterly"))


def test_no_pickle_or_joblib_anywhere_in_the_package() -> None:
    pattern = re.compile(r"\b(pickle|joblib|cloudpickle|dill)\b")
    offenders = [
        str(path)
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix in {".py", ".json", ".txt", ".cfg", ".toml"}
        and pattern.search(path.read_text(errors="ignore"))
    ]  # fmt: skip
    assert offenders == []
    assert not [p for p in PACKAGE.rglob("*") if p.suffix in {".pkl", ".pickle", ".joblib"}]
