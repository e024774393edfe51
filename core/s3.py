"""All of the engine's Amazon S3 access: sessions, listing, reading and landing files.

A courier names a bucket, a prefix and a credential. :class:`S3Source` turns
those into a cached boto3 client and offers the few operations a run needs:
list the objects under the prefix, read a small object (a manifest), download
an object into the landing directory, and test the connection for the TUI.

Every failure leaves this module as a :class:`~core.errors.SourceError` whose
message is one line saying what is wrong and how to fix it; the translation
lives in :func:`describe_source_error`.

boto3 and botocore are imported inside functions only: importing them costs
hundreds of milliseconds, which the TUI's first paint must not pay.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from core.errors import SourceError, disk_full_message, is_disk_full
from core.models import Credential
from core.store import private_dirs

if TYPE_CHECKING:
    import boto3.session
    import botocore.session
    from botocore.client import BaseClient
    from botocore.config import Config

__all__ = [
    "ObjectInfo",
    "S3Source",
    "describe_source_error",
    "landing_path",
    "make_session",
    "s3_settings",
]

DEFAULT_REGION = "us-east-1"
"""Region used when neither the credential, the environment nor the AWS config names one."""

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a TCP/TLS connection to S3 or STS (``COURIER_S3_CONNECT_TIMEOUT`` overrides)."""

READ_TIMEOUT = 20.0
"""Seconds to wait for the next bytes of a response (``COURIER_S3_READ_TIMEOUT`` overrides)."""

MAX_ATTEMPTS = 3
"""Attempts per request, first try included, botocore's standard retry mode (``COURIER_S3_MAX_ATTEMPTS``).

With the defaults a silent endpoint fails one request in about a minute:
3 attempts of 20 s plus botocore's short backoff between them.
"""

SETTING_VARIABLES = {
    "connect_timeout": "COURIER_S3_CONNECT_TIMEOUT",
    "read_timeout": "COURIER_S3_READ_TIMEOUT",
    "max_attempts": "COURIER_S3_MAX_ATTEMPTS",
}
"""Environment variables that override the S3 timeouts and retry budget."""

MAX_SEGMENT_BYTES = 200
"""Longest key segment landed under its own name; 255 is the usual limit, minus room for ``.part``/``.etag``."""

MAX_PLAIN_KEY_BYTES = 1024
"""Longest key landed under its own path; longer keys land under a hashed name (PATH_MAX is 4096)."""

HASHED_DIR = "_hashed"
"""Landing folder for keys that cannot become a path as they are (``..``, control characters, …)."""

LIST_PAGE_SIZE = 1000
"""Keys per ListObjectsV2 page; 1000 is the most S3 returns."""

DOWNLOAD_CHUNK_SIZE = 1 << 20
"""Bytes read from a response body per write, so memory stays flat for large files."""

DOWNLOAD_ATTEMPTS = 3
"""Tries per download; botocore retries requests but not a body that breaks mid-stream."""

ASSUME_ROLE_SECONDS = 3600
"""Lifetime requested for assumed-role credentials; botocore refreshes them before expiry."""

ROLE_SESSION_NAME = "courier"
"""RoleSessionName sent to STS, visible in the customer's CloudTrail."""

TEST_CONNECTION_KEYS = 1000
"""Keys :meth:`S3Source.test_connection` lists: one request, enough to count a sync."""

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
_MAX_REASON = 200


@dataclass(frozen=True)
class ObjectInfo:
    """One S3 object as a listing reports it."""

    key: str
    """Full S3 key, prefix included."""
    size: int
    etag: str
    """ETag without the surrounding quotes."""
    last_modified: datetime
    """Timezone-aware, in UTC."""


@dataclass(frozen=True)
class _Resolved:
    """A session plus the settings its clients need."""

    session: boto3.session.Session
    region: str
    endpoint_url: str | None
    """S3 endpoint from the credential, ``AWS_ENDPOINT_URL*`` or the AWS config; ``None`` for AWS."""


def make_session(credential: Credential, environ: Mapping[str, str] | None = None) -> boto3.session.Session:
    """Build a boto3 session for a credential.

    ``iam-role-to-role`` assumes ``role_arn`` on top of the default AWS chain
    (or ``profile``); ``aws-profile`` uses the named profile; ``iam-credential``
    uses keys from the environment (or ``profile``) and assumes ``role_arn``
    when set. Assumed-role credentials refresh themselves before they expire.

    Args:
        credential: The credential to build the session for.
        environ: Environment to read ``AWS_*`` settings from instead of
            ``os.environ`` (access keys, profile, region, config file paths,
            endpoint URLs).

    Returns:
        A session whose credentials resolve lazily on the first request.

    Raises:
        SourceError: The profile does not exist or the AWS config is unreadable.
    """
    return _resolve(credential, environ).session


def _resolve(credential: Credential, environ: Mapping[str, str] | None) -> _Resolved:
    try:
        return _build_session(credential, environ)
    except SourceError:
        raise
    except Exception as exc:
        if not _is_aws_error(exc):
            raise
        raise describe_source_error(exc, bucket="", prefix="", credential=credential) from exc


def _build_session(credential: Credential, environ: Mapping[str, str] | None) -> _Resolved:
    import boto3

    if credential.type == "aws-profile" and not credential.profile:
        raise SourceError(
            f"Credential {_q(credential.name)} is an aws-profile credential without a profile: "
            "set its profile to a name from ~/.aws/config"
        )
    if credential.type == "iam-role-to-role" and not credential.role_arn:
        raise SourceError(
            f"Credential {_q(credential.name)} is an iam-role-to-role credential without a role ARN: set its role-arn"
        )
    base = _botocore_session(credential, environ)
    # Reading the region resolves the profile, so a missing profile fails here, early.
    region = credential.region or base.get_config_variable("region") or DEFAULT_REGION
    s3_endpoint = credential.endpoint_url or _configured_endpoint(base, "s3", environ)
    sts_endpoint = credential.endpoint_url or _configured_endpoint(base, "sts", environ)
    if environ is not None:
        # Endpoints were read from ``environ``; botocore must not add os.environ's.
        base.set_config_variable("ignore_configured_endpoint_urls", True)
    if _is_loopback(s3_endpoint):
        # No local server accepts an EC2 or ECS role, and probing the metadata
        # service off-cloud can stall the first request for seconds.
        resolver = base.get_component("credential_provider")
        resolver.remove("iam-role")
        resolver.remove("container-role")
    session = boto3.session.Session(botocore_session=base, region_name=region)
    if credential.role_arn and credential.type in ("iam-role-to-role", "iam-credential"):
        session = _assume_role_session(credential, environ, session, region, sts_endpoint)
    return _Resolved(session=session, region=region, endpoint_url=s3_endpoint)


def _botocore_session(credential: Credential, environ: Mapping[str, str] | None) -> botocore.session.Session:
    """A botocore session reading settings from ``environ`` (default os.environ)."""
    import botocore.session
    from botocore.configprovider import ConfigChainFactory
    from botocore.credentials import EnvProvider

    session = botocore.session.Session()
    if environ is not None:
        env = dict(environ)
        factory = ConfigChainFactory(session=session, environ=env)
        store = session.get_component("config_store")
        for name, (config_name, env_vars, default, convert) in session.session_var_map.items():
            store.set_config_provider(
                name,
                factory.create_config_chain(
                    instance_name=name,
                    env_var_names=env_vars,
                    config_property_names=config_name,
                    default=default,
                    conversion_func=convert,
                ),
            )
    session.register_component("data_loader", _shared_loader(session.get_config_variable("data_path")))
    if credential.profile:
        # Must precede the first credential lookup: an explicit profile drops
        # environment keys from botocore's chain.
        session.set_config_variable("profile", credential.profile)
    if environ is not None:
        resolver = session.get_component("credential_provider")
        resolver.providers = [
            EnvProvider(environ=dict(environ)) if provider.METHOD == "env" else provider
            for provider in resolver.providers
        ]
    return session


_loaders: dict[str | None, Any] = {}
_loaders_lock = threading.Lock()


def _shared_loader(data_path: str | None) -> Any:
    """One botocore data loader per data path, shared by every session.

    Each new botocore session otherwise re-reads and re-parses the endpoint
    and service model JSON, about 100 ms per source; the loader caches them.
    """
    from botocore.loaders import create_loader

    with _loaders_lock:
        if data_path not in _loaders:
            _loaders[data_path] = create_loader(data_path)
        return _loaders[data_path]


def _configured_endpoint(
    session: botocore.session.Session, service: str, environ: Mapping[str, str] | None
) -> str | None:
    """The endpoint boto3 would take from ``AWS_ENDPOINT_URL*`` or the AWS config for ``service``.

    botocore's own resolver is used, so precedence (service-specific variable,
    global variable, profile's ``endpoint_url``) is exactly boto3's. Knowing
    the endpoint up front lets the client pick path-style addressing and
    unsigned requests for local servers.
    """
    from botocore.configprovider import ConfiguredEndpointProvider

    if session.get_config_variable("ignore_configured_endpoint_urls"):
        return None
    provider = ConfiguredEndpointProvider(
        full_config=session.full_config,
        scoped_config=session.get_scoped_config(),
        client_name=service,
        environ=None if environ is None else dict(environ),
    )
    endpoint = provider.provide()
    return str(endpoint) if endpoint else None


def _assume_role_session(
    credential: Credential,
    environ: Mapping[str, str] | None,
    base: boto3.session.Session,
    region: str,
    sts_endpoint: str | None,
) -> boto3.session.Session:
    """A session whose credentials come from assuming ``credential.role_arn`` with ``base``."""
    import boto3
    from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials

    role_arn = credential.role_arn
    assert role_arn is not None
    sts = base.client("sts", region_name=region, endpoint_url=sts_endpoint, config=_sts_config(region, environ))
    request: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": ROLE_SESSION_NAME,
        "DurationSeconds": ASSUME_ROLE_SECONDS,
    }
    if credential.external_id:
        request["ExternalId"] = credential.external_id

    def refresh() -> dict[str, str]:
        issued = sts.assume_role(**request)["Credentials"]
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": issued["Expiration"].astimezone(UTC).isoformat(),
        }

    class _AssumedRoleProvider(CredentialProvider):
        METHOD = "courier-assume-role"
        CANONICAL_NAME = "custom-courier-assume-role"

        def load(self) -> DeferredRefreshableCredentials:
            return DeferredRefreshableCredentials(refresh_using=refresh, method=self.METHOD)

    role = _botocore_session(credential, environ)
    if environ is not None:
        role.set_config_variable("ignore_configured_endpoint_urls", True)
    role.register_component("credential_provider", CredentialResolver(providers=[_AssumedRoleProvider()]))
    return boto3.session.Session(botocore_session=role, region_name=region)


def s3_settings(environ: Mapping[str, str] | None = None) -> dict[str, float]:
    """The S3 timeouts and retry budget in force: ``connect_timeout`` and ``read_timeout`` (seconds)
    and ``max_attempts`` (per request, first try included).

    Each comes from its ``COURIER_S3_*`` variable (:data:`SETTING_VARIABLES`) in ``environ``
    (default ``os.environ``) or from the module default.

    Raises:
        SourceError: A variable is set to something other than a positive number.
    """
    env = os.environ if environ is None else environ
    defaults = {"connect_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT, "max_attempts": MAX_ATTEMPTS}
    settings: dict[str, float] = {}
    for name, default in defaults.items():
        variable = SETTING_VARIABLES[name]
        text = env.get(variable, "").strip()
        if not text:
            settings[name] = default
            continue
        try:
            value = float(text) if name != "max_attempts" else int(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise SourceError(
                f"{variable}={text!r} is not valid: use a positive "
                f"{'whole number' if name == 'max_attempts' else 'number of seconds'}"
            )
        settings[name] = value
    return settings


def _client_config(
    region: str, *, path_style: bool = False, unsigned: bool = False, environ: Mapping[str, str] | None = None
) -> Config:
    from botocore import UNSIGNED
    from botocore.config import Config

    settings = s3_settings(environ)
    return Config(
        region_name=region,
        signature_version=UNSIGNED if unsigned else "s3v4",
        # ``total_max_attempts`` counts the first try; botocore's ``max_attempts``
        # key would count only the retries.
        retries={"mode": "standard", "total_max_attempts": int(settings["max_attempts"])},
        connect_timeout=settings["connect_timeout"],
        read_timeout=settings["read_timeout"],
        # Virtual-hosted addressing puts the bucket in the hostname, which
        # 127.0.0.1, localhost and most S3-compatible servers cannot serve.
        s3={"addressing_style": "path"} if path_style else None,
    )


def _sts_config(region: str, environ: Mapping[str, str] | None = None) -> Config:
    from botocore.config import Config

    settings = s3_settings(environ)
    return Config(
        region_name=region,
        retries={"mode": "standard", "total_max_attempts": int(settings["max_attempts"])},
        connect_timeout=settings["connect_timeout"],
        read_timeout=settings["read_timeout"],
    )


class S3Source:
    """A courier's bucket and prefix, reached with one credential.

    The boto3 client is created on first use and shared: boto3 clients are
    thread-safe for the calls made here, so worker threads may share a source.
    """

    def __init__(
        self,
        credential: Credential,
        bucket: str,
        prefix: str = "",
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Describe a source; nothing is contacted until the first call.

        Args:
            credential: How to reach the bucket.
            bucket: Bucket name, without ``s3://``.
            prefix: The courier's prefix, used literally: keys begin with it.
            environ: Environment to read ``AWS_*`` settings from instead of ``os.environ``.
        """
        self.credential = credential
        self.bucket = bucket
        self.prefix = prefix
        self._environ = None if environ is None else dict(environ)
        self._client_lock = threading.Lock()
        self._cached_client: BaseClient | None = None
        self.check_stop: Callable[[], None] | None = None
        """Called before every request attempt (retries included) and between downloaded chunks; it
        raises (e.g. the run's stop exception) to abandon the work. A run sets it so Stop takes effect
        within one read timeout even while S3 does not answer."""

    @property
    def location(self) -> str:
        """``s3://bucket/prefix``, as messages show it."""
        return f"s3://{self.bucket}/{self.prefix}"

    def list_objects(self, sub_prefix: str = "") -> Iterator[ObjectInfo]:
        """List every object under the prefix, page by page.

        Keys ending in ``/`` are folder placeholders made by consoles, not
        files, and are skipped.

        Args:
            sub_prefix: Appended to the courier prefix to narrow the listing.

        Yields:
            The objects in key order.

        Raises:
            SourceError: The listing failed.
        """
        with self._translated(listing=sub_prefix):
            paginator = self._client().get_paginator("list_objects_v2")
            pages = paginator.paginate(
                Bucket=self.bucket,
                Prefix=self.prefix + sub_prefix,
                PaginationConfig={"PageSize": LIST_PAGE_SIZE},
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    if item["Key"].endswith("/"):
                        continue
                    yield _object_info(item)

    def relative_key(self, key: str) -> str:
        """Return ``key`` without the courier prefix; file patterns match this.

        Args:
            key: A full key under the prefix.

        Returns:
            The rest of the key after the prefix.

        Raises:
            ValueError: ``key`` does not begin with the prefix.
        """
        if not key.startswith(self.prefix):
            raise ValueError(f"{key!r} is not under the prefix {self.prefix!r}")
        return key[len(self.prefix) :]

    def read_bytes(self, key: str, max_bytes: int = 50_000_000) -> bytes:
        """Read a small object, such as a manifest, into memory.

        Args:
            key: Full key of the object.
            max_bytes: Largest object accepted; larger ones belong in :meth:`download`.

        Returns:
            The object's content.

        Raises:
            SourceError: The object is missing, too large or unreadable.
        """
        with self._translated(key):
            response = self._client().get_object(Bucket=self.bucket, Key=key)
            body = response["Body"]
            try:
                size = int(response.get("ContentLength", 0))
                if size > max_bytes:
                    raise self._too_large(key, size, max_bytes)
                data: bytes = body.read(max_bytes + 1)
            finally:
                body.close()
            if len(data) > max_bytes:
                raise self._too_large(key, len(data), max_bytes)
            return data

    def _too_large(self, key: str, size: int, max_bytes: int) -> SourceError:
        return SourceError(
            f"s3://{self.bucket}/{key} is {size:,} bytes, more than the {max_bytes:,} bytes Courier reads "
            "into memory: check that the key names a manifest, not a data file"
        )

    def download(self, obj: ObjectInfo, dest: Path) -> Path:
        """Land an object at ``dest``, streaming it to disk.

        The body goes to ``<dest>.part`` in 1 MiB chunks, is fsynced and then
        renamed over ``dest``, so ``dest`` is never a partial file. The ETag is
        kept in ``<dest>.etag``: when ``dest`` already has the object's size and
        ETag the download is skipped (the landing cache). The object must still
        have the listed ETag, so a file replaced since the listing is noticed.
        Landed files hold raw customer data: directories are created 0700 and
        files 0600, whatever the umask.

        Args:
            obj: The object, as :meth:`list_objects` reported it.
            dest: Where the file belongs (see :func:`landing_path`); parent directories are created.

        Returns:
            ``dest``.

        Raises:
            SourceError: The object is gone, changed, could not be read, or the disk is full.
            OSError: The file could not be written for another reason.
        """
        from botocore.exceptions import (
            ConnectionClosedError,
            FlexibleChecksumError,
            IncompleteReadError,
            ReadTimeoutError,
            ResponseStreamingError,
        )

        dest = Path(dest)
        sidecar = dest.with_name(dest.name + ".etag")
        if _is_landed(obj, dest, sidecar):
            return dest
        private_dirs(dest.parent)
        # A sidecar must never vouch for a file it did not come with.
        sidecar.unlink(missing_ok=True)
        part = dest.with_name(dest.name + ".part")
        broken_stream = (
            ConnectionClosedError,
            FlexibleChecksumError,
            IncompleteReadError,
            ReadTimeoutError,
            ResponseStreamingError,
        )
        try:
            with self._translated(obj.key):
                for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
                    received = [-1]  # bytes of the body received; -1 until the response began
                    try:
                        self._stream_to(obj, part, received)
                        break
                    except broken_stream:
                        part.unlink(missing_ok=True)
                        # botocore already spent the retry budget on a request that never
                        # answered; only a body that broke mid-stream is worth fetching again.
                        if attempt == DOWNLOAD_ATTEMPTS or received[0] < 0:
                            raise
                    except BaseException:
                        part.unlink(missing_ok=True)
                        raise
            os.replace(part, dest)
            _write_atomically(sidecar, obj.etag.encode())
        except OSError as error:
            part.unlink(missing_ok=True)
            if is_disk_full(error):
                raise SourceError(disk_full_message(dest.parent, f"landing s3://{self.bucket}/{obj.key}")) from error
            raise
        _fsync_directory(dest.parent)
        return dest

    def _stream_to(self, obj: ObjectInfo, part: Path, received: list[int]) -> None:
        response = self._client().get_object(Bucket=self.bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')
        body = response["Body"]
        written = received[0] = 0
        try:
            with open(os.open(part, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "wb") as out:
                os.chmod(part, 0o600)  # an older .part may have been created with looser modes
                for chunk in body.iter_chunks(DOWNLOAD_CHUNK_SIZE):
                    out.write(chunk)
                    written += len(chunk)
                    received[0] = written
                    if self.check_stop is not None:
                        self.check_stop()
                out.flush()
                os.fsync(out.fileno())
        finally:
            body.close()
        if written != obj.size:
            from botocore.exceptions import IncompleteReadError

            raise IncompleteReadError(actual_bytes=written, expected_bytes=obj.size)

    def test_connection(self) -> str:
        """List up to 1000 keys under the prefix to prove access.

        Returns:
            One line for the user, e.g. ``Connected to s3://heap-rs3-acme/
            (17 objects under the prefix, first: manifests/sync_998.json)``.

        Raises:
            SourceError: The bucket cannot be listed.
        """
        with self._translated():
            response = self._client().list_objects_v2(
                Bucket=self.bucket, Prefix=self.prefix, MaxKeys=TEST_CONNECTION_KEYS
            )
        keys = [item["Key"] for item in response.get("Contents", ()) if not item["Key"].endswith("/")]
        if not keys:
            return f"Connected to {self.location} (no objects under the prefix yet)"
        count = f"{len(keys)}+" if response.get("IsTruncated") else str(len(keys))
        noun = "object" if count == "1" else "objects"
        return f"Connected to {self.location} ({count} {noun} under the prefix, first: {self.relative_key(keys[0])})"

    def _client(self) -> BaseClient:
        """The S3 client, created once per source."""
        if self._cached_client is None:
            with self._client_lock:
                if self._cached_client is None:
                    client = self._make_client()
                    client.meta.events.register("before-send.s3", self._before_send)
                    self._cached_client = client
        return self._cached_client

    def _before_send(self, **kwargs: Any) -> None:
        if self.check_stop is not None:
            self.check_stop()

    def _make_client(self) -> BaseClient:
        resolved = _resolve(self.credential, self._environ)
        endpoint = resolved.endpoint_url
        # The embedded demo S3 should work from any shell, keys or not.
        unsigned = _is_loopback(endpoint) and resolved.session.get_credentials() is None
        config = _client_config(
            resolved.region,
            path_style=endpoint is not None and not _is_aws_endpoint(endpoint),
            unsigned=unsigned,
            environ=self._environ,
        )
        return resolved.session.client("s3", region_name=resolved.region, endpoint_url=endpoint, config=config)

    def _translated(self, key: str | None = None, listing: str | None = None) -> _Translated:
        return _Translated(self, key, listing)


class _Translated:
    """Context manager turning boto errors raised inside it into SourceError."""

    def __init__(self, source: S3Source, key: str | None, listing: str | None = None) -> None:
        self._source = source
        self._key = key
        self._listing = listing

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> Literal[False]:
        if exc is None or isinstance(exc, SourceError) or not _is_aws_error(exc):
            return False
        source = self._source
        raise describe_source_error(
            exc,
            bucket=source.bucket,
            prefix=source.prefix,
            credential=source.credential,
            key=self._key,
            listing=self._listing,
        ) from exc


def describe_source_error(
    exc: BaseException,
    *,
    bucket: str,
    prefix: str,
    credential: Credential,
    key: str | None = None,
    listing: str | None = None,
) -> SourceError:
    """Translate a boto3/botocore exception into a one-line SourceError.

    The message says what went wrong and what to change; it never contains a
    secret (keys, tokens, signatures or credentials embedded in URLs).

    Args:
        exc: The exception raised by boto3 or botocore.
        bucket: The courier's bucket.
        prefix: The courier's prefix.
        credential: The credential in use.
        key: The object being read, when there was one.
        listing: The sub-prefix being listed (after ``prefix``), when it was a listing.

    Returns:
        The error to raise; ``exc`` itself when it already is a SourceError.
    """
    if isinstance(exc, SourceError):
        return exc
    # Keys and names may hold any character; the message must stay one line.
    return SourceError(" ".join(_describe(exc, bucket, prefix, credential, key, listing).splitlines()))


def _describe(
    exc: BaseException, bucket: str, prefix: str, credential: Credential, key: str | None, listing: str | None = None
) -> str:
    from botocore import exceptions as bce

    name = _q(credential.name)
    location = f"s3://{bucket}/{prefix}"
    if isinstance(exc, bce.ClientError):
        return _describe_client_error(exc, bucket, location, credential, key)
    if isinstance(exc, bce.ProfileNotFound):
        profile = exc.kwargs.get("profile") or credential.profile
        return (
            f"AWS profile {_q(str(profile))} of credential {name} does not exist: "
            "add it to ~/.aws/config (or AWS_CONFIG_FILE) or fix the credential's profile"
        )
    if isinstance(exc, bce.PartialCredentialsError):
        return (
            f"Incomplete AWS credentials for credential {name}: {exc.kwargs.get('cred_var', 'a key')} is missing; "
            "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, bce.NoCredentialsError):
        return (
            f"No AWS credentials found for credential {name}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "set AWS_PROFILE, or use an aws-profile credential"
        )
    if isinstance(exc, (bce.SSOError, bce.TokenRetrievalError)):
        profile = credential.profile or "<profile>"
        return (
            f"The AWS SSO session of credential {name} has expired or is invalid: run aws sso login --profile {profile}"
        )
    if isinstance(exc, bce.CredentialRetrievalError):
        return (
            f"Could not load AWS credentials for credential {name} ({exc.kwargs.get('provider', 'provider')}): "
            "check the profile's credential settings"
        )
    if isinstance(exc, bce.ConfigParseError):
        return f"Cannot parse the AWS config file {exc.kwargs.get('path', '')}: fix its syntax"
    if isinstance(exc, bce.ProxyConnectionError):
        # The proxy URL may embed a password, so it is not shown.
        return "Cannot reach the HTTP(S) proxy for S3: check HTTPS_PROXY / HTTP_PROXY and the network"
    if isinstance(exc, bce.SSLError):
        return (
            f"TLS failed for the S3 endpoint {_endpoint_of(exc)}: check endpoint-url (http or https) "
            "and the CA certificates (AWS_CA_BUNDLE)"
        )
    if isinstance(exc, (bce.EndpointConnectionError, bce.ConnectTimeoutError)):
        return f"Cannot reach the S3 endpoint {_endpoint_of(exc)}: check endpoint-url and the network"
    if isinstance(exc, bce.ReadTimeoutError):
        settings = s3_settings()
        what = f"reading s3://{bucket}/{key}" if key else f"listing {location}{listing or ''}"
        attempts = int(settings["max_attempts"])
        return (
            f"The S3 endpoint {_endpoint_of(exc)} did not answer within {settings['read_timeout']:g} s "
            f"({attempts} attempt{'s' if attempts != 1 else ''}) while {what}: check the network and "
            "endpoint-url, or raise COURIER_S3_READ_TIMEOUT"
        )
    if isinstance(
        exc,
        (
            bce.ReadTimeoutError,
            bce.ConnectionClosedError,
            bce.ResponseStreamingError,
            bce.IncompleteReadError,
            bce.FlexibleChecksumError,
        ),
    ):
        what = f"s3://{bucket}/{key}" if key else location
        return f"The connection to S3 broke while reading {what}: check the network and run again"
    if isinstance(exc, bce.ParamValidationError):
        report = str(exc.kwargs.get("report", ""))
        if "bucket name" in report.lower():
            return (
                f"{_q(bucket)} is not a valid bucket name: use the bare name, e.g. heap-rs3-1234, "
                "without s3:// or slashes"
            )
        return f"Invalid S3 request for {location}: {_one_line(report)}"
    if isinstance(exc, bce.InvalidRegionError):
        region = _q(str(exc.kwargs.get("region_name", "")))
        return f"Region {region} of credential {name} is not valid: use e.g. us-east-1"
    if isinstance(exc, bce.InvalidConfigError):
        return f"Invalid AWS configuration for credential {name}: {_one_line(str(exc))}"
    return f"S3 access to {location} failed ({type(exc).__name__}): {_one_line(str(exc))}"


def _describe_client_error(exc: Any, bucket: str, location: str, credential: Credential, key: str | None) -> str:
    error = exc.response.get("Error", {}) or {}
    code = str(error.get("Code", "") or "")
    message = _one_line(str(error.get("Message", "") or code))
    metadata = exc.response.get("ResponseMetadata", {}) or {}
    status = metadata.get("HTTPStatusCode")
    name = _q(credential.name)

    invalid_keys = {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidClientTokenId",
        "InvalidToken",
        "AuthFailure",
        "UnrecognizedClientException",
        "IncompleteSignature",
    }
    if code in invalid_keys:
        return (
            f"AWS rejected the keys of credential {name} ({code}): check AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or the profile's keys"
        )
    if code in {"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"}:
        return f"The AWS session token of credential {name} has expired: refresh the credentials and run again"
    if code in {"RequestTimeTooSkewed", "RequestExpired"}:
        return f"AWS rejected the request time ({code}): the system clock is off; sync it and run again"
    if exc.operation_name == "AssumeRole":
        return f"Cannot assume role {credential.role_arn}: {message}; check the role's trust policy and external ID"
    if code == "NoSuchBucket":
        return (
            f"Bucket {_q(bucket)} does not exist: check the courier's bucket name (Heap buckets start with heap-rs3-)"
        )
    if code == "NoSuchKey" or (key and status == 404):
        missing = key or error.get("Key", "")
        return f"s3://{bucket}/{missing} no longer exists: it was deleted since it was listed; run again"
    if code == "PreconditionFailed" and key:
        return f"s3://{bucket}/{key} changed while Courier was reading it: run again to pick up the new version"
    if code in {"AccessDenied", "AllAccessDisabled", "AccountProblem"} or status == 403:
        if key:
            return (
                f"Access denied to s3://{bucket}/{key}: the credential {name} needs s3:GetObject "
                "on this bucket's objects"
            )
        return f"Access denied to {location}: the credential {name} needs s3:ListBucket and s3:GetObject on this bucket"
    if (
        code in {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
        or status == 301
    ):
        headers = metadata.get("HTTPHeaders", {}) or {}
        region = error.get("Region") or headers.get("x-amz-bucket-region")
        where = f"region {region}" if region else "another region"
        return f"Bucket {_q(bucket)} is in {where}: set the credential's region to it"
    if code == "InvalidBucketName":
        return (
            f"{_q(bucket)} is not a valid bucket name: use the bare name, e.g. heap-rs3-1234, without s3:// or slashes"
        )
    if code in {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling"} or (
        isinstance(status, int) and status >= 500
    ):
        return f"S3 is busy or failing for {location} ({code or status}): try again in a few minutes"
    return f"S3 refused a request for {location} ({code or status}): {message}"


def _object_info(item: Mapping[str, Any]) -> ObjectInfo:
    modified = item["LastModified"]
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    return ObjectInfo(
        key=item["Key"],
        size=int(item["Size"]),
        etag=str(item.get("ETag", "")).strip('"'),
        last_modified=modified.astimezone(UTC),
    )


def landing_path(root: Path, courier: str, key: str, etag: str) -> Path:
    """Where an S3 object lands in the cache: always inside ``root``, for any legal S3 key.

    A key is any UTF-8 text up to 1024 bytes, so it may hold ``..`` segments, a
    leading ``/``, empty segments, control characters or segments longer than a
    file name may be. Plain keys land under their own path
    (``<root>/<courier>/<etag>/<key>``, readable with any tool); any other key
    lands under ``<root>/<courier>/<etag>/_hashed/<sha256 of the key>/<cleaned
    file name>``. The original key is what the database records
    (``landed_files.key``), so nothing is lost. Keys whose first segment is
    ``_hashed`` are hashed too, so the two forms can never collide.

    Args:
        root: The landing directory (beside the database).
        courier: The courier's name (cleaned to letters, digits, ``-``, ``_``, ``.``).
        key: The full S3 key.
        etag: The object's ETag; one folder per object version.

    Returns:
        A path strictly inside ``root``.
    """
    version = (
        etag[:16]
        if etag and all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in etag[:16])
        else "v" + hashlib.sha256(etag.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    )
    base = Path(root) / _clean_name(courier, "courier") / version
    segments = key.split("/")
    if _plain_key(key, segments):
        return base.joinpath(*segments)
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return base / HASHED_DIR / digest / _clean_name(segments[-1][: MAX_SEGMENT_BYTES // 4], "object")


def _plain_key(key: str, segments: list[str]) -> bool:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_PLAIN_KEY_BYTES or segments[0] == HASHED_DIR:
        return False
    for segment in segments:
        if segment in ("", ".", "..") or segment.endswith((".part", ".etag")):
            return False
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            return False
        if any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in segment):
            return False
    return True


def _clean_name(name: str, fallback: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".")
    return cleaned or fallback


def _is_landed(obj: ObjectInfo, dest: Path, sidecar: Path) -> bool:
    try:
        return dest.stat().st_size == obj.size and sidecar.read_text(encoding="ascii").strip() == obj.etag
    except (OSError, UnicodeDecodeError):
        return False


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".part")
    with open(os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _fsync_directory(directory: Path) -> None:
    """Make renames in ``directory`` durable; not every platform can open a directory."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _is_aws_error(exc: BaseException) -> bool:
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, (BotoCoreError, ClientError, Boto3Error))


def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _is_loopback(url: str | None) -> bool:
    host = _host(url)
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_aws_endpoint(url: str | None) -> bool:
    return _host(url).endswith(_AWS_HOST_SUFFIXES)


def _endpoint_of(exc: Any) -> str:
    """``scheme://host:port`` of the failed request, without credentials, path or query."""
    url = str(getattr(exc, "kwargs", {}).get("endpoint_url", "") or "")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(unknown endpoint)"
    if not host:
        return "(unknown endpoint)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + "…"


def _q(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'
