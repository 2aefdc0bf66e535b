"""Model artifacts as data: JSON, LightGBM text and a manifest of sha256 hashes.

No serialised Python objects ever: a model file can be read, diffed and audited as text.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from accunode_cli.errors import ArtifactIntegrityError, ModelError

__all__ = [
    "MANIFEST",
    "FORMAT_VERSION",
    "sha256_bytes",
    "sha256_file",
    "dump_json",
    "write_json",
    "read_verified",
    "read_manifest",
    "write_manifest",
    "shipped_model_dir",
    "build_date",
    "write_model_folder",
]

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dump_json(data: Any) -> bytes:
    """Serialise JSON deterministically: sorted keys, fixed indent, exact float repr."""
    return (json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()


def write_json(path: Path, data: Any) -> str:
    """Write deterministic JSON to a file and return its sha256."""
    payload = dump_json(data)
    path.write_bytes(payload)
    return sha256_bytes(payload)


def build_date() -> str:
    """Return the artifact date: SOURCE_DATE_EPOCH when set (reproducible builds), else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def shipped_model_dir(kind: str) -> Path:
    """Return the folder of the model that ships inside the package."""
    return Path(__file__).resolve().parent / "models" / kind


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """Read a model folder's manifest, with a clear error when it is absent or broken."""
    path = model_dir / MANIFEST
    if not model_dir.is_dir():
        raise ModelError(
            f"model folder {model_dir} does not exist; train one with `accunode model train`",
            details={"path": str(model_dir)},
        )
    try:
        raw = path.read_bytes()
        manifest = json.loads(raw)
    except FileNotFoundError as exc:
        raise ArtifactIntegrityError(
            f"{path} is missing; the model folder is incomplete", details={"file": MANIFEST}
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactIntegrityError(
            f"{path} is not valid JSON; the model folder is damaged", details={"file": MANIFEST}
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactIntegrityError(
            f"{path} has an unsupported format; expected format_version {FORMAT_VERSION}",
            details={"file": MANIFEST},
        )
    claimed = manifest.pop("manifest_sha256", None)
    if claimed != sha256_bytes(dump_json(manifest)) or raw != dump_json(
        {**manifest, "manifest_sha256": claimed}
    ):
        raise ArtifactIntegrityError(
            f"{path} was changed or damaged (its own hash does not match); reinstall AccuNode "
            "or retrain the model",
            details={"file": MANIFEST},
        )
    if not isinstance(manifest.get("files"), dict):
        raise ArtifactIntegrityError(
            f"{path} has an unsupported format; expected format_version {FORMAT_VERSION}",
            details={"file": MANIFEST},
        )
    return manifest


def write_manifest(model_dir: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest with a hash of its own content, so no byte of it can change unseen."""
    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    body["manifest_sha256"] = sha256_bytes(dump_json(body))
    (model_dir / MANIFEST).write_bytes(dump_json(body))


def read_verified(model_dir: Path, manifest: dict[str, Any]) -> dict[str, bytes]:
    """Read every file the manifest lists and check its sha256; refuse any difference."""
    contents: dict[str, bytes] = {}
    for name, expected in sorted(manifest["files"].items()):
        path = model_dir / name
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ArtifactIntegrityError(
                f"model file {name} is missing from {model_dir}", details={"file": name}
            ) from exc
        if sha256_bytes(data) != expected:
            raise ArtifactIntegrityError(
                f"model file {name} in {model_dir} does not match its sha256 in the manifest; "
                "it was changed or damaged: reinstall AccuNode or retrain the model",
                details={"file": name},
            )
        contents[name] = data
    return contents


def write_model_folder(out_dir: Path, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    """Write all files to a fresh temporary folder, then swap it in: never a half model."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".accunode-model-", dir=out_dir.parent))
    try:
        for name, body in files.items():
            (staging / name).write_bytes(body)
        write_manifest(staging, manifest)
        if out_dir.exists():  # a model folder (checked first): swap, then drop the old one
            retired = Path(tempfile.mkdtemp(prefix=".accunode-old-", dir=out_dir.parent))
            out_dir.rename(retired / "model")
            staging.rename(out_dir)
            shutil.rmtree(retired)
        else:
            staging.rename(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
