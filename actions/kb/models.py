"""SQLAlchemy 2 typed ORM for the URBACT knowledge base.

Natural keys are the `slug` columns (stable identifiers used in data/kb/*.csv); integer
ids are internal. List-valued columns (aliases, synonyms, source URLs) are JSON arrays
(JSONB on PostgreSQL) so the schema is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from actions.db.base import Base, StrList

network_themes = Table(
    "network_themes",
    Base.metadata,
    Column(
        "network_id", ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("theme_id", ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True),
)


class Theme(Base):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120))  # French label
    synonyms: Mapped[list[str]] = mapped_column(StrList, default=list)

    networks: Mapped[list["Network"]] = relationship(
        secondary=network_themes, back_populates="themes", passive_deletes=True
    )


class City(Base):
    """A partner organisation of a network: city, department, metropolis, LAG, region..."""

    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(StrList, default=list)
    country_code: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    see_also: Mapped[list[str]] = mapped_column(StrList, default=list)  # city slugs
    note: Mapped[Optional[str]] = mapped_column(Text)
    source_urls: Mapped[list[str]] = mapped_column(StrList, default=list)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="city", cascade="all, delete-orphan", passive_deletes=True
    )


class Network(Base):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(StrList, default=list)
    type: Mapped[str] = mapped_column(String(32), index=True)
    programme: Mapped[str] = mapped_column(String(16), index=True)
    period: Mapped[Optional[str]] = mapped_column(String(16))  # "2023-2025", "2019-"
    start_year: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    end_year: Mapped[Optional[int]] = mapped_column(Integer)
    approved_on: Mapped[Optional[date]] = mapped_column(Date)
    approved_precision: Mapped[Optional[str]] = mapped_column(String(8))  # day | year
    description: Mapped[str] = mapped_column(Text)  # French
    lead_city_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("cities.id", ondelete="SET NULL")
    )
    official_url: Mapped[Optional[str]] = mapped_column(String(500))
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    source_urls: Mapped[list[str]] = mapped_column(StrList, default=list)

    lead_city: Mapped[Optional[City]] = relationship(foreign_keys=[lead_city_id])
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="network", cascade="all, delete-orphan", passive_deletes=True
    )
    themes: Mapped[list[Theme]] = relationship(
        secondary=network_themes, back_populates="networks", passive_deletes=True
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("network_id", "city_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # lead | partner
    source_urls: Mapped[list[str]] = mapped_column(StrList, default=list)

    network: Mapped[Network] = relationship(back_populates="memberships")
    city: Mapped[City] = relationship(back_populates="memberships")


class FundingCall(Base):
    __tablename__ = "funding_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(300))  # French
    kind: Mapped[str] = mapped_column(String(16), index=True)  # urbact | other
    funder: Mapped[str] = mapped_column(String(300))
    opens_on: Mapped[Optional[date]] = mapped_column(Date)
    closes_on: Mapped[Optional[date]] = mapped_column(Date, index=True)
    eligibility: Mapped[Optional[str]] = mapped_column(Text)  # French
    max_budget_eur: Mapped[Optional[int]] = mapped_column(BigInteger)
    url: Mapped[Optional[str]] = mapped_column(String(500))
    description: Mapped[Optional[str]] = mapped_column(Text)  # French
    source_urls: Mapped[list[str]] = mapped_column(StrList, default=list)


class ContactPoint(Base):
    __tablename__ = "contact_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    country_code: Mapped[str] = mapped_column(String(2), index=True)
    organisation: Mapped[str] = mapped_column(String(300))
    person: Mapped[Optional[str]] = mapped_column(String(200))
    role: Mapped[Optional[str]] = mapped_column(String(200))
    as_of: Mapped[Optional[int]] = mapped_column(Integer)  # year the person was cited
    url: Mapped[Optional[str]] = mapped_column(String(500))
    source_urls: Mapped[list[str]] = mapped_column(StrList, default=list)
