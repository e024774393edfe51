"""Tests for core.s3 against moto's S3/STS/IAM server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
import urllib.request
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from core import s3
from core.errors import SourceError
from core.models import Credential
from core.s3 import ObjectInfo, S3Source, describe_source_error, make_session
from tests.conftest import TEST_ACCESS_KEY, S3Bucket, make_demo_credential

_user_numbers = itertools.count(1)


def _closed_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _only(source: S3Source, sub_prefix: str = "") -> list[str]:
    return [obj.key for obj in source.list_objects(sub_prefix)]


def _info(source: S3Source, key: str) -> ObjectInfo:
    return next(obj for obj in source.list_objects() if obj.key == key)


def _count_requests(source: S3Source, operation: str) -> list[int]:
    calls: list[int] = []
    source._client().meta.events.register(f"after-call.s3.{operation}", lambda **_: calls.append(1))
    return calls


@pytest.fixture
def no_internet(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Send any request not bound for 127.0.0.1 to a dead proxy, so a bug cannot reach AWS.

    ``aws_env`` puts 127.0.0.1 in NO_PROXY, so the local server is still reached directly.
    """
    dead = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, dead)


# Listing


def test_list_objects_pages_through_more_than_1000_keys(s3_bucket: S3Bucket) -> None:
    keys = [f"sync_1/events/part-{n:05d}.avro" for n in range(1200)]
    s3_bucket.put_many({key: b"x" for key in keys})
    source = s3_bucket.source()
    pages = _count_requests(source, "ListObjectsV2")

    listed = list(source.list_objects())

    assert [obj.key for obj in listed] == keys
    assert len(pages) == 2
    first = listed[0]
    assert first.size == 1
    assert first.etag == hashlib.md5(b"x").hexdigest()
    assert first.last_modified.tzinfo is UTC


def test_list_objects_uses_the_prefix_literally(s3_bucket: S3Bucket) -> None:
    s3_bucket.put_many(
        {
            "acme/manifests/sync_1.json": b"{}",
            "acme/sync_1/users.avro": b"u",
            "acme/folder/": b"",
            "acme-old/users.avro": b"o",
            "other/users.avro": b"z",
        }
    )

    slashed = s3_bucket.source("acme/")
    bare = s3_bucket.source("acme")

    assert _only(slashed) == ["acme/manifests/sync_1.json", "acme/sync_1/users.avro"]
    assert _only(slashed, "sync_1/") == ["acme/sync_1/users.avro"]
    assert [slashed.relative_key(k) for k in _only(slashed)] == ["manifests/sync_1.json", "sync_1/users.avro"]
    assert _only(bare) == ["acme-old/users.avro", "acme/manifests/sync_1.json", "acme/sync_1/users.avro"]
    assert bare.relative_key("acme-old/users.avro") == "-old/users.avro"
    assert _only(s3_bucket.source("nothing-here/")) == []
    with pytest.raises(ValueError):
        slashed.relative_key("other/users.avro")


# Reading and downloading


def test_read_bytes_returns_the_object(s3_bucket: S3Bucket) -> None:
    s3_bucket.put("manifests/sync_998.json", b'{"dump_id": 998}')

    assert s3_bucket.source().read_bytes("manifests/sync_998.json") == b'{"dump_id": 998}'


def test_read_bytes_refuses_objects_over_max_bytes(s3_bucket: S3Bucket) -> None:
    s3_bucket.put("big.json", b"0123456789")

    with pytest.raises(SourceError) as caught:
        s3_bucket.source().read_bytes("big.json", max_bytes=9)

    assert str(caught.value) == (
        f"s3://{s3_bucket.name}/big.json is 10 bytes, more than the 9 bytes Courier reads into memory: "
        "check that the key names a manifest, not a data file"
    )


def test_download_lands_the_file_and_caches_it_by_etag(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    s3_bucket.put("sync_1/users.avro", b"version one")
    source = s3_bucket.source()
    original = _info(source, "sync_1/users.avro")
    dest = tmp_path / "landing" / "sync_1" / "users.avro"

    assert source.download(original, dest) == dest
    assert dest.read_bytes() == b"version one"
    assert Path(f"{dest}.etag").read_text() == original.etag
    assert sorted(p.name for p in dest.parent.iterdir()) == ["users.avro", "users.avro.etag"]

    # Same size and ETag: no request at all, so the vanished object is not noticed.
    s3_bucket.delete("sync_1/users.avro")
    gets = _count_requests(source, "GetObject")
    assert source.download(original, dest) == dest
    assert gets == []

    # Same size, new ETag: the cache no longer vouches for the file.
    s3_bucket.put("sync_1/users.avro", b"version two")
    replaced = _info(source, "sync_1/users.avro")
    assert replaced.size == original.size and replaced.etag != original.etag
    source.download(replaced, dest)
    assert dest.read_bytes() == b"version two"
    assert Path(f"{dest}.etag").read_text() == replaced.etag
    assert len(gets) == 1


def test_download_refetches_when_the_landed_size_differs(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    s3_bucket.put("users.avro", b"complete content")
    source = s3_bucket.source()
    obj = _info(source, "users.avro")
    dest = tmp_path / "users.avro"
    source.download(obj, dest)
    dest.write_bytes(b"truncated")

    source.download(obj, dest)

    assert dest.read_bytes() == b"complete content"


def test_download_streams_large_objects_in_1_mib_chunks(
    s3_bucket: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.response import StreamingBody

    body = os.urandom(5 * 1024 * 1024 + 123)
    s3_bucket.put("sync_1/events.avro", body)
    source = s3_bucket.source()
    obj = _info(source, "sync_1/events.avro")
    reads: list[int | None] = []
    real_read = StreamingBody.read

    def recording_read(self: StreamingBody, amt: int | None = None) -> bytes:
        reads.append(amt)
        return real_read(self, amt)

    monkeypatch.setattr(StreamingBody, "read", recording_read)
    dest = source.download(obj, tmp_path / "events.avro")

    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(body).digest()
    assert set(reads) == {1024 * 1024}
    assert len(reads) >= 6
    assert not Path(f"{dest}.part").exists()


def test_download_retries_a_stream_that_breaks(
    s3_bucket: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ResponseStreamingError
    from botocore.response import StreamingBody

    s3_bucket.put("users.avro", b"payload")
    source = s3_bucket.source()
    obj = _info(source, "users.avro")
    real_read = StreamingBody.read
    failures = [ResponseStreamingError(error="connection reset")]

    def flaky_read(self: StreamingBody, amt: int | None = None) -> bytes:
        if failures:
            raise failures.pop()
        return real_read(self, amt)

    monkeypatch.setattr(StreamingBody, "read", flaky_read)
    gets = _count_requests(source, "GetObject")

    assert source.download(obj, tmp_path / "users.avro").read_bytes() == b"payload"
    assert len(gets) == 2


def test_download_refuses_an_object_replaced_since_listing(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    s3_bucket.put("users.avro", b"listed")
    source = s3_bucket.source()
    stale = _info(source, "users.avro")
    s3_bucket.put("users.avro", b"rewritten")

    with pytest.raises(SourceError) as caught:
        source.download(stale, tmp_path / "users.avro")

    assert str(caught.value) == (
        f"s3://{s3_bucket.name}/users.avro changed while Courier was reading it: run again to pick up the new version"
    )
    assert list(tmp_path.iterdir()) == []


def test_missing_key_is_reported_for_read_and_download(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    s3_bucket.put("sync_1/users.avro", b"u")
    source = s3_bucket.source()
    obj = _info(source, "sync_1/users.avro")
    s3_bucket.delete("sync_1/users.avro")
    expected = (
        f"s3://{s3_bucket.name}/sync_1/users.avro no longer exists: it was deleted since it was listed; run again"
    )

    with pytest.raises(SourceError) as read_error:
        source.read_bytes("sync_1/users.avro")
    with pytest.raises(SourceError) as download_error:
        source.download(obj, tmp_path / "users.avro")

    assert str(read_error.value) == expected
    assert str(download_error.value) == expected
    assert list(tmp_path.iterdir()) == []


# test_connection


def test_test_connection_reports_the_objects_under_the_prefix(s3_bucket: S3Bucket) -> None:
    s3_bucket.put_many(
        {
            "acme/manifests/sync_998.json": b"{}",
            "acme/sync_998/users/part-0.avro": b"u",
            "acme/sync_998/events/part-0.avro": b"e",
            "elsewhere/x.avro": b"x",
        }
    )

    line = s3_bucket.source("acme/").test_connection()

    assert line == (
        f"Connected to s3://{s3_bucket.name}/acme/ (3 objects under the prefix, first: manifests/sync_998.json)"
    )


def test_test_connection_counts_at_most_one_page(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3, "TEST_CONNECTION_KEYS", 2)
    s3_bucket.put_many({"a.avro": b"a", "b.avro": b"b", "c.avro": b"c"})

    assert s3_bucket.source().test_connection() == (
        f"Connected to s3://{s3_bucket.name}/ (2+ objects under the prefix, first: a.avro)"
    )


def test_test_connection_on_an_empty_prefix(s3_bucket: S3Bucket) -> None:
    assert s3_bucket.source("acme/").test_connection() == (
        f"Connected to s3://{s3_bucket.name}/acme/ (no objects under the prefix yet)"
    )


def test_client_settings(s3_bucket: S3Bucket) -> None:
    source = s3_bucket.source()
    config = source._client().meta.config

    # A silent endpoint must fail one request in about a minute: 3 attempts of 20 s.
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (10.0, 20.0)
    assert config.s3 == {"addressing_style": "path"}
    assert config.signature_version == "s3v4"
    assert source._client() is source._client()


# Sessions, credentials and endpoints


def test_loopback_endpoint_without_credentials_is_unsigned(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore import UNSIGNED

    s3_bucket.put("manifests/sync_1.json", b"{}")
    s3_bucket.allow_anonymous_reads()
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    for endpoint in (s3_bucket.endpoint, s3_bucket.endpoint.replace("127.0.0.1", "localhost")):
        source = S3Source(make_demo_credential(endpoint), s3_bucket.name)

        assert source._client().meta.config.signature_version is UNSIGNED
        assert _only(source) == ["manifests/sync_1.json"]
        assert source.read_bytes("manifests/sync_1.json") == b"{}"


def test_environ_replaces_os_environ_for_credentials(s3_bucket: S3Bucket) -> None:
    from botocore import UNSIGNED

    s3_bucket.put("a.avro", b"a")
    s3_bucket.allow_anonymous_reads()
    # os.environ holds test keys (aws_env); an empty environ must hide them.
    keyless = S3Source(s3_bucket.credential, s3_bucket.name, environ={})
    keyed = S3Source(
        s3_bucket.credential,
        s3_bucket.name,
        environ={"AWS_ACCESS_KEY_ID": "from-environ", "AWS_SECRET_ACCESS_KEY": "secret"},
    )

    assert keyless._client().meta.config.signature_version is UNSIGNED
    assert _only(keyless) == ["a.avro"]
    assert keyed._client().meta.config.signature_version == "s3v4"
    assert (
        make_session(s3_bucket.credential, {"AWS_ACCESS_KEY_ID": "from-environ", "AWS_SECRET_ACCESS_KEY": "secret"})
        .get_credentials()
        .access_key
        == "from-environ"
    )
    assert _only(keyed) == ["a.avro"]


def test_no_credentials_for_a_remote_endpoint(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # Signing fails before any connection, so this host is never contacted.
    source = S3Source(make_demo_credential("http://s3.courier.invalid"), "heap-rs3-acme")

    with pytest.raises(SourceError) as caught:
        source.test_connection()

    assert str(caught.value) == (
        'No AWS credentials found for credential "test": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, '
        "set AWS_PROFILE, or use an aws-profile credential"
    )


def test_partial_credentials(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(SourceError) as caught:
        s3_bucket.source().test_connection()

    assert str(caught.value) == (
        'Incomplete AWS credentials for credential "test": AWS_SECRET_ACCESS_KEY is missing; '
        "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"])
def test_endpoint_from_the_environment(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch, no_internet: None, variable: str
) -> None:
    s3_bucket.put("a.avro", b"a")
    monkeypatch.setenv(variable, s3_bucket.endpoint)
    source = S3Source(Credential(name="env", type="iam-credential"), s3_bucket.name)

    assert _only(source) == ["a.avro"]
    assert source._client().meta.endpoint_url == s3_bucket.endpoint
    assert source._client().meta.config.s3 == {"addressing_style": "path"}


def test_service_endpoint_wins_over_the_global_one(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch, no_internet: None
) -> None:
    s3_bucket.put("a.avro", b"a")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_bucket.endpoint)

    assert _only(S3Source(Credential(name="env", type="iam-credential"), s3_bucket.name)) == ["a.avro"]


def test_endpoint_from_environ_mapping(s3_bucket: S3Bucket, no_internet: None) -> None:
    s3_bucket.put("a.avro", b"a")
    environ = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": s3_bucket.endpoint}

    assert _only(S3Source(Credential(name="env", type="iam-credential"), s3_bucket.name, environ=environ)) == ["a.avro"]


def test_iam_role_to_role_assumes_the_role_with_sts(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.credentials import RefreshableCredentials
    from moto.sts.models import sts_backends

    s3_bucket.put("manifests/sync_1.json", b"{}")
    role_arn = "arn:aws:iam::222233334444:role/heap-reader"
    credential = Credential(
        name="heap",
        type="iam-role-to-role",
        role_arn=role_arn,
        external_id="ext-42",
        endpoint_url=s3_bucket.endpoint,
        region="us-east-1",
    )

    source = S3Source(credential, s3_bucket.name)
    assert source.test_connection().startswith(f"Connected to s3://{s3_bucket.name}/ (1 object")

    session = make_session(credential)
    sts = session.client("sts", endpoint_url=s3_bucket.endpoint)
    assert sts.get_caller_identity()["Arn"] == "arn:aws:sts::222233334444:assumed-role/heap-reader/courier"
    assumed = sts_backends["222233334444"]["aws"].assumed_roles[-1]
    assert (assumed.role_arn, assumed.external_id, assumed.session_name) == (role_arn, "ext-42", "courier")
    credentials = session.get_credentials()
    assert isinstance(credentials, RefreshableCredentials)
    assert credentials.get_frozen_credentials().access_key != TEST_ACCESS_KEY


def test_assumed_role_credentials_refresh_before_expiry(s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    # 15 minutes is inside botocore's advisory refresh window, so every use refreshes.
    monkeypatch.setattr(s3, "ASSUME_ROLE_SECONDS", 900)
    credential = Credential(
        name="heap", type="iam-credential", role_arn="arn:aws:iam::123456789012:role/r", endpoint_url=s3_bucket.endpoint
    )
    credentials = make_session(credential).get_credentials()

    first = credentials.get_frozen_credentials().access_key
    second = credentials.get_frozen_credentials().access_key

    assert first != second


def test_aws_profile_reads_the_shared_config(
    s3_bucket: S3Bucket, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile courier-test]\n"
        "aws_access_key_id = AKIDFROMPROFILE\n"
        "aws_secret_access_key = profile-secret\n"
        "region = eu-west-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # it would outrank the profile's region
    s3_bucket.put("a.avro", b"a")
    credential = Credential(name="prof", type="aws-profile", profile="courier-test", endpoint_url=s3_bucket.endpoint)

    session = make_session(credential)

    # The explicit profile wins over the AWS_ACCESS_KEY_ID in the environment.
    assert session.get_credentials().access_key == "AKIDFROMPROFILE"
    assert session.region_name == "eu-west-1"
    assert _only(S3Source(credential, s3_bucket.name)) == ["a.avro"]


def test_missing_profile_is_named(aws_env: dict[str, str]) -> None:
    credential = Credential(name="prof", type="aws-profile", profile="no-such-profile")

    with pytest.raises(SourceError) as from_session:
        make_session(credential)
    with pytest.raises(SourceError) as from_source:
        S3Source(credential, "heap-rs3-acme").test_connection()

    expected = (
        'AWS profile "no-such-profile" of credential "prof" does not exist: '
        "add it to ~/.aws/config (or AWS_CONFIG_FILE) or fix the credential's profile"
    )
    assert str(from_session.value) == expected
    assert str(from_source.value) == expected


def test_region_defaults_to_us_east_1(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert make_session(Credential(name="c", type="iam-credential")).region_name == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert make_session(Credential(name="c", type="iam-credential")).region_name == "eu-central-1"
    assert make_session(Credential(name="c", type="iam-credential", region="ap-south-1")).region_name == "ap-south-1"


# Errors


def test_missing_bucket(s3_server: str, aws_env: dict[str, str]) -> None:
    source = S3Source(make_demo_credential(s3_server), "heap-rs3-does-not-exist")

    with pytest.raises(SourceError) as caught:
        list(source.list_objects())

    assert str(caught.value) == (
        'Bucket "heap-rs3-does-not-exist" does not exist: check the courier\'s bucket name '
        "(Heap buckets start with heap-rs3-)"
    )


def test_invalid_bucket_name(s3_server: str, aws_env: dict[str, str]) -> None:
    with pytest.raises(SourceError) as caught:
        S3Source(make_demo_credential(s3_server), "s3://heap-rs3-acme").test_connection()

    assert str(caught.value) == (
        '"s3://heap-rs3-acme" is not a valid bucket name: use the bare name, e.g. heap-rs3-1234, '
        "without s3:// or slashes"
    )


def test_unreachable_endpoint(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3, "MAX_ATTEMPTS", 1)
    monkeypatch.setattr(s3, "CONNECT_TIMEOUT", 1.0)
    port = _closed_port()
    source = S3Source(make_demo_credential(f"http://127.0.0.1:{port}"), "heap-rs3-acme", "acme/")

    with pytest.raises(SourceError) as caught:
        source.test_connection()

    assert str(caught.value) == (
        f"Cannot reach the S3 endpoint http://127.0.0.1:{port}: check endpoint-url and the network"
    )


def _set_auth(endpoint: str, count: str) -> None:
    # The body is a bare number; form or JSON bodies make moto answer 500.
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.fixture
def powerless_user(s3_server: str, aws_env: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """Turn on moto's IAM checks; yield the name and keys of an IAM user with no permissions.

    The switch is process-wide inside moto (every in-process server shares
    it), so it is always turned off again, even when the test fails.
    """
    from tests.conftest import _admin_client

    iam = _admin_client(s3_server, "iam")
    name = f"courier-powerless-{next(_user_numbers)}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    # The user exists before auth is on: afterwards the fake test keys are refused too.
    _set_auth(s3_server, "0")
    try:
        yield name, {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    finally:
        _set_auth(s3_server, "inf")


def test_access_denied_and_rejected_keys(s3_bucket: S3Bucket, powerless_user: tuple[str, dict[str, str]]) -> None:
    user, keys = powerless_user
    credential = s3_bucket.credential
    role = Credential(
        name="test",
        type="iam-credential",
        role_arn="arn:aws:iam::123456789012:role/heap-reader",
        endpoint_url=s3_bucket.endpoint,
    )
    wrong_secret = {**keys, "AWS_SECRET_ACCESS_KEY": "not-the-secret"}

    def error(cred: Credential, environ: dict[str, str], prefix: str = "") -> str:
        with pytest.raises(SourceError) as caught:
            S3Source(cred, s3_bucket.name, prefix, environ=environ).test_connection()
        return str(caught.value)

    assert error(credential, keys, "acme/") == (
        f'Access denied to s3://{s3_bucket.name}/acme/: the credential "test" needs s3:ListBucket and '
        "s3:GetObject on this bucket"
    )
    assert error(credential, wrong_secret) == (
        'AWS rejected the keys of credential "test" (SignatureDoesNotMatch): check AWS_ACCESS_KEY_ID and '
        "AWS_SECRET_ACCESS_KEY, or the profile's keys"
    )
    assert error(credential, {"AWS_ACCESS_KEY_ID": "AKIANOSUCHKEY0000000", "AWS_SECRET_ACCESS_KEY": "x"}) == (
        'AWS rejected the keys of credential "test" (InvalidAccessKeyId): check AWS_ACCESS_KEY_ID and '
        "AWS_SECRET_ACCESS_KEY, or the profile's keys"
    )
    denied_role = error(role, keys)
    assert denied_role == (
        "Cannot assume role arn:aws:iam::123456789012:role/heap-reader: "
        f"User: arn:aws:iam::123456789012:user/{user} is not authorized to perform: sts:AssumeRole; "
        "check the role's trust policy and external ID"
    )
    for message in (error(credential, wrong_secret), denied_role):
        assert keys["AWS_SECRET_ACCESS_KEY"] not in message
        assert "not-the-secret" not in message


# describe_source_error


def _client_error(code: str, message: str, operation: str = "ListObjectsV2", status: int = 400) -> Any:
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


CREDENTIAL = Credential(name="heap", type="iam-role-to-role", role_arn="arn:aws:iam::1:role/r")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            _client_error("AccessDenied", "Access Denied", status=403),
            'Access denied to s3://heap-rs3-acme/acme/: the credential "heap" needs s3:ListBucket and '
            "s3:GetObject on this bucket",
        ),
        (
            _client_error("403", "Forbidden", "HeadObject", 403),
            'Access denied to s3://heap-rs3-acme/acme/: the credential "heap" needs s3:ListBucket and '
            "s3:GetObject on this bucket",
        ),
        (
            _client_error("AccessDenied", "not authorized\nto assume", "AssumeRole", 403),
            "Cannot assume role arn:aws:iam::1:role/r: not authorized to assume; "
            "check the role's trust policy and external ID",
        ),
        (
            _client_error("ExpiredToken", "expired"),
            'The AWS session token of credential "heap" has expired: refresh the credentials and run again',
        ),
        (
            _client_error("SlowDown", "Please reduce your request rate.", status=503),
            "S3 is busy or failing for s3://heap-rs3-acme/acme/ (SlowDown): try again in a few minutes",
        ),
        (
            _client_error("Weird", "line one\n  line two"),
            "S3 refused a request for s3://heap-rs3-acme/acme/ (Weird): line one line two",
        ),
    ],
)
def test_describe_client_errors(exc: BaseException, expected: str) -> None:
    error = describe_source_error(exc, bucket="heap-rs3-acme", prefix="acme/", credential=CREDENTIAL)

    assert isinstance(error, SourceError)
    assert str(error) == expected


def test_describe_connection_errors_hide_urls_secrets() -> None:
    from botocore.exceptions import EndpointConnectionError, ProxyConnectionError, SSLError

    url = "https://user:hunter2@s3.example.com:8443/bucket?X-Amz-Signature=abc123"
    messages = [
        str(describe_source_error(exc, bucket="b", prefix="", credential=CREDENTIAL))
        for exc in (
            EndpointConnectionError(endpoint_url=url, error="refused"),
            SSLError(endpoint_url=url, error="bad cert"),
            ProxyConnectionError(proxy_url="http://me:hunter2@proxy:3128", error="refused"),
        )
    ]

    assert messages[0] == "Cannot reach the S3 endpoint https://s3.example.com:8443: check endpoint-url and the network"
    assert messages[1].startswith("TLS failed for the S3 endpoint https://s3.example.com:8443: ")
    for message in messages:
        assert "hunter2" not in message and "abc123" not in message and "\n" not in message


def test_describe_keeps_odd_keys_on_one_line() -> None:
    error = describe_source_error(
        _client_error("NoSuchKey", "gone", "GetObject", 404),
        bucket="b",
        prefix="",
        credential=CREDENTIAL,
        key="evil\nkey",
    )

    assert str(error) == "s3://b/evil key no longer exists: it was deleted since it was listed; run again"


def test_describe_passes_source_errors_through() -> None:
    original = SourceError("already explained")
    assert describe_source_error(original, bucket="b", prefix="", credential=CREDENTIAL) is original
