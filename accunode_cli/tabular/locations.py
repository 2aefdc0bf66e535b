"""Tables on S3: ``s3://bucket/key`` inputs and outputs of bulk-score, through pyarrow.fs.

Credentials, region and endpoint come from the standard AWS chain (environment variables,
``~/.aws`` profiles, the ECS task role, instance metadata; ``AWS_ENDPOINT_URL`` for an
S3-compatible endpoint), as in the jobs' blob store, which uses the same library.

Inputs stream: CSV (plain or gzip) and JSON lines are read block by block, Parquet by column
chunks, so memory stays flat however large the object. An output is written to a temporary
file (``TMPDIR``) and uploaded when the run has succeeded, so a failed run leaves the object
that was there before untouched.

Failures are one line: a missing bucket or key is unusable input (exit 2); denied access,
missing credentials or an unreachable endpoint are run-time failures (exit 1).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from accunode_cli.errors import AccuNodeError, UnreadableFileError, UsageError

__all__ = [
    "RemoteOutput",
    "is_remote",
    "open_remote_source",
    "reserve_remote_output",
]

_SCHEMES = ("s3://",)
_DENIED = ("ACCESS_DENIED", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
           "ExpiredToken", "InvalidToken", "HTTP response code: 403")  # fmt: skip
_UNREACHABLE = ("NETWORK_CONNECTION", "Couldn't connect", "curlCode", "Timeout", "UNKNOWN")


def is_remote(path: str) -> bool:
    """Tell whether ``path`` is a URL this module handles (``s3://``)."""
    return path[:5].lower() in _SCHEMES


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__


def _failure(url: str, error: BaseException, *, action: str) -> AccuNodeError:
    """Translate a pyarrow/AWS error about ``url`` into one clear AccuNode error."""
    text = str(error)
    if any(mark in text for mark in _DENIED):
        return AccuNodeError(
            f"access to {url} was denied ({action}): check the AWS credentials (AWS_PROFILE, "
            "AWS_ACCESS_KEY_ID, the task role) and the bucket policy"
        )
    if isinstance(error, FileNotFoundError) or "NoSuchBucket" in text or "NO_SUCH_BUCKET" in text:
        return UnreadableFileError(f"no such S3 object or bucket: {url}")
    if any(mark in text for mark in _UNREACHABLE):
        return AccuNodeError(
            f"cannot reach S3 for {url} ({action}): {_one_line(error)}; check the network, "
            "AWS_REGION and AWS_ENDPOINT_URL"
        )
    return AccuNodeError(f"cannot {action} {url}: {_one_line(error)}")


def _split(url: str) -> tuple[Any, str]:
    """Return (filesystem, bucket/key path) of an ``s3://`` URL."""
    import pyarrow.fs as pafs

    bucket, _, key = url[5:].partition("/")
    if not bucket or not key or key.endswith("/"):
        raise UsageError(f"{url} does not name an object; use s3://BUCKET/KEY")
    try:
        filesystem, path = pafs.FileSystem.from_uri("s3://" + url[5:])
    except (OSError, ValueError) as error:
        raise _failure(url, error, action="open") from error
    return filesystem, path


def _check_bucket(
    filesystem: Any, path: str, url: str, *, action: str, missing: type[UsageError] = UsageError
) -> None:
    import pyarrow.fs as pafs

    bucket = path.split("/", 1)[0]
    try:
        found = filesystem.get_file_info(bucket).type != pafs.FileType.NotFound
    except OSError as error:
        raise _failure(url, error, action=action) from error
    if not found:
        raise missing(f"no such S3 bucket: s3://{bucket} (in {url})")


def _object_size(filesystem: Any, path: str, url: str) -> int:
    import pyarrow.fs as pafs

    try:
        info = filesystem.get_file_info(path)
    except OSError as error:
        raise _failure(url, error, action="read") from error
    if info.type == pafs.FileType.NotFound:
        _check_bucket(filesystem, path, url, action="read", missing=UnreadableFileError)
        raise UnreadableFileError(f"no such S3 object: {url}")
    if info.type != pafs.FileType.File:
        raise UnreadableFileError(f"{url} is a folder, not a file")
    return int(info.size or 0)


def open_remote_source(url: str, *, batch_size: int, sheet: str | None = None) -> Any:
    """Open an ``s3://`` table for streaming; return a TableSource like a local file's."""
    from accunode_cli.tabular.formats import sniff_format

    filesystem, path = _split(url)
    if _object_size(filesystem, path, url) == 0:
        raise UnreadableFileError(f"{url} is empty")
    head = _read(filesystem, path, url, compression=None)
    kind = sniff_format(head, name=url)
    if sheet is not None and kind not in ("xlsx", "xls"):
        raise UsageError("--sheet applies to Excel files only")
    if kind in ("xlsx", "xls"):
        raise UsageError(
            f"{url}: Excel workbooks are read from local files only; copy it here, or save it "
            "as CSV or Parquet"
        )
    if kind == "parquet":
        return _parquet_source(filesystem, path, url, batch_size=batch_size)
    compression = "gzip" if head.startswith(b"\x1f\x8b") else None
    if kind == "jsonl":
        return _jsonl_source(filesystem, path, url, compression, batch_size=batch_size)
    return _csv_source(filesystem, path, url, compression, batch_size=batch_size)


def _open_stream(filesystem: Any, path: str, url: str, compression: str | None) -> Any:
    try:
        return filesystem.open_input_stream(path, compression=compression)
    except OSError as error:
        raise _failure(url, error, action="read") from error


def _read(filesystem: Any, path: str, url: str, *, compression: str | None) -> bytes:
    from accunode_cli.tabular.sources import HEAD_BYTES

    with _open_stream(filesystem, path, url, compression) as stream:
        try:
            chunks, size = [], 0
            while size < HEAD_BYTES and (chunk := stream.read(HEAD_BYTES - size)):
                chunks.append(chunk)
                size += len(chunk)
        except OSError as error:
            raise UnreadableFileError(f"cannot read {url}: {_one_line(error)}") from error
    return b"".join(chunks)


def _csv_source(
    filesystem: Any, path: str, url: str, compression: str | None, *, batch_size: int
) -> Any:
    from accunode_cli.tabular.columns import check_names
    from accunode_cli.tabular.formats import read_header, sniff_csv_dialect
    from accunode_cli.tabular.sources import TableSource, _csv_batches

    head = _read(filesystem, path, url, compression=compression)
    dialect = sniff_csv_dialect(head, name=url, compression=compression)
    names = read_header(head, dialect, name=url)
    check_names(names, name=url)

    def batches(_text: frozenset[str]) -> Iterator[Any]:
        with _open_stream(filesystem, path, url, compression) as stream:
            yield from _csv_batches(stream, dialect, names, batch_size=batch_size)

    return TableSource(url, "csv", names, dialect, _open_batches=batches)


def _jsonl_source(
    filesystem: Any, path: str, url: str, compression: str | None, *, batch_size: int
) -> Any:
    from accunode_cli.tabular.sources import jsonl_source

    stream = _open_stream(filesystem, path, url, compression)
    return jsonl_source(stream, name=url, batch_size=batch_size)


def _parquet_source(filesystem: Any, path: str, url: str, *, batch_size: int) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from accunode_cli.tabular.columns import check_names
    from accunode_cli.tabular.sources import TableSource

    try:
        handle = filesystem.open_input_file(path)
        # Over the network, pre-buffering coalesces a row group's column chunks into a few
        # large ranged reads; memory stays bounded by one row group.
        parquet = pq.ParquetFile(handle, pre_buffer=True, buffer_size=8 << 20)
    except (pa.ArrowException, OSError) as error:
        if isinstance(error, OSError) and not isinstance(error, pa.ArrowInvalid):
            raise _failure(url, error, action="read") from error
        raise UnreadableFileError(
            f"{url} is not a readable Parquet file: {_one_line(error)}"
        ) from error
    names = list(parquet.schema_arrow.names)
    check_names(names, name=url)

    def batches(_text: frozenset[str]) -> Iterator[Any]:
        try:
            yield from parquet.iter_batches(batch_size=batch_size, use_threads=True)
        finally:
            parquet.close()
            handle.close()

    return TableSource(url, "parquet", names, _open_batches=batches, rows=parquet.metadata.num_rows)


class _UrlName(str):
    """An S3 URL with the ``.name`` the writers look at (".gz" means gzip)."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return self.rsplit("/", 1)[-1]


class RemoteOutput:
    """A reserved ``s3://`` output: a local temporary file, uploaded on commit.

    It has the interface of the local PendingFile (``target``, ``temp``, ``commit``,
    ``discard``), so the writers need not know where the table goes.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.target = _UrlName(url)
        self._filesystem, self._path = _split(url)
        _check_bucket(self._filesystem, self._path, url, action="write")
        suffix = "".join(Path(self.target.name).suffixes[-2:])
        try:
            fd, temp = tempfile.mkstemp(prefix=".accunode-upload-", suffix=suffix)
        except OSError as error:
            raise UsageError(
                f"cannot stage the output for {url} in {tempfile.gettempdir()}: "
                f"{error.strerror or error}; set TMPDIR to a writable folder"
            ) from error
        os.close(fd)
        self.temp = Path(temp)

    def commit(self) -> None:
        """Upload the finished file (multipart, in blocks), then remove the local copy."""
        import pyarrow.fs as pafs

        try:
            pafs.copy_files(
                str(self.temp),
                self._path,
                source_filesystem=pafs.LocalFileSystem(),
                destination_filesystem=self._filesystem,
                chunk_size=8 << 20,
            )
        except OSError as error:
            raise _failure(self.url, error, action="write") from error
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the local temporary file."""
        with contextlib.suppress(OSError):
            self.temp.unlink()


def reserve_remote_output(url: str) -> RemoteOutput:
    """Check that the bucket of ``url`` exists and reserve a staging file for it."""
    return RemoteOutput(url)
