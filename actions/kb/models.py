"""The records of the knowledge base, each declared once: table, columns and Python type.

The loader builds them from data/kb/*.csv, the importer writes them, the repository returns
them (loaded eagerly, detached from their session). Natural keys are the `slug` columns;
integer ids are internal. List-valued columns (aliases, synonyms, source URLs) are JSON arrays
(JSONB on PostgreSQL) so the schema is the same on SQLite and PostgreSQL.

Dataclasses with ``eq=False``: two records are the same record when they are the same object
(as for any ORM instance); compare slugs to compare contents.
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
from sqlalchemy.orm import Mapped, MappedAsDataclass, mapped_column, relationship

from actions.db.base import Base, StrList

network_themes = Table(
    "network_themes",
    Base.metadata,
    Column(
        "network_id", ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("theme_id", ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True),
)


class Record(MappedAsDataclass, Base, eq=False):
    """A row of data/kb: a dataclass mapped to its table."""

    __abstract__ = True


def network_sort_key(n: "Network") -> tuple[int, str]:
    """Most recent first, then alphabetical."""
    return (-(n.start_year or 0), n.name.casefold())


def member_sort_key(m: "Membership") -> tuple[bool, bool, str]:
    """Lead first, then French partners, then by name."""
    return (m.role != "lead", m.city.country_code != "FR", m.city.name.casefold())


class Theme(Record):
    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, init=False)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120))  # French label
    synonyms: Mapped[list[str]] = mapped_column(StrList, default_factory=list)

    networks: Mapped[list["Network"]] = relationship(
        secondary=network_themes, back_populates="themes", passive_deletes=True,
        default_factory=list, repr=False,
    )


class City(Record):
    """A partner organisation of a network: city, department, metropolis, LAG, region..."""

    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, init=False)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country_code: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    aliases: Mapped[list[str]] = mapped_column(StrList, default_factory=list)
    see_also: Mapped[list[str]] = mapped_column(StrList, default_factory=list)  # city slugs
    note: Mapped[Optional[str]] = mapped_column(Text, default=None)
    source_urls: Mapped[list[str]] = mapped_column(StrList, default_factory=list)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="city", cascade="all, delete-orphan", passive_deletes=True,
        default_factory=list, repr=False,
    )

    @property
    def participations(self) -> list["Membership"]:
        """The city's memberships, most recent network first."""
        return sorted(self.memberships, key=lambda m: network_sort_key(m.network))


class Network(Record):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, init=False)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32), index=True)
    programme: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)  # French
    aliases: Mapped[list[str]] = mapped_column(StrList, default_factory=list)
    period: Mapped[Optional[str]] = mapped_column(String(16), default=None)  # "2023-2025", "2019-"
    start_year: Mapped[Optional[int]] = mapped_column(Integer, index=True, default=None)
    end_year: Mapped[Optional[int]] = mapped_column(Integer, default=None)
    approved_on: Mapped[Optional[date]] = mapped_column(Date, default=None)
    approved_precision: Mapped[Optional[str]] = mapped_column(String(8), default=None)  # day | year
    lead_city_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("cities.id", ondelete="SET NULL"), default=None, init=False
    )
    official_url: Mapped[Optional[str]] = mapped_column(String(500), default=None)
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    source_urls: Mapped[list[str]] = mapped_column(StrList, default_factory=list)

    lead_city: Mapped[Optional[City]] = relationship(
        foreign_keys=[lead_city_id], default=None, repr=False
    )
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="network", cascade="all, delete-orphan", passive_deletes=True,
        default_factory=list, repr=False,
    )
    themes: Mapped[list[Theme]] = relationship(
        secondary=network_themes, back_populates="networks", passive_deletes=True,
        default_factory=list, repr=False,
    )

    @property
    def lead(self) -> Optional[City]:
        return self.lead_city

    @property
    def members(self) -> list["Membership"]:
        """Lead first, then French partners, then by name."""
        return sorted(self.memberships, key=member_sort_key)

    @property
    def partners(self) -> list["Membership"]:
        return [m for m in self.members if m.role != "lead"]

    @property
    def theme_labels(self) -> tuple[str, ...]:
        return tuple(sorted((t.label for t in self.themes), key=str.casefold))

    @property
    def theme_slugs(self) -> tuple[str, ...]:
        return tuple(sorted(t.slug for t in self.themes))


class Membership(Record):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("network_id", "city_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, init=False)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True, init=False
    )
    city_id: Mapped[int] = mapped_column(
        ForeignKey("cities.id", ondelete="CASCADE"), index=True, init=False
    )
    network: Mapped[Network] = relationship(back_populates="memberships", repr=False)
    city: Mapped[City] = relationship(back_populates="memberships", repr=False)
    role: Mapped[str] = mapped_column(String(16))  # lead | partner
    source_urls: Mapped[list[str]] = mapped_column(StrList, default_factory=list)


class FundingCall(Record):
    __tablename__ = "funding_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, init=False)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(300))  # French
    kind: Mapped[str] = mapped_column(String(16), index=True)  # urbact | other
    funder: Mapped[str] = mapped_column(String(300))
    opens_on: Mapped[Optional[date]] = mapped_column(Date, default=None)
    closes_on: Mapped[Optional[date]] = mapped_column(Date, index=True, default=None)
    eligibility: Mapped[Optional[str]] = mapped_column(Text, default=None)  # French
    max_budget_eur: Mapped[Optional[int]] = mapped_column(BigInteger, default=None)
    url: Mapped[Optional[str]] = mapped_column(String(500), default=None)
    description: Mapped[Optional[str]] = mapped_column(Text, default=None)  # French
    source_urls: Mapped[list[str]] = mapped_column(StrList, default_factory=list)

    @property
    def link(self) -> Optional[str]:
        """The official page of the call, if known (sources are kept for staff, not shown)."""
        return self.url

    def is_open(self, today: date) -> bool:
        return (
            self.closes_on is not None
            and self.closes_on >= today
            and (self.opens_on is None or self.opens_on <= today)
        )


class ContactPoint(Record):
    __tablename__ = "contact_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, init=False)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    country_code: Mapped[str] = mapped_column(String(2), index=True)
    organisation: Mapped[str] = mapped_column(String(300))
    person: Mapped[Optional[str]] = mapped_column(String(200), default=None)
    role: Mapped[Optional[str]] = mapped_column(String(200), default=None)
    as_of: Mapped[Optional[int]] = mapped_column(Integer, default=None)  # year the person was cited
    url: Mapped[Optional[str]] = mapped_column(String(500), default=None)
    source_urls: Mapped[list[str]] = mapped_column(StrList, default_factory=list)
