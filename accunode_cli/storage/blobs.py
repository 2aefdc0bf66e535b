"""The blob store: uploaded files and job outputs, in a local folder or on S3 (pyarrow.fs).

``ACCUNODE_BLOB_URL`` is a folder path (the default: ``blobs`` in the data folder) or
``s3://bucket/prefix``; credentials, region and ``AWS_ENDPOINT_URL`` come from the usual AWS
variables. Keys are relative paths ("jobs/<id>/input.csv"). Files stream in and out in
blocks: nothing is read whole into memory.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from accunode_cli.errors import ConfigError, ServiceUnavailableError

__all__ = ["BlobStore", "open_blob_store"]

_BLOCK = 1 << 20


class BlobStore:
    """Read and write files under one base location of a pyarrow filesystem."""

    def __init__(self, filesystem: Any, base: str, *, url: str) -> None:
        self.filesystem = filesystem
        self.base = base.rstrip("/")
        self.url = url

    def path(self, key: str) -> str:
        """Return the filesystem path of ``key``."""
        return f"{self.base}/{key.lstrip('/')}"

    @property
    def is_local(self) -> bool:
        """Tell whether the store is a local folder."""
        import pyarrow.fs as pafs

        return isinstance(self.filesystem, pafs.LocalFileSystem)

    def _translate(self, error: Exception, key: str) -> ServiceUnavailableError:
        return ServiceUnavailableError(
            f"the blob store cannot be used for {key}: {str(error).splitlines()[0][:200]}",
            details={"blob_url": self.url},
        )

    @contextmanager
    def writer(self, key: str) -> Iterator[Any]:
        """Open ``key`` for writing (a pyarrow output stream); the file appears when closed."""
        path = self.path(key)
        try:
            if self.is_local:
                self.filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
            # compression=None: pyarrow would otherwise gzip a key ending in .gz a second time
            stream = self.filesystem.open_output_stream(path, compression=None)
        except OSError as error:
            raise self._translate(error, key) from error
        with stream:
            yield stream

    def put_stream(self, key: str, source: BinaryIO) -> int:
        """Copy a readable binary stream into ``key`` in blocks; return the bytes written."""
        written = 0
        with self.writer(key) as sink:
            while block := source.read(_BLOCK):
                sink.write(block)
                written += len(block)
        return written

    def open(self, key: str) -> Any:
        """Open ``key`` for reading (a pyarrow random-access file)."""
        try:
            return self.filesystem.open_input_file(self.path(key))
        except OSError as error:
            raise self._translate(error, key) from error

    def download(self, key: str, target: Path) -> None:
        """Copy ``key`` into a local file."""
        with self.open(key) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, _BLOCK)

    def local_path(self, key: str) -> Path | None:
        """Return the local file of ``key`` when the store is a folder (no copy needed)."""
        return Path(self.path(key)) if self.is_local else None

    def exists(self, key: str) -> bool:
        """Tell whether ``key`` exists."""
        import pyarrow.fs as pafs

        try:
            info = self.filesystem.get_file_info(self.path(key))
        except OSError as error:
            raise self._translate(error, key) from error
        return bool(info.type == pafs.FileType.File)

    def delete_tree(self, prefix: str) -> None:
        """Delete every file under ``prefix`` (nothing when it does not exist)."""
        import pyarrow.fs as pafs

        path = self.path(prefix)
        try:
            if self.filesystem.get_file_info(path).type == pafs.FileType.NotFound:
                return
            self.filesystem.delete_dir(path)
        except OSError as error:
            raise self._translate(error, prefix) from error


def open_blob_store(url: str) -> BlobStore:
    """Open the blob store at ``url``: a folder path or ``s3://bucket/prefix``."""
    import pyarrow.fs as pafs

    if "://" not in url:
        folder = Path(url).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return BlobStore(pafs.LocalFileSystem(), folder.as_posix(), url=url)
    try:
        filesystem, base = pafs.FileSystem.from_uri(url)
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"ACCUNODE_BLOB_URL {url!r} cannot be opened: {str(error).splitlines()[0][:200]}"
        ) from error
    return BlobStore(filesystem, base, url=url)
