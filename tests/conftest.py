"""Shared pytest fixtures: a local S3 server and an AWS environment that cannot leak.

``s3_server`` runs moto's S3/STS/IAM server in a thread on 127.0.0.1, once per
test process (each pytest-xdist worker gets its own). Tests talk to it over
real HTTP with boto3; nothing is mocked and no traffic leaves the machine.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from core.models import Credential

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from core.s3 import S3Source

TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"
TEST_REGION = "us-east-1"

_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Start moto's server on a free 127.0.0.1 port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    # verbose=False only silences the start banner; werkzeug still logs every request.
    werkzeug_log = logging.getLogger("werkzeug")
    previous_level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug_log.setLevel(previous_level)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Replace every ``AWS_*`` variable with fake test keys; return what was set.

    The developer's real profile, config files, endpoints and instance role
    can never reach a test: the config files point at paths that do not
    exist and the EC2 metadata service is disabled.
    """
    for name in list(os.environ):
        if name.upper().startswith("AWS_"):
            monkeypatch.delenv(name)
    missing = tmp_path_factory.mktemp("aws-config") / "absent"
    values = {
        "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRET_KEY,
        "AWS_DEFAULT_REGION": TEST_REGION,
        "AWS_CONFIG_FILE": str(missing / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(missing / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    # boto2-era config files are still on botocore's credential chain.
    monkeypatch.setenv("BOTO_CONFIG", str(missing / "boto.cfg"))
    # A developer's HTTP proxy must not intercept requests to the local server.
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("no_proxy", no_proxy)
    return values


def make_demo_credential(endpoint_url: str, **overrides: Any) -> Credential:
    """A Credential for the local server: ``iam-credential`` with the given endpoint."""
    fields: dict[str, Any] = {
        "name": "test",
        "type": "iam-credential",
        "endpoint_url": endpoint_url,
        "region": TEST_REGION,
    }
    fields.update(overrides)
    return Credential(**fields)


@pytest.fixture
def demo_credential(s3_server: str) -> Credential:
    """``Credential(name="test", type="iam-credential")`` pointing at the local server."""
    return make_demo_credential(s3_server)


@pytest.fixture(scope="session")
def s3_admin(s3_server: str) -> BaseClient:
    """A boto3 S3 client for arranging test data, independent of the environment."""
    return _admin_client(s3_server, "s3")


def _admin_client(endpoint: str, service: str) -> BaseClient:
    import boto3
    from botocore.config import Config

    return boto3.session.Session(
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
        region_name=TEST_REGION,
    ).client(
        service,
        endpoint_url=endpoint,
        config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 2}),
    )


class S3Bucket:
    """A fresh bucket on the local server, with helpers to fill it."""

    def __init__(self, endpoint: str, client: BaseClient, name: str) -> None:
        self.endpoint = endpoint
        self.client = client
        self.name = name

    @property
    def credential(self) -> Credential:
        """The demo credential for this server."""
        return make_demo_credential(self.endpoint)

    def put(self, key: str, body: bytes) -> str:
        """Store ``body`` at ``key``; return the ETag without quotes."""
        response = self.client.put_object(Bucket=self.name, Key=key, Body=body)
        return str(response["ETag"]).strip('"')

    def put_many(self, objects: Mapping[str, bytes]) -> None:
        """Store many objects at once, straight into the in-process server's state.

        An HTTP PUT costs about 5 ms, so a thousand-key listing test would
        spend seconds arranging data; the objects are identical either way.
        """
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        for key, body in objects.items():
            backend.put_object(self.name, key, body)

    def allow_anonymous_reads(self) -> None:
        """Let unsigned requests list and read the bucket.

        moto's server, like S3, refuses an unsigned GetObject on a private
        object (listing is not checked), so unsigned tests need this policy.
        """
        resource = f"arn:aws:s3:::{self.name}"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [resource, f"{resource}/*"],
                }
            ],
        }
        self.client.put_bucket_policy(Bucket=self.name, Policy=json.dumps(policy))

    def delete(self, key: str) -> None:
        """Remove ``key``."""
        self.client.delete_object(Bucket=self.name, Key=key)

    def source(self, prefix: str = "", **credential_overrides: Any) -> S3Source:
        """An ``S3Source`` for this bucket with the demo credential."""
        from core.s3 import S3Source

        return S3Source(make_demo_credential(self.endpoint, **credential_overrides), self.name, prefix)


@pytest.fixture
def s3_bucket(s3_server: str, aws_env: dict[str, str], s3_admin: BaseClient) -> S3Bucket:
    """A new, empty bucket named ``heap-rs3-test-<n>`` on the local server."""
    name = f"heap-rs3-test-{next(_bucket_numbers)}"
    s3_admin.create_bucket(Bucket=name)
    return S3Bucket(s3_server, s3_admin, name)


# --- Heap Connect data for the ingest tests ------------------------------------------------
#
# One small generated bucket per test process (users=60, pageviews=600), copied into
# as many moto buckets as tests need; the manifests' s3:// URIs are rewritten to name
# the bucket they are copied into, as Heap's would.

import datetime as _datetime  # noqa: E402

HEAP_TODAY = _datetime.date(2026, 11, 25)
"""The day the generated data ends (exclusive): daily files are dated 2026-11-19 … 2026-11-25."""
HEAP_GENERATED_BUCKET = "heap-rs3-generated"

HEAP_FEEDS: dict[str, dict[str, Any]] = {
    "df-hpmigrt": {"source": "Heap", "name": "User Migrations", "primary-key": ["from_user_id"]},
    "df-hpcheck": {"source": "Heap", "name": "Checkout Complete Order", "primary-key": ["event_id"]},
    "df-hpconfm": {"source": "Heap", "name": "Order Confirmation", "primary-key": ["event_id"]},
    "df-hpsessn": {"source": "Heap", "name": "Sessions", "primary-key": ["session_id"]},
    "df-hppgvws": {"source": "Heap", "name": "Pageviews", "primary-key": ["event_id"]},
    "df-hpusers": {"source": "Heap", "name": "Users", "primary-key": ["user_id"], "last-updated": "last_modified"},
}
"""A feed for every loadable table of the generated bucket, in Heap's suggested load order."""
HEAP_TABLE_OF_FEED = {
    "df-hpmigrt": "user_migrations",
    "df-hpcheck": "checkout_complete_order",
    "df-hpconfm": "_key_events_pm__order_confirmation_page_complete_order",
    "df-hpsessn": "sessions",
    "df-hppgvws": "pageviews",
    "df-hpusers": "users",
}
HEAP_DOMAIN_TABLES = {
    "user_migrations": "Heap:User Migrations",
    "checkout_complete_order": "Heap:Checkout Complete Order",
    "_key_events_pm__order_confirmation_page_complete_order": "Heap:Order Confirmation",
    "sessions": "Heap:Sessions",
    "pageviews": "Heap:Pageviews",
    "users": "Heap:Users",
}
"""Heap table → the domain table its feed loads."""


def heap_document(
    endpoint: str,
    bucket: str,
    *,
    courier: str = "Heap",
    load_operations: dict[str, list[dict[str, Any]]] | None = None,
    feeds: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A project document: an iam-credential for the local server, a heap-connect courier, feeds."""
    operations = (
        load_operations
        if load_operations is not None
        else {feed_id: [{"type": "load", "file": table}] for feed_id, table in HEAP_TABLE_OF_FEED.items()}
    )
    return {
        "credentials": {"local-s3": {"type": "iam-credential", "endpoint-url": endpoint, "region": TEST_REGION}},
        "feeds": json.loads(json.dumps(HEAP_FEEDS if feeds is None else feeds)),
        "couriers": {
            courier: {
                "credential": "local-s3",
                "bucket": bucket,
                "layout": "heap-connect",
                "load-operations": operations,
            }
        },
    }


def heap_objects(data: Any, bucket: str) -> dict[str, bytes]:
    """The generated objects with every manifest's ``s3://`` URIs naming ``bucket``."""
    old, new = f"s3://{data.bucket}/".encode(), f"s3://{bucket}/".encode()
    return {key: body.replace(old, new) if key.endswith(".json") else body for key, body in data.objects.items()}


def read_avro(body: bytes) -> list[dict[str, Any]]:
    """Every record of an Avro object container file (independent of core.avro)."""
    import io

    import fastavro

    return list(fastavro.reader(io.BytesIO(body)))


@pytest.fixture(scope="session")
def heap_data() -> Any:
    """The generated Heap Connect bucket (a :class:`core.heapgen.HeapBucket`), made once per process."""
    from core.heapgen import generate_heap_bucket

    return generate_heap_bucket(HEAP_GENERATED_BUCKET, seed=7, users=60, pageviews=600, today=HEAP_TODAY)


@pytest.fixture
def heap_bucket(s3_bucket: S3Bucket, heap_data: Any) -> S3Bucket:
    """A fresh bucket holding the whole generated Heap Connect bucket (manifests, dumps, decoys, daily files)."""
    s3_bucket.put_many(heap_objects(heap_data, s3_bucket.name))
    return s3_bucket


@pytest.fixture
def reworded_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every validation problem is worded otherwise (``Said otherwise``): front ends must place it by its path.

    Only the words change; the path, the kind and the validator's rules are the real ones.
    """
    from core.config import Validation

    original_error, original_warn = Validation.error, Validation.warn

    def error(self: Validation, path: tuple[str | int, ...], message: str, code: str = "") -> None:
        original_error(self, path, REWORDED_PROBLEM, code)

    def warn(self: Validation, path: tuple[str | int, ...], message: str) -> None:
        original_warn(self, path, REWORDED_PROBLEM)

    monkeypatch.setattr(Validation, "error", error)
    monkeypatch.setattr(Validation, "warn", warn)


REWORDED_PROBLEM = "Said otherwise"
"""What :func:`reworded_problems` makes every validation message say."""


@pytest.fixture
def reworded_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run event is worded otherwise, with no number left: front ends must show progress without the log.

    Only the words change (the wrapper passes level and file on); the runner's logic is the real one.
    """
    from core.run_records import RunLog

    original = RunLog.event

    def reworded(self: RunLog, stage: str, message: str, level: str = "info", file: str | None = None) -> None:
        original(self, "Said otherwise", "worded differently, no counts here", level, file)

    monkeypatch.setattr(RunLog, "event", reworded)
