"""Item 10: an S3 endpoint that never answers fails in bounded time, names itself, and Stop works meanwhile."""

from __future__ import annotations

from pathlib import Path

from botocore.exceptions import ReadTimeoutError

from core.models import Credential
from core.s3 import describe_source_error, s3_settings
from tests.conftest import S3Bucket
from tests.faults.conftest import (
    SilentServer,
    assert_converged,
    avro,
    configure,
    courier,
    load_first_dump,
    one_line,
    put_dump,
    run_row,
    start_courier,
    tables,
    users,
    wait_for,
)

FAST = {"COURIER_S3_READ_TIMEOUT": "0.3", "COURIER_S3_CONNECT_TIMEOUT": "2", "COURIER_S3_MAX_ATTEMPTS": "2"}


def test_a_silent_endpoint_fails_the_run_naming_the_endpoint(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path, silent_server: SilentServer
) -> None:
    db = tmp_path / "c.db"
    before = load_first_dump(db, s3_bucket)
    configure(db, s3_bucket, endpoint=silent_server.endpoint)

    result = courier(cli_env, db, "run", "Heap", "--all", **FAST)

    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"courier: run 2 failed: The S3 endpoint {silent_server.endpoint} did not answer within 0.3 s (2 attempts) "
        f"while listing s3://{s3_bucket.name}/manifests/: check the network and endpoint-url, or raise "
        "COURIER_S3_READ_TIMEOUT"
    )
    assert len(silent_server.connections) >= 1
    assert tables(db) == before
    configure(db, s3_bucket)
    assert_converged(db, s3_bucket)


def test_the_message_for_a_hung_object_names_the_endpoint_and_the_object() -> None:
    error = ReadTimeoutError(endpoint_url="http://127.0.0.1:9/heap-rs3-acme/sync_1/users/part-0.avro?x=secret")

    message = str(
        describe_source_error(
            error,
            bucket="heap-rs3-acme",
            prefix="",
            credential=Credential(name="heap", type="iam-credential"),
            key="sync_1/users/part-0.avro",
        )
    )

    assert message == (
        "The S3 endpoint http://127.0.0.1:9 did not answer within 20 s (3 attempts) while reading "
        "s3://heap-rs3-acme/sync_1/users/part-0.avro: check the network and endpoint-url, or raise "
        "COURIER_S3_READ_TIMEOUT"
    )


def test_the_timeouts_are_overridable_and_checked() -> None:
    assert s3_settings({}) == {"connect_timeout": 10.0, "read_timeout": 20.0, "max_attempts": 3}
    assert s3_settings(FAST) == {"connect_timeout": 2.0, "read_timeout": 0.3, "max_attempts": 2}
    import pytest

    from core.errors import SourceError

    with pytest.raises(SourceError, match=r"^COURIER_S3_MAX_ATTEMPTS='0' is not valid: use a positive whole number$"):
        s3_settings({"COURIER_S3_MAX_ATTEMPTS": "0"})


def test_stop_works_while_s3_does_not_answer(
    s3_bucket: S3Bucket, cli_env: dict[str, str], tmp_path: Path, silent_server: SilentServer, processes: list
) -> None:
    db = tmp_path / "c.db"
    configure(db, s3_bucket, endpoint=silent_server.endpoint)
    # Many short attempts: the run keeps waiting on the silent endpoint until it is stopped.
    runner = start_courier(
        cli_env, db, "run", "Heap", "--all", COURIER_S3_READ_TIMEOUT="0.5", COURIER_S3_MAX_ATTEMPTS="200"
    )
    processes.append(runner)
    wait_for(
        lambda: (run_row(db, 1) or {}).get("status") == "Running" and silent_server.connections,
        what="the run to wait on S3",
    )

    stopped = courier(cli_env, db, "runs", "stop", "1")
    out, err = runner.communicate(timeout=120)

    assert stopped.returncode == 0, stopped.stderr
    assert one_line(stopped.stdout).startswith("Asked run 1 (courier Heap, pid ")
    assert runner.returncode == 1, err
    assert out.splitlines()[-1].startswith("Run 1 Stopped: ")
    assert (run_row(db, 1) or {})["status"] == "Stopped"
    assert tables(db) == {}
    configure(db, s3_bucket)
    put_dump(s3_bucket, 1, {"sync_1/users/part-00000-a-c000.avro": avro(users(range(1, 4)))}, incremental=False)
    assert_converged(db, s3_bucket)
