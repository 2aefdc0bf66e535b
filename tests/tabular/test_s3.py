"""bulk-score on s3:// URLs against a real S3 over HTTP (moto's server mode on 127.0.0.1).

Each run is a real `accunode` process with the standard AWS variables and AWS_ENDPOINT_URL,
and its output is compared with the same run on local files.
"""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
ACCUNODE = str(Path(sys.executable).parent / "accunode")
BUCKET = "accunode-tests"
PARQUET_ROWS = 200_000  # the 1M-row comparison and its memory are in bench/bench_s3.py


def _aws_env(endpoint: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ACCUNODE_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def s3() -> Iterator[tuple[str, object]]:
    """A moto S3 server over HTTP and a boto3 client of it, with one bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield endpoint, client
    finally:
        server.stop()


def _score(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ACCUNODE, "bulk-score", *args], env=env, capture_output=True, text=True, timeout=300
    )


def _get(client: object, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()  # type: ignore[attr-defined]


def _keys(client: object) -> set[str]:
    listed = client.list_objects_v2(Bucket=BUCKET)  # type: ignore[attr-defined]
    return {item["Key"] for item in listed.get("Contents", [])}


@pytest.mark.parametrize(
    ("source", "name", "output"),
    [
        ("annual_companies.csv", "in.csv", "scored.csv"),
        ("messy_annual.csv", "messy.csv", "messy-scored.csv.gz"),
        ("annual_companies.parquet", "in.parquet", "scored.parquet"),
    ],
)
def test_s3_to_s3_equals_the_local_run(
    s3: tuple[str, object], tmp_path: Path, source: str, name: str, output: str
) -> None:
    endpoint, client = s3
    key = f"{tmp_path.name}/{name}"
    client.upload_file(str(SAMPLE / source), BUCKET, key)  # type: ignore[attr-defined]
    env = _aws_env(endpoint)
    local = _score(env, str(SAMPLE / source), "-o", str(tmp_path / output))
    assert local.returncode == 0, local.stderr
    remote = _score(env, f"s3://{BUCKET}/{key}", "-o", f"s3://{BUCKET}/{tmp_path.name}/{output}")
    assert remote.returncode == 0, remote.stderr
    got = _get(client, f"{tmp_path.name}/{output}")
    expected = (tmp_path / output).read_bytes()
    if output.endswith(".parquet"):
        assert pq.read_table(pa.BufferReader(got)).equals(pq.read_table(tmp_path / output))
    elif output.endswith(".gz"):
        assert gzip.decompress(got) == gzip.decompress(expected)
    else:
        assert got == expected
    errors = output.split(".")[0] + ".errors.csv"  # the errors file lands beside the output
    assert _get(client, f"{tmp_path.name}/{errors}") == (tmp_path / errors).read_bytes()


def test_a_large_parquet_file_streams_through_s3(s3: tuple[str, object], tmp_path: Path) -> None:
    endpoint, client = s3
    sample = pq.read_table(SAMPLE / "annual_companies.parquet")
    big = pa.concat_tables([sample] * (PARQUET_ROWS // sample.num_rows + 1)).slice(0, PARQUET_ROWS)
    pq.write_table(big, tmp_path / "big.parquet", row_group_size=50_000)
    client.upload_file(str(tmp_path / "big.parquet"), BUCKET, "big/in.parquet")  # type: ignore[attr-defined]
    env = _aws_env(endpoint)
    local = _score(env, str(tmp_path / "big.parquet"), "-o", str(tmp_path / "out.parquet"))
    remote = _score(env, f"s3://{BUCKET}/big/in.parquet", "-o", f"s3://{BUCKET}/big/out.parquet")
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr
    got = pq.read_table(pa.BufferReader(_get(client, "big/out.parquet")))
    assert got.num_rows == PARQUET_ROWS
    assert got.equals(pq.read_table(tmp_path / "out.parquet"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["s3://accunode-tests/no/such.csv", "-o", "-"], "no such S3 object: s3://accunode-tests/"),
        (["s3://no-such-bucket/in.csv", "-o", "-"], "no such S3 bucket: s3://no-such-bucket"),
        (["s3://accunode-tests/", "-o", "-"], "does not name an object"),
    ],
)
def test_a_missing_bucket_or_key_is_one_line_and_exit_2(
    s3: tuple[str, object], args: list[str], message: str
) -> None:
    done = _score(_aws_env(s3[0]), *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_missing_output_bucket_fails_before_scoring(s3: tuple[str, object]) -> None:
    done = _score(_aws_env(s3[0]), str(SAMPLE / "annual_companies.csv"), "-o", "s3://nope/x.csv")
    assert done.returncode == 2
    assert done.stderr.strip() == "Error: no such S3 bucket: s3://nope (in s3://nope/x.csv)"


def test_a_failed_run_leaves_no_object_behind(s3: tuple[str, object], tmp_path: Path) -> None:
    endpoint, client = s3
    good = (SAMPLE / "annual_companies.csv").read_text()
    lines = good.splitlines()
    broken = "\n".join([*lines, *lines[1:] * 400, lines[1] + ",an,extra,cell", *lines[1:]])
    (tmp_path / "broken.csv").write_text(broken + "\n")
    client.upload_file(str(tmp_path / "broken.csv"), BUCKET, "broken/in.csv")  # type: ignore[attr-defined]
    done = _score(
        _aws_env(endpoint),
        f"s3://{BUCKET}/broken/in.csv",
        "-o",
        f"s3://{BUCKET}/broken/out.csv",
        "--batch-size",
        "1000",
    )
    assert done.returncode == 2, done.stderr
    assert not {key for key in _keys(client) if key.startswith("broken/out")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_denied_credentials_are_one_line_and_exit_1(tmp_path: Path) -> None:
    # A second S3 server that checks credentials, as AWS does: the test keys are unknown to it.
    port = _free_port()
    moto = Path(sys.executable).parent / "moto_server"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    server = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        done = _score(
            _aws_env(f"http://127.0.0.1:{port}"),
            f"s3://{BUCKET}/in.csv",
            "-o",
            str(tmp_path / "out.csv"),
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: access to s3://accunode-tests/in.csv was denied")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()
