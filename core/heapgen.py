"""Deterministic, realistic Heap Connect bucket contents.

The embedded demo serves these objects from a local S3 server, the tests load
them, and the benchmark streams :func:`pageview_records` into large files. The
generator only builds bytes; it never talks to S3.

A generated bucket mimics what Heap Connect writes (see
``heap-connect-s3.md``): manifests under ``manifests/``, Snappy Avro part files
under ``sync_<dump_id>/<table>/``, timestamps in three different encodings,
schema drift, a full resync, identity merges with a chain, and decoys a correct
loader must ignore. Everything derives from one ``random.Random(seed)`` and
``today``, so the same arguments always give byte-identical objects.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

import fastavro

__all__ = [
    "CHECKOUT_TABLE",
    "CONFIRMATION_TABLE",
    "DUMP_IDS",
    "EVENT_COLUMNS",
    "EVENT_METADATA_COLUMNS",
    "HeapBucket",
    "ID_COLUMNS",
    "MIGRATION_COLUMNS",
    "PAGEVIEW_COLUMNS",
    "SESSION_COLUMNS",
    "TIME_COLUMNS",
    "TIME_FORMS",
    "USER_COLUMNS",
    "generate_heap_bucket",
    "heap_schema",
    "pageview_records",
    "time_form",
    "write_avro",
]

DUMP_IDS = (998, 1004, 1011, 1020)
"""The dumps a bucket holds; as text "1004" sorts before "998"."""

DECOY_DUMP_ID = 1031
"""A dump folder with data but no manifest: still being written, so not loadable."""

CHECKOUT_TABLE = "checkout_complete_order"
CONFIRMATION_TABLE = "_key_events_pm__order_confirmation_page_complete_order"
EVENT_METADATA_TABLE = "_event_metadata"

ID_COLUMNS = frozenset({"user_id", "event_id", "session_id", "from_user_id", "to_user_id"})
"""Columns Heap writes as non-null ``long``."""

TIME_COLUMNS = frozenset({"time", "joindate", "last_modified"})
"""Columns holding timestamps, encoded per table as :data:`TIME_FORMS` says."""

TIME_FORMS = {"users": "micros", "sessions": "millis"}
"""How each table encodes timestamps: epoch ``micros`` or ``millis`` (long), else ``string``."""

USER_COLUMNS = [
    "user_id",
    "identity",
    "handle",
    "email",
    "joindate",
    "last_modified",
    "customer_id",
    "first_name",
    "last_name",
    "marketing_opt_in",
]
SESSION_COLUMNS = [
    "event_id",
    "user_id",
    "session_id",
    "time",
    "library",
    "platform",
    "device_type",
    "country",
    "region",
    "city",
    "ip",
    "referrer",
    "landing_page",
    "browser",
    "utm_source",
    "utm_campaign",
    "utm_medium",
    "device",
    "app_name",
]
PAGEVIEW_COLUMNS = [
    "event_id",
    "user_id",
    "session_id",
    "time",
    "library",
    "platform",
    "device_type",
    "country",
    "region",
    "city",
    "ip",
    "referrer",
    "landing_page",
    "landing_page_query",
    "browser",
    "utm_source",
    "utm_campaign",
    "utm_medium",
    "utm_term",
    "utm_content",
    "domain",
    "path",
    "query",
    "hash",
    "title",
]
EVENT_COLUMNS = [*PAGEVIEW_COLUMNS, "target_text", "href"]
MIGRATION_COLUMNS = ["from_user_id", "to_user_id", "time"]
EVENT_METADATA_COLUMNS = ["event_table_name", "event_name", "event_type", "definition"]

_RESEND_DUMP = 1004
_DRIFT_DUMP = 1011
_RESYNC_DUMP = 1020
_USER_DRIFT_COLUMN = "plan"
_PAGEVIEW_DRIFT_COLUMN = "heap_device_id"

# --- Avro ----------------------------------------------------------------------------


def write_avro(
    records: Iterable[dict[str, Any]],
    schema: dict[str, Any],
    codec: str = "snappy",
    *,
    sync_marker: bytes | None = None,
) -> bytes:
    """Write records to an in-memory Avro object container file.

    Args:
        records: Dicts holding a value for every schema field (extra keys are ignored).
        schema: An Avro record schema.
        codec: The block codec: ``"snappy"`` (Heap's), ``"deflate"``, ``"null"``...
        sync_marker: The 16-byte block sync marker; by default one derived from
            the schema, so equal inputs give equal bytes.

    Returns:
        The file's bytes.
    """
    if sync_marker is None:
        sync_marker = hashlib.md5(json.dumps(schema, sort_keys=True).encode()).digest()
    buffer = io.BytesIO()
    fastavro.writer(
        buffer,
        fastavro.parse_schema(schema),
        records,
        codec=codec,
        sync_marker=sync_marker,
        validator=False,
    )
    return buffer.getvalue()


def time_form(table: str) -> str:
    """Return how ``table`` encodes its timestamps: ``micros``, ``millis`` or ``string``."""
    return TIME_FORMS.get(table, "string")


def heap_schema(table: str, columns: list[str]) -> dict[str, Any]:
    """Build the Avro record schema Heap would write for a table.

    Id columns are non-null ``long``; time columns follow :func:`time_form`
    (nullable ``long`` or ``string``); every other column is ``["null","string"]``.

    Args:
        table: The Heap table name; it decides the timestamp encoding.
        columns: The columns, in file order.

    Returns:
        The schema as a dict, ready for :func:`write_avro`.
    """
    form = time_form(table)
    fields: list[dict[str, Any]] = []
    for column in columns:
        if column in ID_COLUMNS:
            avro_type: Any = "long"
        elif column in TIME_COLUMNS and form != "string":
            avro_type = ["null", "long"]
        else:
            avro_type = ["null", "string"]
        fields.append({"name": column, "type": avro_type})
    # Spark, which writes Heap's files, names every top-level record this way.
    return {"type": "record", "name": "topLevelRecord", "fields": fields}


# --- value pools ---------------------------------------------------------------------

_FIRST_NAMES = (
    "maria", "james", "wei", "aisha", "lucas", "sofia", "noah", "emma", "liam", "olivia",
    "mateo", "yuki", "priya", "omar", "chloe", "diego", "hannah", "kofi", "ana", "lars",
    "fatima", "ethan", "ines", "raj", "zoe", "tomas", "mei", "david", "leila", "jonas",
)  # fmt: skip
_LAST_NAMES = (
    "garcia", "smith", "chen", "khan", "silva", "rossi", "muller", "nguyen", "patel", "kim",
    "johnson", "tanaka", "okafor", "dubois", "novak", "hansen", "lopez", "brown", "wilson",
    "cohen", "martin", "ivanova", "costa", "berg", "singh", "walker", "moreau", "sato",
)  # fmt: skip
_EMAIL_DOMAINS = ("example.com", "example.com", "example.com", "example.org", "example.net")
_GEO = (
    ("United States", "California", "San Francisco"),
    ("United States", "New York", "New York"),
    ("United States", "Texas", "Austin"),
    ("United States", "Washington", "Seattle"),
    ("United Kingdom", "England", "London"),
    ("Germany", "Berlin", "Berlin"),
    ("France", "Île-de-France", "Paris"),
    ("Spain", "Madrid", "Madrid"),
    ("Brazil", "São Paulo", "São Paulo"),
    ("Japan", "Tokyo", "Tokyo"),
    ("India", "Karnataka", "Bengaluru"),
    ("Canada", "Ontario", "Toronto"),
    ("Australia", "New South Wales", "Sydney"),
    ("Mexico", "Jalisco", "Guadalajara"),
)
# (browser, platform, device_type) for web sessions.
_WEB_CLIENTS = (
    ("Chrome", "Windows", "Desktop"),
    ("Chrome", "Windows", "Desktop"),
    ("Chrome", "Mac OS X", "Desktop"),
    ("Safari", "Mac OS X", "Desktop"),
    ("Safari", "iOS", "Mobile"),
    ("Safari", "iOS", "Mobile"),
    ("Chrome", "Android", "Mobile"),
    ("Firefox", "Windows", "Desktop"),
    ("Edge", "Windows", "Desktop"),
    ("Safari", "iOS", "Tablet"),
    ("Samsung Internet", "Android", "Mobile"),
    ("Firefox", "Linux", "Desktop"),
)
# (library, platform, device) for native app sessions.
_APP_CLIENTS = (
    ("ios", "iOS 18.1", "iPhone 15"),
    ("ios", "iOS 17.6", "iPhone 13"),
    ("ios", "iPadOS 18.1", "iPad Air"),
    ("android", "Android 15", "Pixel 8"),
    ("android", "Android 14", "Galaxy S24"),
)
# (referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content); Heap often
# sends '' rather than null for absent UTM values.
_CHANNELS = (
    (None, "", "", "", "", ""),
    (None, None, None, None, None, None),
    ("https://www.google.com/", "", "", "", "", ""),
    ("https://www.google.com/", "google", "cpc", "black_friday_2026", "trail running shoes", "ad_a"),
    ("https://www.google.com/", "google", "cpc", "brand_search", "acme outfitters", "ad_b"),
    ("https://www.bing.com/", None, None, None, None, None),
    (None, "newsletter", "email", "weekly_digest_47", "", "hero_button"),
    ("https://l.facebook.com/", "facebook", "paid_social", "retargeting_q4", "", "carousel_a"),
    ("https://news.ycombinator.com/", None, None, None, None, None),
    ("https://t.co/", "twitter", "social", "launch_thread", "", ""),
)
_PRODUCTS = (
    ("trail-runner-2", "Trail Runner 2"),
    ("city-sneaker", "City Sneaker"),
    ("merino-crew-sock", "Merino Crew Sock"),
    ("rain-shell-jacket", "Rain Shell Jacket"),
    ("canvas-tote", "Canvas Tote"),
    ("wool-beanie", "Wool Beanie"),
    ("daypack-22l", "Daypack 22L"),
    ("linen-shirt", "Linen Shirt"),
    ("down-vest", "Down Vest"),
    ("hiking-boot-gtx", "Hiking Boot GTX"),
)
_POSTS = (
    ("how-to-choose-trail-shoes", "How to choose trail shoes"),
    ("layering-101", "Layering 101"),
    ("packing-list-weekend-hike", "Packing list for a weekend hike"),
)
_SEARCHES = ("?q=jacket", "?q=trail+shoes", "?q=socks", "?q=gift+card", "?q=w%C3%A4rme+jacke")
_SITE = "Acme Outfitters"
_SHOP = "shop.example.com"
_STAGING = "staging.example.com"
_APP_NAME = "Acme Shop"
_PLANS = ("free", "free", "plus", "pro")
_CHECKOUT_WEB = ("/cart", "/checkout", "/checkout/payment", "/order/confirmation")
_CHECKOUT_APP = ("Cart", "Checkout", "Payment", "Order Confirmation")
_CONFIRMATION_PATH = "/order/confirmation"
_BUTTONS = ("Complete order", "Complete order", "Complete order", "Place order")
_OLD_BUTTONS = frozenset({"Complete order"})
_NEW_BUTTONS = frozenset({"Complete order", "Place order"})

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=16384)
def _minute_text(minute: int) -> str:
    day, minute_of_day = divmod(minute, 1440)
    d = date.fromordinal(_EPOCH_ORDINAL + day)
    return "%04d-%02d-%02d %02d:%02d:" % (
        d.year,
        d.month,
        d.day,
        minute_of_day // 60,
        minute_of_day % 60,
    )


def _time_text(ms: int) -> str:
    """Format epoch milliseconds as Heap's string form ``2026-11-20 08:30:00.123``."""
    seconds, millis = divmod(ms, 1000)
    minute, second = divmod(seconds, 60)
    return "%s%02d.%03d" % (_minute_text(minute), second, millis)


def _page_title(name: str) -> str:
    return f"{name} – {_SITE}"


def _web_page(rng: random.Random, kind: str) -> tuple[str, str, str, str]:
    """Return ``(path, query, hash, title)`` for a page of the given kind."""
    if kind == "product":
        slug, name = rng.choice(_PRODUCTS)
        return f"/products/{slug}", "", "#reviews" if rng.random() < 0.1 else "", _page_title(name)
    if kind == "post":
        slug, name = rng.choice(_POSTS)
        return f"/blog/{slug}", "", "", _page_title(name)
    if kind == "search":
        return "/search", rng.choice(_SEARCHES), "", _page_title("Search")
    if kind == "catalog":
        return "/products", "?sort=popular" if rng.random() < 0.3 else "", "", _page_title("Shop all")
    if kind == "account":
        return "/account", "", "", _page_title("Your account")
    return "/", "", "", _SITE


_BROWSE_KINDS = ("product", "product", "product", "catalog", "search", "post", "account", "home")
_APP_SCREENS = ("Home", "Product Detail", "Product Detail", "Search", "Category", "Account")


class _Visitors:
    """Builds realistic session contexts and page sequences from one rng."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def context(self, user_id: int, session_id: int, *, domain: str = _SHOP, web: bool | None = None) -> dict[str, Any]:
        """Return the fields every pageview of one session shares (plus session-only ones).

        ``web`` forces a browser (True) or app (False) session; by default 80% are web.
        """
        rng = self.rng
        country, region, city = rng.choice(_GEO)
        referrer, source, medium, campaign, term, content = rng.choice(_CHANNELS)
        is_web = rng.random() < 0.8
        if web is not None:
            is_web = web
        if is_web:
            browser, platform, device_type = rng.choice(_WEB_CLIENTS)
            library, device, app_name = "web", None, None
            site: str | None = domain
        else:
            library, platform, device = rng.choice(_APP_CLIENTS)
            device_type = "Tablet" if device.startswith("iPad") else "Mobile"
            browser, app_name, site = None, _APP_NAME, None
            referrer, source, medium, campaign, term, content = (None,) * 6
        first_octets = rng.choice(("203.0.113", "198.51.100", "192.0.2"))
        return {
            "user_id": user_id,
            "session_id": session_id,
            "library": library,
            "platform": platform,
            "device_type": device_type,
            "country": country,
            "region": region,
            "city": city,
            "ip": f"{first_octets}.{rng.randrange(1, 255)}",
            "referrer": referrer,
            "landing_page": None,
            "landing_page_query": None,
            "browser": browser,
            "utm_source": source,
            "utm_campaign": campaign,
            "utm_medium": medium,
            "utm_term": term,
            "utm_content": content,
            "domain": site,
            "device": device,
            "app_name": app_name,
            _PAGEVIEW_DRIFT_COLUMN: f"{rng.getrandbits(64):016x}",
        }

    def pages(
        self, ctx: dict[str, Any], length: int, checkout: bool
    ) -> list[tuple[str | None, str | None, str | None, str]]:
        """Return ``(path, query, hash, title)`` per page, setting the landing page on ``ctx``."""
        rng = self.rng
        if ctx["library"] != "web":
            screens = [rng.choice(_APP_SCREENS) for _ in range(length)]
            if checkout:
                screens.extend(_CHECKOUT_APP)
            return [(None, None, None, screen) for screen in screens]
        if ctx["utm_source"]:
            first = _web_page(rng, "product")
            query = f"?utm_source={ctx['utm_source']}&utm_medium={ctx['utm_medium']}"
            first = (first[0], query, "", first[3])
        else:
            first = _web_page(rng, rng.choice(("home", "home", "product", "post")))
        pages = [first]
        pages.extend(_web_page(rng, rng.choice(_BROWSE_KINDS)) for _ in range(length - 1))
        if checkout:
            pages.extend(
                (path, "", "", _page_title(path.strip("/").replace("/", " ").title())) for path in _CHECKOUT_WEB
            )
        landing = f"https://{ctx['domain']}{first[0]}"
        # Heap sometimes keeps a trailing slash on the landing page.
        ctx["landing_page"] = landing + "/" if first[0] != "/" and rng.random() < 0.1 else landing
        ctx["landing_page_query"] = first[1]
        return pages


def _pageview(ctx: dict[str, Any], event_id: int, ms: int, page: tuple[Any, ...]) -> dict[str, Any]:
    row = ctx.copy()
    row["event_id"] = event_id
    row["time"] = _time_text(ms)
    row["path"], row["query"], row["hash"], row["title"] = page
    return row


# --- the benchmark stream ---------------------------------------------------------------

_BENCH_START = datetime(2026, 11, 18, tzinfo=timezone.utc)


def pageview_records(
    n: int,
    *,
    seed: int = 1,
    start_event_id: int = 1,
    columns: list[str] | None = None,
    start: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream ``n`` realistic pageview rows quickly, for benchmarks.

    Rows come in sessions of a few pages each, share a pool of ``n // 25``
    users, have consecutive event ids from ``start_event_id``, and string times
    spread over a week from ``start``.

    Args:
        n: How many rows to yield.
        seed: Seeds the private ``random.Random``.
        start_event_id: The first event id.
        columns: The keys each row holds (default :data:`PAGEVIEW_COLUMNS`);
            ``heap_device_id`` is known, any other unknown column is ``None``.
        start: The first row's time (default 2026-11-18 00:00 UTC).

    Yields:
        One dict per pageview.
    """
    rng = random.Random(seed)
    visitors = _Visitors(rng)
    users = [rng.getrandbits(53) for _ in range(max(1, n // 25))]
    ms = int((start or _BENCH_START).timestamp() * 1000)
    mean_step = max(1, (7 * _DAY_MS) // max(n, 1))
    keys = list(PAGEVIEW_COLUMNS if columns is None else columns)
    per_row = {"event_id", "time", "path", "query", "hash", "title"}
    full = per_row <= set(keys)
    event_id = start_event_id
    produced = 0
    while produced < n:
        ctx = visitors.context(rng.choice(users), rng.getrandbits(52))
        pages = visitors.pages(ctx, rng.randint(1, 8), rng.random() < 0.05)
        # Session-level values are picked once; each row copies them and adds its own.
        base = {c: ctx.get(c) for c in keys}
        for page in pages[: n - produced]:
            row = base.copy()
            row["event_id"] = event_id
            row["time"] = _time_text(ms)
            row["path"], row["query"], row["hash"], row["title"] = page
            if not full:
                row = {c: row[c] for c in keys}
            event_id += 1
            produced += 1
            ms += rng.randint(0, 2 * mean_step)
            yield row


# --- the bucket ---------------------------------------------------------------------


@dataclass
class HeapBucket:
    """The objects of a generated Heap Connect bucket and what loading them should give.

    Attributes:
        bucket: The bucket name.
        objects: S3 key → object body.
        dump_ids: The dumps that have a manifest, in numeric order.
        summary: Heap table → distinct rows expected after applying every dump
            (incremental tables upserted on their key, full ones replaced).
        daily_summary: Table → distinct rows across the seven daily
            ``exports/<table>-<YYYY-MM-DD>.avro`` files.
    """

    bucket: str
    objects: dict[str, bytes]
    dump_ids: list[int]
    summary: dict[str, int]
    daily_summary: dict[str, int] = field(default_factory=dict)


@dataclass
class _Dump:
    """What one dump sends, before it is split into part files."""

    dump_id: int
    tables: dict[str, tuple[list[str], list[dict[str, Any]], bool]] = field(default_factory=dict)
    """Table → (columns, rows, incremental)."""


_WINDOW_EDGES = (0.0, 0.45, 0.70, 0.87, 1.0)
_NEW_USER_SHARE = (0.55, 0.20, 0.15, 0.10)
_PAGEVIEW_SHARE = (0.50, 0.20, 0.15, 0.15)
_HOUR_MS = 3_600_000
_DAY_MS = 86_400_000


def _shares(total: int, shares: tuple[float, ...]) -> list[int]:
    counts = [int(total * share) for share in shares[:-1]]
    counts.append(total - sum(counts))
    return counts


class _Generator:
    """Builds every dump in order; one instance per :func:`generate_heap_bucket` call."""

    def __init__(self, seed: int, users: int, pageviews: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.visitors = _Visitors(self.rng)
        self.users_total = users
        self.pageviews_total = pageviews
        midnight = datetime(today.year, today.month, today.day, tzinfo=timezone.utc)
        self.end_ms = int(midnight.timestamp() * 1000)
        self.start_ms = self.end_ms - 7 * _DAY_MS
        self.next_event_id = 7_000_000_000_000 + self.rng.randrange(10**9)
        self.taken_ids: set[int] = set()
        self.users: dict[int, dict[str, Any]] = {}  # user_id -> latest row
        self.identified: list[int] = []
        self.anonymous: list[int] = []
        self.migrations: list[dict[str, Any]] = []
        self.migrated_from: set[int] = set()
        self.migrated_to: list[int] = []
        self.clicks: list[dict[str, Any]] = []  # every checkout click ever made
        self.confirmations: list[dict[str, Any]] = []  # not yet sent in a dump

    # ids and times

    def _unique_id(self, bits: int) -> int:
        while True:
            value = self.rng.getrandbits(bits)
            if value > 10**6 and value not in self.taken_ids:
                self.taken_ids.add(value)
                return value

    def _event_id(self) -> int:
        self.next_event_id += self.rng.randint(1, 40)
        return self.next_event_id

    def _window(self, index: int) -> tuple[int, int]:
        span = self.end_ms - self.start_ms
        return (
            self.start_ms + int(span * _WINDOW_EDGES[index]),
            self.start_ms + int(span * _WINDOW_EDGES[index + 1]),
        )

    # users

    def _email(self, first: str, last: str) -> str:
        suffix = "" if self.rng.random() < 0.6 else str(self.rng.randrange(2, 99))
        return f"{first}.{last}{suffix}@{self.rng.choice(_EMAIL_DOMAINS)}"

    def new_user(self, start_ms: int, end_ms: int, *, plan: bool) -> dict[str, Any]:
        """Create, remember and return a user who joined in ``[start_ms, end_ms)``."""
        rng = self.rng
        user_id = self._unique_id(53)
        joined_us = rng.randrange(start_ms, end_ms) * 1000 + rng.randrange(1000)
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        row: dict[str, Any] = dict.fromkeys(USER_COLUMNS)
        row.update(user_id=user_id, joindate=joined_us)
        row["last_modified"] = joined_us + rng.randrange(1, 600_000_000)
        if rng.random() < 0.6:
            email = self._email(first, last)
            row.update(
                email=email,
                identity=email if rng.random() < 0.75 else f"cus_{rng.getrandbits(40):010x}",
                handle=f"{first[0]}{last}" if rng.random() < 0.5 else None,
                customer_id=str(rng.randrange(100_000, 999_999)),
                first_name=first.title(),
                last_name=last.title(),
                marketing_opt_in=rng.choice(("true", "false")),
            )
            self.identified.append(user_id)
        else:
            self.anonymous.append(user_id)
        row[_USER_DRIFT_COLUMN] = rng.choice(_PLANS) if plan else None
        self.users[user_id] = row
        return row

    def changed_user(self, user_id: int, start_ms: int, end_ms: int, *, plan: bool) -> dict[str, Any]:
        """Re-send a user with a later ``last_modified`` and changed details."""
        rng = self.rng
        row = dict(self.users[user_id])
        modified = rng.randrange(start_ms, end_ms) * 1000 + rng.randrange(1000)
        row["last_modified"] = max(modified, row["last_modified"] + 1)
        if row["email"]:
            first, last = row["first_name"].lower(), row["last_name"].lower()
            old = row["email"]
            row["email"] = self._email(first, last)
            if row["identity"] == old:
                row["identity"] = row["email"]
            row["marketing_opt_in"] = "false" if row["marketing_opt_in"] == "true" else "true"
        else:
            row["handle"] = f"guest{rng.randrange(1000, 9999)}"
        if plan:
            row[_USER_DRIFT_COLUMN] = rng.choice(_PLANS[1:])
        self.users[user_id] = row
        return row

    # identity merges

    def add_migrations(self, count: int, start_ms: int, end_ms: int, chain: bool) -> None:
        """Merge ``count`` anonymous users into identified ones (plus one chain link)."""
        rng = self.rng
        fresh_from = [u for u in self.anonymous if u not in self.migrated_from]
        fresh_to = [u for u in self.identified if u not in self.migrated_from and u not in self.migrated_to]
        pairs: list[tuple[int, int]] = []
        link_from = next((u for u in self.migrated_to if u not in self.migrated_from), None)
        if chain and link_from is not None and fresh_to:
            # b→c where a→b already exists, so a loader must follow a→b→c.
            pairs.append((link_from, fresh_to.pop()))
        rng.shuffle(fresh_from)
        for from_id in fresh_from[:count]:
            if not fresh_to:
                break
            pairs.append((from_id, rng.choice(fresh_to)))
        for from_id, to_id in pairs:
            self.migrated_from.add(from_id)
            self.migrated_to.append(to_id)
            self.migrations.append(
                {
                    "from_user_id": from_id,
                    "to_user_id": to_id,
                    "time": _time_text(rng.randrange(start_ms, end_ms)),
                }
            )

    # sessions, pageviews and events

    def sessions(
        self,
        count: int,
        start_ms: int,
        end_ms: int,
        *,
        new_users: list[int] | None = None,
        pool: list[int] | None = None,
        forced: list[str] | None = None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """Generate exactly ``count`` pageviews in sessions; return (sessions, pageviews, clicks).

        Half the sessions go to ``new_users`` when given, the rest to ``pool``
        (default: every user so far). ``forced`` lists special checkout sessions
        to start with: ``"staging"`` (a "Complete order" click on the staging
        site) or ``"place_order"`` (a "Place order" click on the shop).
        """
        rng, visitors = self.rng, self.visitors
        everyone = pool if pool is not None else list(self.users)
        forced = list(forced or [])
        session_rows: list[dict[str, Any]] = []
        pageviews: list[dict[str, Any]] = []
        clicks: list[dict[str, Any]] = []
        while len(pageviews) < count:
            special = forced.pop(0) if forced else None
            if new_users and rng.random() < 0.5:
                user_id = rng.choice(new_users)
            else:
                user_id = rng.choice(everyone)
            joined_ms = self.users[user_id]["joindate"] // 1000 if pool is None else 0
            low = max(start_ms, joined_ms + 1)
            started = rng.randrange(low, max(low + 1, end_ms - _HOUR_MS))
            staging = special == "staging" or (special is None and rng.random() < 0.03)
            ctx = visitors.context(
                user_id,
                self._unique_id(52),
                domain=_STAGING if staging else _SHOP,
                web=True if special else None,
            )
            checkout = special is not None or rng.random() < 0.15
            pages = visitors.pages(ctx, rng.randint(1, 8), checkout)
            remaining = count - len(pageviews)
            if len(pages) > remaining:
                # Cut the last session short: an abandoned visit, with no order placed.
                pages, checkout = pages[:remaining], False
            ms = started
            first_event = 0
            for index, page in enumerate(pages):
                view = _pageview(ctx, self._event_id(), ms, page)
                first_event = first_event or view["event_id"]
                pageviews.append(view)
                if checkout and index == len(pages) - 2:
                    click_ms = ms + rng.randrange(5_000, 40_000)
                    click = _pageview(ctx, self._event_id(), click_ms, page)
                    if special == "place_order":
                        click["target_text"] = "Place order"
                    elif special == "staging":
                        click["target_text"] = "Complete order"
                    else:
                        click["target_text"] = rng.choice(_BUTTONS)
                    click["href"] = _CONFIRMATION_PATH if ctx["library"] == "web" else None
                    clicks.append(click)
                    ms = click_ms
                elif page[0] == _CONFIRMATION_PATH:
                    self.confirmations.append(dict(view, target_text=None, href=None))
                ms += rng.randrange(8_000, 180_000)
            session = {c: ctx.get(c) for c in SESSION_COLUMNS}
            session["event_id"] = first_event
            session["time"] = started
            session_rows.append(session)
        return session_rows, pageviews, clicks


def _split(rows: list[dict[str, Any]], parts: int, rng: random.Random) -> list[list[dict[str, Any]]]:
    """Shuffle rows (Spark partitions carry no order) and cut them into ``parts`` files."""
    rows = list(rows)
    rng.shuffle(rows)
    size = math.ceil(len(rows) / parts) if rows else 0
    return [rows[i * size : (i + 1) * size] for i in range(parts)]


def _shuffled_keys(keys: list[str], rng: random.Random) -> list[str]:
    """Return keys in an order that is never the numeric one when there are two or more."""
    shuffled = list(keys)
    rng.shuffle(shuffled)
    if len(shuffled) > 1 and shuffled == keys:
        shuffled.reverse()
    return shuffled


_PART_COUNTS = {
    998: {"users": 3, "sessions": 4, CHECKOUT_TABLE: 2},
    1004: {"users": 2, "sessions": 3, "pageviews": 4},
    1011: {"users": 2, "sessions": 2, "pageviews": 3},
    1020: {"sessions": 2, "pageviews": 3, CHECKOUT_TABLE: 2},
}
_EMPTY_PART = (_RESEND_DUMP, "sessions", 1)
"""Spark sometimes writes an empty part file; loaders must accept one."""

_PROPERTY_DEFINITIONS = [
    {
        "name": "Marketing Channel",
        "type": "event",
        "cases": [
            {"value": "Paid Search", "condition": "utm_medium = 'cpc'"},
            {"value": "Email", "condition": "utm_medium = 'email'"},
            {"value": "Paid Social", "condition": "utm_medium = 'paid_social'"},
            {"value": "Organic Search", "condition": "referrer contains 'google.com'"},
        ],
        "default": "Direct",
    },
    {
        "name": "Is Staging",
        "type": "event",
        "cases": [{"value": "true", "condition": f"domain = '{_STAGING}'"}],
        "default": "false",
    },
]

_EVENT_METADATA_ROWS = [
    {
        "event_table_name": CHECKOUT_TABLE,
        "event_name": "Checkout - Complete Order",
        "event_type": "click",
        "definition": json.dumps({"target_text": sorted(_OLD_BUTTONS)}),
    },
    {
        "event_table_name": CONFIRMATION_TABLE,
        "event_name": "[Key Events] PM - Order Confirmation Page (Complete Order)",
        "event_type": "view page",
        "definition": json.dumps({"path": _CONFIRMATION_PATH}),
    },
]


def _build_dumps(gen: _Generator) -> list[_Dump]:
    """Decide every dump's tables and rows, in dump order."""
    rng = gen.rng
    new_counts = _shares(gen.users_total, _NEW_USER_SHARE)
    view_counts = _shares(gen.pageviews_total, _PAGEVIEW_SHARE)
    dumps: list[_Dump] = []
    previous_views: list[dict[str, Any]] = []
    previous_sessions: list[dict[str, Any]] = []
    for index, dump_id in enumerate(DUMP_IDS):
        start_ms, end_ms = gen._window(index)
        dump = _Dump(dump_id)
        drift = dump_id >= _DRIFT_DUMP
        user_columns = USER_COLUMNS + [_USER_DRIFT_COLUMN] if drift else USER_COLUMNS
        view_columns = PAGEVIEW_COLUMNS + [_PAGEVIEW_DRIFT_COLUMN] if drift else PAGEVIEW_COLUMNS

        # Users: new ones, plus earlier users re-sent with changes.
        existing = list(gen.users)
        join_end = max(start_ms + 1, end_ms - 2 * _HOUR_MS)
        new_rows = [gen.new_user(start_ms, join_end, plan=drift) for _ in range(new_counts[index])]
        user_rows = [dict(row) for row in new_rows]
        if existing:
            share = 0.08 if dump_id == _DRIFT_DUMP else 0.05
            for user_id in rng.sample(existing, max(1, int(len(existing) * share))):
                user_rows.append(dict(gen.changed_user(user_id, start_ms, end_ms, plan=drift)))
        dump.tables["users"] = (user_columns, user_rows, index > 0)

        # Sessions and pageviews; the first dump forces the rows the resync test needs.
        forced = ["staging", "place_order"] if index == 0 else []
        sessions, views, clicks = gen.sessions(
            view_counts[index],
            start_ms,
            end_ms,
            new_users=[r["user_id"] for r in new_rows],
            forced=forced,
        )
        session_rows = list(sessions)
        if dump_id == _RESEND_DUMP and previous_sessions:
            # Heap is known to send the same session again, unchanged.
            resend = max(1, len(previous_sessions) // 50)
            session_rows.extend(dict(s) for s in rng.sample(previous_sessions, resend))
        dump.tables["sessions"] = (SESSION_COLUMNS, session_rows, index > 0)
        view_rows = list(views)
        if dump_id == _DRIFT_DUMP and previous_views:
            # Rows re-sent with the new column filled and an edited page title.
            titled = [v for v in previous_views if " – " in (v["title"] or "")]
            for view in rng.sample(titled, min(len(titled), max(1, len(previous_views) // 30))):
                view_rows.append(dict(view, title=view["title"].replace(" – ", " | ")))
        dump.tables["pageviews"] = (view_columns, view_rows, index > 0)
        previous_views = views
        previous_sessions = sessions

        # Identity merges: the whole mapping, every time.
        gen.add_migrations(max(1, len(new_rows) // 40), start_ms, end_ms, chain=index == 1)
        dump.tables["user_migrations"] = (
            MIGRATION_COLUMNS,
            [dict(m) for m in gen.migrations],
            False,
        )

        # Event tables.
        gen.clicks.extend(clicks)
        if dump_id == _RESYNC_DUMP:
            # The event definition was edited: Heap rebuilds the table from all history.
            matching = [c for c in gen.clicks if c["target_text"] in _NEW_BUTTONS and c["domain"] == _SHOP]
            dump.tables[CHECKOUT_TABLE] = (EVENT_COLUMNS, [dict(c) for c in matching], False)
        else:
            matching = [c for c in clicks if c["target_text"] in _OLD_BUTTONS]
            dump.tables[CHECKOUT_TABLE] = (EVENT_COLUMNS, [dict(c) for c in matching], index > 0)
        if dump_id != _DRIFT_DUMP:
            # Absent from the drift dump: that dump made no change to the table.
            dump.tables[CONFIRMATION_TABLE] = (
                EVENT_COLUMNS,
                [dict(c) for c in gen.confirmations],
                index > 0,
            )
            gen.confirmations = []
        if index in (0, len(DUMP_IDS) - 1):
            dump.tables[EVENT_METADATA_TABLE] = (
                EVENT_METADATA_COLUMNS,
                [dict(r) for r in _EVENT_METADATA_ROWS],
                False,
            )
        dumps.append(dump)
    return dumps


def _expected_summary(dumps: list[_Dump]) -> dict[str, int]:
    """Count distinct keys per table after replaying dumps the way a loader should."""
    keys = {"users": "user_id", "sessions": "session_id", "user_migrations": "from_user_id"}
    seen: dict[str, set[int]] = {}
    for dump in dumps:
        for table, (_columns, rows, incremental) in dump.tables.items():
            if table == EVENT_METADATA_TABLE:
                continue
            key = keys.get(table, "event_id")
            if not incremental:
                seen[table] = set()
            seen.setdefault(table, set()).update(row[key] for row in rows)
    return {table: len(ids) for table, ids in seen.items()}


def _daily_exports(gen: _Generator, today: date, objects: dict[str, bytes]) -> dict[str, int]:
    """Write ``exports/<table>-<YYYY-MM-DD>.avro`` for the seven days ending ``today``.

    A file dated D holds the day before D, as a nightly export would. Users come
    from a pool about twice a day's size, so they recur across days, each time
    with a later ``last_modified`` and sometimes a changed email.
    """
    rng = gen.rng
    per_day_users = max(10, min(300, gen.users_total // 10))
    per_day_views = max(10, min(400, gen.pageviews_total // 20))
    pool = rng.sample(list(gen.users), min(len(gen.users), per_day_users * 2))
    state: dict[int, dict[str, Any]] = {}
    for user_id in pool:
        # These users predate the week, so their activity never precedes joindate.
        joined_us = (gen.start_ms - rng.randrange(_DAY_MS, 90 * _DAY_MS)) * 1000
        row = {c: gen.users[user_id].get(c) for c in USER_COLUMNS}
        row.update(joindate=joined_us, last_modified=joined_us + rng.randrange(1, 10**9))
        state[user_id] = row
    seen: dict[str, set[int]] = {"users": set(), "sessions": set(), "pageviews": set()}
    for offset in range(6, -1, -1):
        day = today - timedelta(days=offset)
        end_ms = gen.end_ms - offset * _DAY_MS
        start_ms = end_ms - _DAY_MS
        picked = rng.sample(pool, min(len(pool), per_day_users))
        users = []
        for user_id in picked:
            row = dict(state[user_id])
            row["last_modified"] = rng.randrange(start_ms, end_ms) * 1000 + rng.randrange(1000)
            if row["email"] and rng.random() < 0.2:
                row["email"] = gen._email(row["first_name"].lower(), row["last_name"].lower())
            state[user_id] = row
            users.append(row)
        sessions, views, _clicks = gen.sessions(per_day_views, start_ms, end_ms, pool=picked)
        for table, columns, rows, key in (
            ("users", USER_COLUMNS, users, "user_id"),
            ("sessions", SESSION_COLUMNS, sessions, "session_id"),
            ("pageviews", PAGEVIEW_COLUMNS, views, "event_id"),
        ):
            objects[f"exports/{table}-{day.isoformat()}.avro"] = write_avro(
                rows, heap_schema(table, columns), sync_marker=rng.randbytes(16)
            )
            seen[table].update(row[key] for row in rows)
    gen.confirmations = []
    return {table: len(ids) for table, ids in seen.items()}


def generate_heap_bucket(
    bucket: str = "heap-rs3-demo",
    *,
    seed: int = 7,
    users: int = 3000,
    pageviews: int = 30000,
    today: date | None = None,
) -> HeapBucket:
    """Generate the objects of a realistic Heap Connect bucket.

    Four dumps (998, 1004, 1011, 1020): a full backfill; an incremental dump
    with changed users; an incremental dump with schema drift (users gain
    ``plan``, pageviews gain ``heap_device_id``); and an incremental dump with a
    full resync of ``checkout_complete_order``. ``user_migrations`` is full every
    time and contains an a→b, b→c chain. Manifests list files out of order.
    Decoys: ``imported_manifests/sync_998.json`` and a ``sync_1031/`` folder
    without a manifest. Also seven daily ``exports/<table>-<date>.avro`` files
    per table for pattern-based feeds.

    Args:
        bucket: The bucket name used in the manifests' ``s3://`` URIs.
        seed: Seeds the private ``random.Random``; same seed and ``today``, same bytes.
        users: Distinct users across all dumps.
        pageviews: Distinct pageviews across all dumps.
        today: The day the data ends (exclusive); default ``date.today()``.

    Returns:
        The objects, the dump ids and the expected distinct row counts.

    Raises:
        ValueError: ``users`` or ``pageviews`` is too small for a useful bucket.
    """
    if users < 20 or pageviews < 100:
        raise ValueError("generate at least 20 users and 100 pageviews")
    today = today or date.today()
    gen = _Generator(seed, users, pageviews, today)
    dumps = _build_dumps(gen)
    rng = gen.rng
    objects: dict[str, bytes] = {}
    manifests: dict[int, bytes] = {}
    for dump in dumps:
        entries: list[dict[str, Any]] = []
        for table, (columns, rows, incremental) in dump.tables.items():
            if table == "pageviews" and dump.dump_id == DUMP_IDS[0]:
                parts = max(12, math.ceil(len(rows) / 1500))
            else:
                parts = _PART_COUNTS.get(dump.dump_id, {}).get(table, 1)
            chunks = _split(rows, parts, rng)
            if _EMPTY_PART[:2] == (dump.dump_id, table):
                chunks.insert(_EMPTY_PART[2], [])
            job = uuid.UUID(int=rng.getrandbits(128), version=4)
            schema = heap_schema(table, columns)
            keys: list[str] = []
            for number, chunk in enumerate(chunks):
                key = f"sync_{dump.dump_id}/{table}/part-{number:05d}-{job}-c000.avro"
                objects[key] = write_avro(chunk, schema, sync_marker=rng.randbytes(16))
                keys.append(key)
            entries.append(
                {
                    "name": table,
                    "columns": list(columns),
                    "files": [f"s3://{bucket}/{k}" for k in _shuffled_keys(keys, rng)],
                    "incremental": incremental,
                }
            )
        definitions_key = f"sync_{dump.dump_id}/property_definitions.json"
        objects[definitions_key] = json.dumps(
            {"dump_id": dump.dump_id, "properties": _PROPERTY_DEFINITIONS}, indent=2
        ).encode()
        manifest = {
            "dump_id": dump.dump_id,
            "tables": entries,
            "property_definitions": f"s3://{bucket}/{definitions_key}",
        }
        manifests[dump.dump_id] = json.dumps(manifest, indent=2).encode()
        objects[f"manifests/sync_{dump.dump_id}.json"] = manifests[dump.dump_id]

    summary = _expected_summary(dumps)
    daily = _daily_exports(gen, today, objects)

    # Decoys: another tool's copy of a manifest, and a dump still being written.
    objects[f"imported_manifests/sync_{DUMP_IDS[0]}.json"] = manifests[DUMP_IDS[0]]
    start_ms, end_ms = gen.end_ms - 6 * _HOUR_MS, gen.end_ms - _HOUR_MS
    half_written = [gen.new_user(start_ms, end_ms, plan=True) for _ in range(max(3, users // 20))]
    job = uuid.UUID(int=rng.getrandbits(128), version=4)
    objects[f"sync_{DECOY_DUMP_ID}/users/part-00000-{job}-c000.avro"] = write_avro(
        half_written,
        heap_schema("users", USER_COLUMNS + [_USER_DRIFT_COLUMN]),
        sync_marker=rng.randbytes(16),
    )
    return HeapBucket(
        bucket=bucket,
        objects=objects,
        dump_ids=list(DUMP_IDS),
        summary=summary,
        daily_summary=daily,
    )
