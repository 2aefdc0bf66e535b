"""The blob store on S3: a real S3 server over HTTP (moto's server mode), no patched calls.

The store round-trips files, and a whole job (upload, chunks, results) runs with
ACCUNODE_BLOB_URL=s3://bucket/prefix, giving the same results as with a local folder.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import API, TEST_SECRET, TestClient, register
from test_api_jobs import SAMPLES, results, upload, wait_job

from accunode_cli.config import Settings
from accunode_cli.errors import ServiceUnavailableError
from accunode_cli.server import create_app
from accunode_cli.storage.blobs import open_blob_store


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    name = f"accunode-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


def test_the_s3_blob_store_round_trips_files_over_http(bucket: str, tmp_path: Path) -> None:
    import boto3

    store = open_blob_store(f"s3://{bucket}/uploads")
    assert not store.is_local
    payload = b"x" * 3_000_000  # more than one block
    assert store.put_stream("jobs/1/input.csv", io.BytesIO(payload)) == len(payload)
    assert store.exists("jobs/1/input.csv") and not store.exists("jobs/2/input.csv")
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["uploads/jobs/1/input.csv"]
    store.download("jobs/1/input.csv", tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == payload
    store.delete_tree("jobs/1")
    assert not store.exists("jobs/1/input.csv")
    with pytest.raises(ServiceUnavailableError):
        open_blob_store(f"s3://{bucket}-missing/x").open("nothing")


def test_a_job_runs_with_its_files_on_s3(bucket: str, tmp_path: Path) -> None:
    import boto3

    settings = Settings(
        env="test",
        data_dir=tmp_path / "data",
        config_dir=tmp_path / "config",
        jwt_secret=TEST_SECRET,
        bcrypt_rounds=4,
        blob_url=f"s3://{bucket}/accunode",
    )
    with TestClient(create_app(settings)) as client:
        user = register(client)
        created = upload(client, user["headers"], SAMPLES / "annual_companies.csv")
        assert created.status_code == 202, created.text
        job = wait_job(client, user["headers"], created.json()["id"])
        assert job["status"] == "succeeded" and job["rows_processed"] == 300
        table = results(client, user["headers"], job["id"])
        assert table.num_rows == 300
        keys = [
            item["Key"] for item in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
        ]
        assert f"accunode/jobs/{job['id']}/input.csv" in keys
        assert any("/results/" in key for key in keys)
        assert not (tmp_path / "data" / "blobs").exists()
        deleted = client.delete(f"{API}/predictions/jobs/{job['id']}", headers=user["headers"])
        assert deleted.status_code == 200
        left = boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
        assert not [item["Key"] for item in left if job["id"] in item["Key"]]
