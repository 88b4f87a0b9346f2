"""domain tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 12:29:42.717207
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('dataset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('first_month', sa.Date(), nullable=True),
    sa.Column('n_months', sa.Integer(), nullable=True),
    sa.Column('truth_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('santander', 'synthetic')", name=op.f('ck_dataset_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_id'))
    )
    op.create_index('ix_outbox_pending', 'outbox', ['created_at'], unique=False, postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('processed_event',
    sa.Column('consumer', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_processed_event'))
    )
    op.create_table('product',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name_ru', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description_ru', sa.Text(), server_default='', nullable=False),
    sa.Column('description_en', sa.Text(), server_default='', nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=False),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('is_credit', sa.Boolean(), nullable=False),
    sa.Column('monthly_payment', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('requires', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('conflicts', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('complements', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('life_events', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('bank', 'partner')", name=op.f('ck_product_kind')),
    sa.CheckConstraint('min_age >= 0', name=op.f('ck_product_min_age')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_product'))
    )
    op.create_table('client',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('snapshot_month', sa.Date(), nullable=True),
    sa.Column('employee_status', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('first_contract_date', sa.Date(), nullable=True),
    sa.Column('is_new', sa.Boolean(), nullable=False),
    sa.Column('seniority_months', sa.Integer(), nullable=True),
    sa.Column('primary_status', sa.Integer(), nullable=True),
    sa.Column('last_primary_date', sa.Date(), nullable=True),
    sa.Column('customer_type', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('relation_type', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
    sa.Column('is_resident', sa.Boolean(), nullable=False),
    sa.Column('is_foreigner', sa.Boolean(), nullable=False),
    sa.Column('spouse_of_employee', sa.Boolean(), nullable=True),
    sa.Column('join_channel', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('is_deceased', sa.Boolean(), nullable=False),
    sa.Column('address_type', sa.Integer(), nullable=True),
    sa.Column('province_code', sa.Integer(), nullable=True),
    sa.Column('province_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('income', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('segment', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('marketing_consent', sa.Boolean(), nullable=False),
    sa.Column('contact_opt_out', sa.Boolean(), nullable=False),
    sa.Column('imputed_fields', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("segment IS NULL OR segment IN ('top', 'individual', 'student')", name=op.f('ck_client_segment')),
    sa.CheckConstraint('age IS NULL OR (age >= 0 AND age <= 130)', name=op.f('ck_client_age')),
    sa.CheckConstraint('income IS NULL OR income >= 0', name=op.f('ck_client_income')),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_client_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client'))
    )
    op.create_index(op.f('ix_client_dataset_id'), 'client', ['dataset_id'], unique=False)
    op.create_table('model_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('train_from', sa.Date(), nullable=True),
    sa.Column('train_to', sa.Date(), nullable=True),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('metrics', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('artifact_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_model_run_dataset_id_dataset')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_run'))
    )
    op.create_index('ix_model_run_kind_time', 'model_run', ['kind', 'created_at'], unique=False)
    op.create_table('holding',
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('product_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_holding_client_id_client')),
    sa.ForeignKeyConstraint(['product_code'], ['product.code'], name=op.f('fk_holding_product_code_product')),
    sa.PrimaryKeyConstraint('client_id', 'month', 'product_code', name=op.f('pk_holding'))
    )
    op.create_index('ix_holding_product_month', 'holding', ['product_code', 'month'], unique=False)
    op.create_table('operation',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.CHAR(length=3), server_default='EUR', nullable=False),
    sa.Column('category', sa.Enum('salary', 'pension', 'transfer', 'cash', 'groceries', 'restaurants', 'utilities', 'telecom', 'travel', 'auto', 'kids', 'health', 'home', 'education', 'entertainment', 'shopping', 'taxes', 'insurance', 'investments', 'loan_payment', name='operation_category'), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_operation_client_id_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation'))
    )
    op.create_index('ix_operation_client_time', 'operation', ['client_id', 'occurred_at'], unique=False)
    op.create_table('product_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('product_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('add', 'drop')", name=op.f('ck_product_event_kind')),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_product_event_client_id_client')),
    sa.ForeignKeyConstraint(['product_code'], ['product.code'], name=op.f('fk_product_event_product_code_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_event')),
    sa.UniqueConstraint('client_id', 'month', 'product_code', 'kind', name=op.f('uq_product_event_client_id_month_product_code_kind'))
    )
    op.create_index('ix_product_event_product_month', 'product_event', ['product_code', 'month'], unique=False)
    op.create_table('recommendation',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('strategy', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('items', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('trigger_event_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_recommendation_client_id_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation'))
    )
    op.create_index('ix_recommendation_client_time', 'recommendation', ['client_id', 'created_at'], unique=False)
    op.create_table('notification',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('product_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('recommendation_id', sa.BigInteger(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_notification_client_id_client')),
    sa.ForeignKeyConstraint(['product_code'], ['product.code'], name=op.f('fk_notification_product_code_product')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], name=op.f('fk_notification_recommendation_id_recommendation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('event_id', name=op.f('uq_notification_event_id'))
    )
    op.create_index('ix_notification_client_time', 'notification', ['client_id', 'created_at'], unique=False)
    op.create_table('offer_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('product_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('shown_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('strategy', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('assignment', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('arm', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('propensity', sa.Float(), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('converted', sa.Boolean(), nullable=True),
    sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('recommendation_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("arm IN ('treatment', 'control')", name=op.f('ck_offer_log_arm')),
    sa.CheckConstraint("assignment IN ('policy', 'random')", name=op.f('ck_offer_log_assignment')),
    sa.CheckConstraint("response IS NULL OR response IN ('accept', 'decline', 'dismiss')", name=op.f('ck_offer_log_response')),
    sa.CheckConstraint('propensity > 0 AND propensity <= 1', name=op.f('ck_offer_log_propensity')),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_offer_log_client_id_client')),
    sa.ForeignKeyConstraint(['product_code'], ['product.code'], name=op.f('fk_offer_log_product_code_product')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], name=op.f('fk_offer_log_recommendation_id_recommendation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_log'))
    )
    op.create_index('ix_offer_log_client_time', 'offer_log', ['client_id', 'shown_at'], unique=False)
    op.create_index('ix_offer_log_product_time', 'offer_log', ['product_code', 'shown_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_offer_log_product_time', table_name='offer_log')
    op.drop_index('ix_offer_log_client_time', table_name='offer_log')
    op.drop_table('offer_log')
    op.drop_index('ix_notification_client_time', table_name='notification')
    op.drop_table('notification')
    op.drop_index('ix_recommendation_client_time', table_name='recommendation')
    op.drop_table('recommendation')
    op.drop_index('ix_product_event_product_month', table_name='product_event')
    op.drop_table('product_event')
    op.drop_index('ix_operation_client_time', table_name='operation')
    op.drop_table('operation')
    op.drop_index('ix_holding_product_month', table_name='holding')
    op.drop_table('holding')
    op.drop_index('ix_model_run_kind_time', table_name='model_run')
    op.drop_table('model_run')
    op.drop_index(op.f('ix_client_dataset_id'), table_name='client')
    op.drop_table('client')
    op.drop_table('product')
    op.drop_table('processed_event')
    op.drop_index('ix_outbox_pending', table_name='outbox', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_table('dataset')
    sa.Enum(name='operation_category').drop(op.get_bind(), checkfirst=True)
