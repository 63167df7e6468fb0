"""Initial schema of the URBACT knowledge base.

Tables: themes, cities, networks (+ network_themes), memberships, funding_calls,
contact_points. Works on SQLite and PostgreSQL (JSON lists are JSONB on PostgreSQL).

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# JSON array of strings (JSONB on PostgreSQL), as in actions/db/models.py.
STR_LIST = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('cities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('aliases', STR_LIST, nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('see_also', STR_LIST, nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source_urls', STR_LIST, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cities')),
    sa.UniqueConstraint('slug', name=op.f('uq_cities_slug'))
    )
    with op.batch_alter_table('cities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cities_country_code'), ['country_code'], unique=False)

    op.create_table('contact_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('organisation', sa.String(length=300), nullable=False),
    sa.Column('person', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('as_of', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('source_urls', STR_LIST, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_points')),
    sa.UniqueConstraint('slug', name=op.f('uq_contact_points_slug'))
    )
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_points_country_code'), ['country_code'], unique=False)

    op.create_table('funding_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('funder', sa.String(length=300), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('eligibility', sa.Text(), nullable=True),
    sa.Column('max_budget_eur', sa.BigInteger(), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source_urls', STR_LIST, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_calls')),
    sa.UniqueConstraint('slug', name=op.f('uq_funding_calls_slug'))
    )
    with op.batch_alter_table('funding_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_calls_closes_on'), ['closes_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_funding_calls_kind'), ['kind'], unique=False)

    op.create_table('themes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('synonyms', STR_LIST, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_themes')),
    sa.UniqueConstraint('slug', name=op.f('uq_themes_slug'))
    )
    op.create_table('networks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('aliases', STR_LIST, nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('programme', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=True),
    sa.Column('start_year', sa.Integer(), nullable=True),
    sa.Column('end_year', sa.Integer(), nullable=True),
    sa.Column('approved_on', sa.Date(), nullable=True),
    sa.Column('approved_precision', sa.String(length=8), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('lead_city_id', sa.Integer(), nullable=True),
    sa.Column('official_url', sa.String(length=500), nullable=True),
    sa.Column('partial', sa.Boolean(), nullable=False),
    sa.Column('source_urls', STR_LIST, nullable=False),
    sa.ForeignKeyConstraint(['lead_city_id'], ['cities.id'], name=op.f('fk_networks_lead_city_id_cities'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_networks')),
    sa.UniqueConstraint('slug', name=op.f('uq_networks_slug'))
    )
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_networks_programme'), ['programme'], unique=False)
        batch_op.create_index(batch_op.f('ix_networks_start_year'), ['start_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_networks_type'), ['type'], unique=False)

    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('source_urls', STR_LIST, nullable=False),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_memberships_city_id_cities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_memberships_network_id_networks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('network_id', 'city_id', name=op.f('uq_memberships_network_id'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memberships_network_id'), ['network_id'], unique=False)

    op.create_table('network_themes',
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_network_themes_network_id_networks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], name=op.f('fk_network_themes_theme_id_themes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('network_id', 'theme_id', name=op.f('pk_network_themes'))
    )


def downgrade() -> None:
    op.drop_table('network_themes')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_network_id'))
        batch_op.drop_index(batch_op.f('ix_memberships_city_id'))

    op.drop_table('memberships')
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_networks_type'))
        batch_op.drop_index(batch_op.f('ix_networks_start_year'))
        batch_op.drop_index(batch_op.f('ix_networks_programme'))

    op.drop_table('networks')
    op.drop_table('themes')
    with op.batch_alter_table('funding_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_calls_kind'))
        batch_op.drop_index(batch_op.f('ix_funding_calls_closes_on'))

    op.drop_table('funding_calls')
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_points_country_code'))

    op.drop_table('contact_points')
    with op.batch_alter_table('cities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cities_country_code'))

    op.drop_table('cities')
