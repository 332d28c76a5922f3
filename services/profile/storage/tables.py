"""Profile's tables. Facts (orders, lines, engagement, consent history) are kept
so that computed attributes are derived from them, whatever order events arrive in.

Computed instants used in segment arithmetic are stored as epoch seconds
(`*_ts`, BIGINT): "last order + 1.2 × usual interval < as_of" is then plain
integer arithmetic, indexable, with no time zone to get wrong.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

from declic.kit.database import UtcDateTime
from declic.kit.inbox import inbox_table
from declic.kit.outbox import outbox_table

metadata = MetaData()

ACTIVE, MERGED, ERASED = "active", "merged", "erased"

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("status", String(10), nullable=False),  # ACTIVE, MERGED (see survivor_id) or ERASED
    Column("survivor_id", String(64)),
    Column("first_name", Text, nullable=False, default=""),
    Column("last_name", Text, nullable=False, default=""),
    Column("birth_date", String(10), nullable=False, default=""),
    Column("birth_month", SmallInteger),
    Column("birth_day", SmallInteger),
    Column("locale", String(35), nullable=False, default=""),
    Column("timezone", String(64), nullable=False, default=""),  # as given by the person
    Column("inferred_timezone", String(64), nullable=False, default=""),  # from the phone number's country
    Column("attributes", Text, nullable=False, default="{}"),  # JSON object of strings
    Column("field_times", Text, nullable=False, default="{}"),  # JSON: field → ISO time of the event that set it
    Column("first_seen_at", UtcDateTime()),
    Column("updated_at", UtcDateTime(), nullable=False),
    # Derived from `orders` (see storage.bulk, refresh_order_stats).
    Column("order_count", Integer, nullable=False, default=0),
    Column("first_order_ts", BigInteger),
    Column("last_order_ts", BigInteger),
    Column("avg_interval_seconds", BigInteger),
    Column("monetary_cents", BigInteger, nullable=False, default=0),
    Column("discounted_order_count", Integer, nullable=False, default=0),
    Column("currency", String(3), nullable=False, default=""),
    # Derived from identifiers + consents + channel_blocks (see storage.bulk, refresh_derived).
    Column("email_contactable", Boolean, nullable=False, default=False),
    Column("sms_contactable", Boolean, nullable=False, default=False),
    Column("push_contactable", Boolean, nullable=False, default=False),
    Column("print_contactable", Boolean, nullable=False, default=False),
    Column("call_center_contactable", Boolean, nullable=False, default=False),
    Index("ix_customers_birthday", "birth_month", "birth_day"),
    Index("ix_customers_last_order", "last_order_ts"),
    Index("ix_customers_survivor", "survivor_id"),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("id_type", String(20), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Index("ix_identifiers_customer", "customer_id"),
)

consents = Table(
    "consents",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("state", String(10), nullable=False),
    Column("legal_basis", String(30), nullable=False),
    Column("source", Text, nullable=False),
    Column("given_at", UtcDateTime(), nullable=False),
)

consent_history = Table(
    "consent_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("customer_id", String(64), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("state", String(10), nullable=False),
    Column("legal_basis", String(30), nullable=False),
    Column("source", Text, nullable=False),
    Column("given_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("origin", Text, nullable=False),  # "event <id>", "unsubscribe <message>", "merge of <id>"
    Index("ix_consent_history_customer", "customer_id", "given_at"),
)

channel_blocks = Table(
    "channel_blocks",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("reason", String(30), nullable=False),  # "bounced", "complained"
    Column("blocked_at", UtcDateTime(), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("kind", String(10), primary_key=True),  # "purchase" or "return"
    Column("customer_id", String(64), nullable=False),
    Column("ordered_at", UtcDateTime(), nullable=False),
    Column("ordered_ts", BigInteger, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),  # net of discounts; positive for returns too
    Column("discount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("original_order_id", Text, nullable=False),
    Column("line_count", Integer, nullable=False),
    Index("ix_orders_customer", "customer_id", "ordered_ts"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("ordered_ts", BigInteger, nullable=False),
    Column("product_id", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("pack_size", String(20), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    # Whether the catalogue knew the product when the line was stored, i.e. whether its appetence
    # signals (category and attributes) were complete; a later ProductUpsert completes the others.
    Column("catalogued", Boolean, nullable=False, default=False),
    Index("ix_order_lines_category", "category", "ordered_ts"),
    Index("ix_order_lines_customer", "customer_id"),
    Index("ix_order_lines_product", "product_id"),
)

engagement_counts = Table(
    "engagement_counts",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("kind", String(20), primary_key=True),  # "opened", "clicked", "bounced", ...
    Column("count", Integer, nullable=False),
    Column("last_at", UtcDateTime(), nullable=False),
)

appetences = Table(
    "appetences",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("dimension", String(50), primary_key=True),  # "category" or a product attribute ("animal")
    Column("value", Text, primary_key=True),
    Column("score", Float, nullable=False),  # decayed sum of signal weights, as of anchor_ts
    Column("anchor_ts", BigInteger, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("product_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("pack_size", String(20), nullable=False),
    Column("attributes", Text, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("identifier_hash", String(64), primary_key=True),
    Column("erased_at", UtcDateTime(), nullable=False),
)

inbox = inbox_table(metadata)
outbox = outbox_table(metadata)

PERSONAL_TABLES = (customers, identifiers, consents, consent_history, channel_blocks, orders, order_lines,
                   engagement_counts, appetences)
