"""The domain tables (SQLModel). Alembic migrations are generated from this metadata.

Conventions: timestamps are `timestamptz`, money is `numeric(14,2)`, months are the first
(or Santander's 28th) day of the month as `date`, free-form structures (feature snapshots,
explanations, metrics) are JSONB. Indexes follow the queries that use them: a client's
history by time, offers by client and time, the outbox by pending state.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from core.domain import OPERATION_CATEGORIES

# Naming convention so that alembic sees stable constraint names (no drift in `alembic check`).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY = sa.Numeric(14, 2)


def _tstz(nullable: bool = False, default_now: bool = False) -> Any:
    return sa.Column(
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=sa.func.now() if default_now else None,
    )


def _jsonb(nullable: bool = False, default: str = "{}") -> Any:
    return sa.Column(JSONB, nullable=nullable, server_default=sa.text(f"'{default}'::jsonb"))


def _text_array() -> Any:
    return sa.Column(ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]"))


operation_category = sa.Enum(*OPERATION_CATEGORIES, name="operation_category")


class Dataset(SQLModel, table=True):
    """One load of real data or one simulator run; clients point back to it."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # santander | synthetic
    name: str = Field(max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=_jsonb())
    first_month: date | None = None
    n_months: int | None = None
    truth_path: str | None = Field(default=None, max_length=500)
    created_at: datetime | None = Field(default=None, sa_column=_tstz(default_now=True))

    __table_args__ = (sa.CheckConstraint("kind IN ('santander', 'synthetic')", name="kind"),)


class Product(SQLModel, table=True):
    """Catalog entry: a bank product (Santander short code) or a partner offer."""

    code: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=16)  # bank | partner
    category: str = Field(max_length=32)
    name_ru: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    description_ru: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    description_en: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    min_age: int = 0
    max_age: int | None = None
    is_credit: bool = False
    monthly_payment: Decimal | None = Field(default=None, sa_column=sa.Column(MONEY, nullable=True))
    requires: list[str] = Field(default_factory=list, sa_column=_text_array())
    conflicts: list[str] = Field(default_factory=list, sa_column=_text_array())
    complements: list[str] = Field(default_factory=list, sa_column=_text_array())
    life_events: list[str] = Field(default_factory=list, sa_column=_text_array())
    active: bool = True

    __table_args__ = (
        sa.CheckConstraint("kind IN ('bank', 'partner')", name="kind"),
        sa.CheckConstraint("min_age >= 0", name="min_age"),
    )


class Client(SQLModel, table=True):
    """Questionnaire data as in the Santander file (latest month), plus contact consent.

    `imputed_fields` names the fields that were missing in the source and filled in, so a
    model or an analyst can tell a real value from a filled one.
    """

    id: int = Field(primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False})
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id", index=True)
    snapshot_month: date | None = None
    employee_status: str | None = Field(default=None, max_length=1)  # ind_empleado A/B/F/N/P
    country: str | None = Field(default=None, max_length=2)  # pais_residencia
    sex: str | None = Field(default=None, max_length=1)  # sexo H/V as in the source
    age: int | None = None
    first_contract_date: date | None = None  # fecha_alta
    is_new: bool = False  # ind_nuevo
    seniority_months: int | None = None  # antiguedad
    primary_status: int | None = None  # indrel 1 / 99
    last_primary_date: date | None = None  # ult_fec_cli_1t
    customer_type: str | None = Field(default=None, max_length=2)  # indrel_1mes
    relation_type: str | None = Field(default=None, max_length=1)  # tiprel_1mes
    is_resident: bool = True  # indresi
    is_foreigner: bool = False  # indext
    spouse_of_employee: bool | None = None  # conyuemp
    join_channel: str | None = Field(default=None, max_length=3)  # canal_entrada
    is_deceased: bool = False  # indfall
    address_type: int | None = None  # tipodom
    province_code: int | None = None  # cod_prov
    province_name: str | None = Field(default=None, max_length=100)  # nomprov
    is_active: bool = False  # ind_actividad_cliente
    income: Decimal | None = Field(default=None, sa_column=sa.Column(MONEY, nullable=True))  # renta
    segment: str | None = Field(default=None, max_length=16)  # top | individual | student
    language: str = Field(default="ru", max_length=2)
    marketing_consent: bool = True
    contact_opt_out: bool = False
    imputed_fields: list[str] = Field(default_factory=list, sa_column=_text_array())
    registered_at: datetime | None = Field(default=None, sa_column=_tstz(default_now=True))

    __table_args__ = (
        sa.CheckConstraint("age IS NULL OR (age >= 0 AND age <= 130)", name="age"),
        sa.CheckConstraint("income IS NULL OR income >= 0", name="income"),
        sa.CheckConstraint("segment IS NULL OR segment IN ('top', 'individual', 'student')", name="segment"),
    )


class Holding(SQLModel, table=True):
    """Monthly snapshot: client held product in month."""

    client_id: int = Field(foreign_key="client.id", primary_key=True, sa_type=sa.BigInteger)
    month: date = Field(primary_key=True)
    product_code: str = Field(foreign_key="product.code", primary_key=True, max_length=32)

    __table_args__ = (sa.Index("ix_holding_product_month", "product_code", "month"),)


class ProductEvent(SQLModel, table=True):
    """A product added or dropped between two monthly snapshots (or live, from the app)."""

    __tablename__ = "product_event"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    client_id: int = Field(foreign_key="client.id", sa_type=sa.BigInteger)
    month: date
    product_code: str = Field(foreign_key="product.code", max_length=32)
    kind: str = Field(max_length=8)  # add | drop
    occurred_at: datetime | None = Field(default=None, sa_column=_tstz(nullable=True))

    __table_args__ = (
        sa.CheckConstraint("kind IN ('add', 'drop')", name="kind"),
        sa.UniqueConstraint("client_id", "month", "product_code", "kind"),
        sa.Index("ix_product_event_product_month", "product_code", "month"),
    )


class Operation(SQLModel, table=True):
    """A dated transaction: the time series behind behavioural features."""

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    client_id: int = Field(foreign_key="client.id", sa_type=sa.BigInteger)
    occurred_at: datetime = Field(sa_column=_tstz())
    amount: Decimal = Field(sa_column=sa.Column(MONEY, nullable=False))
    currency: str = Field(
        default="EUR", sa_column=sa.Column(sa.CHAR(3), nullable=False, server_default="EUR")
    )
    category: str = Field(sa_column=sa.Column(operation_category, nullable=False))
    description: str | None = Field(default=None, max_length=500)

    __table_args__ = (sa.Index("ix_operation_client_time", "client_id", "occurred_at"),)


class OperationMonth(SQLModel, table=True):
    """Operations binned per (client, UTC calendar month, category): count, sum of debits
    (`neg`), sum of credits (`pos`), exact numeric, and the latest time (µs since the epoch).

    Why: the features read operations only through these monthly bins, and grouping tens
    of millions of raw rows at every training run took minutes (100k clients: 245 s of
    loading); the bins are a quarter as many rows and are kept at write time instead. Kept
    by statement-level triggers on `operation` (alembic 0004), so every writer (COPY bulk
    loads, the API, scripts) keeps them right without knowing about them. Derived data:
    no foreign key (the operations' own keys hold), and it can be rebuilt from `operation`.
    """

    __tablename__ = "operation_month"

    client_id: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True))
    month: date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    category: str = Field(sa_column=sa.Column(operation_category, primary_key=True))
    n: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    neg: Decimal = Field(sa_column=sa.Column(sa.Numeric, nullable=False))
    pos: Decimal = Field(sa_column=sa.Column(sa.Numeric, nullable=False))
    last_us: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))


class OfferLog(SQLModel, table=True):
    """Every offer decision of a campaign or the live system, shown (treatment) or held out.

    `propensity` is the logged probability that this client got the treatment arm under the
    policy that decided, so uplift and off-policy estimates can reweight. `assignment` says
    whether the arm came from the targeting policy or from the random holdout slice.
    """

    __tablename__ = "offer_log"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    client_id: int = Field(foreign_key="client.id", sa_type=sa.BigInteger)
    product_code: str = Field(foreign_key="product.code", max_length=32)
    shown_at: datetime = Field(sa_column=_tstz())
    channel: str = Field(default="app", max_length=16)
    strategy: str = Field(max_length=64)
    assignment: str = Field(max_length=8)  # policy | random
    arm: str = Field(max_length=10)  # treatment | control
    propensity: float
    window_days: int = 30
    converted: bool | None = None
    outcome_at: datetime | None = Field(default=None, sa_column=_tstz(nullable=True))
    response: str | None = Field(default=None, max_length=10)  # accept | decline | dismiss
    recommendation_id: int | None = Field(
        default=None, foreign_key="recommendation.id", sa_type=sa.BigInteger
    )

    __table_args__ = (
        sa.CheckConstraint("assignment IN ('policy', 'random')", name="assignment"),
        sa.CheckConstraint("arm IN ('treatment', 'control')", name="arm"),
        sa.CheckConstraint("propensity > 0 AND propensity <= 1", name="propensity"),
        sa.CheckConstraint(
            "response IS NULL OR response IN ('accept', 'decline', 'dismiss')", name="response"
        ),
        sa.Index("ix_offer_log_client_time", "client_id", "shown_at"),
        sa.Index("ix_offer_log_product_time", "product_code", "shown_at"),
    )


class Recommendation(SQLModel, table=True):
    """A ranked set of offers for one client at one time, as the decision layer produced it."""

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    client_id: int = Field(foreign_key="client.id", sa_type=sa.BigInteger)
    created_at: datetime | None = Field(default=None, sa_column=_tstz(default_now=True))
    strategy: str = Field(max_length=64)
    model_version: str | None = Field(default=None, max_length=64)
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=_jsonb(default="[]"))
    trigger_event_id: uuid.UUID | None = None

    __table_args__ = (sa.Index("ix_recommendation_client_time", "client_id", "created_at"),)


class Notification(SQLModel, table=True):
    """A message to a client (usually an explained offer); published to Kafka once stored."""

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    client_id: int = Field(foreign_key="client.id", sa_type=sa.BigInteger)
    created_at: datetime | None = Field(default=None, sa_column=_tstz(default_now=True))
    kind: str = Field(default="offer", max_length=16)
    language: str = Field(default="ru", max_length=2)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    product_code: str | None = Field(default=None, foreign_key="product.code", max_length=32)
    recommendation_id: int | None = Field(
        default=None, foreign_key="recommendation.id", sa_type=sa.BigInteger
    )
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=_jsonb())
    event_id: uuid.UUID | None = Field(default=None, unique=True)
    read_at: datetime | None = Field(default=None, sa_column=_tstz(nullable=True))

    __table_args__ = (sa.Index("ix_notification_client_time", "client_id", "created_at"),)


class Outbox(SQLModel, table=True):
    """Events written in the same transaction as the change that caused them (outbox)."""

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    topic: str = Field(max_length=100)
    key: str = Field(max_length=100)
    event_type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=_jsonb())
    created_at: datetime | None = Field(default=None, sa_column=_tstz(default_now=True))
    published_at: datetime | None = Field(default=None, sa_column=_tstz(nullable=True))
    # Set when the event's consumer committed its effect (or, for notification events, when
    # published): the relay re-publishes rows published long ago but still unprocessed.
    processed_at: datetime | None = Field(default=None, sa_column=_tstz(nullable=True))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))

    __table_args__ = (
        sa.Index("ix_outbox_pending", "created_at", postgresql_where=sa.text("published_at IS NULL")),
        sa.Index("ix_outbox_unprocessed", "id", postgresql_where=sa.text("processed_at IS NULL")),
    )


class ProcessedEvent(SQLModel, table=True):
    """Event ids a consumer has fully processed: replays are recognised and skipped."""

    __tablename__ = "processed_event"

    consumer: str = Field(primary_key=True, max_length=64)
    event_id: uuid.UUID = Field(primary_key=True)
    processed_at: datetime | None = Field(default=None, sa_column=_tstz(default_now=True))


class ModelRun(SQLModel, table=True):
    """A trained model or an evaluation, with its window, parameters and metrics."""

    __tablename__ = "model_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # hybrid | uplift | evaluation | cluster | ...
    version: str = Field(max_length=64)
    dataset_id: int | None = Field(default=None, foreign_key="dataset.id")
    train_from: date | None = None
    train_to: date | None = None
    params: dict[str, Any] = Field(default_factory=dict, sa_column=_jsonb())
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=_jsonb())
    artifact_path: str | None = Field(default=None, max_length=500)
    created_at: datetime | None = Field(default=None, sa_column=_tstz(default_now=True))

    __table_args__ = (sa.Index("ix_model_run_kind_time", "kind", "created_at"),)
