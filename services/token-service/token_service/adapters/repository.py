"""Repositories on SQLAlchemy sessions: the only place that writes queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from renewals_shared.db import HotStatement, ReadSession, execute_hot
from sqlalchemy import Select, bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from token_service.adapters import orm
from token_service.domain.model import ExtensionLink, LinkStatus
from token_service.service_layer.repository import AbstractDiscountRepository, AbstractLinkRepository


class SqlAlchemyLinkRepository(AbstractLinkRepository):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def _add(self, link: ExtensionLink) -> None:
        self.session.add(link)

    def _get(self, link_id: str, for_update: bool) -> ExtensionLink | None:
        query = select(ExtensionLink).where(orm.extension_links.c.id == link_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def _get_by_cycle(self, license_id: str, cycle_end: dt.date) -> ExtensionLink | None:
        return self.session.scalars(
            select(ExtensionLink).where(
                orm.extension_links.c.license_id == license_id, orm.extension_links.c.cycle_end == cycle_end
            )
        ).one_or_none()

    def _get_by_hash(self, token_hash: bytes) -> ExtensionLink | None:
        return self.session.scalars(
            select(ExtensionLink).where(orm.extension_links.c.token_hash == token_hash)
        ).one_or_none()

    def _active_for_license(self, license_id: str) -> list[ExtensionLink]:
        return list(
            self.session.scalars(
                select(ExtensionLink)
                .where(
                    orm.extension_links.c.license_id == license_id,
                    orm.extension_links.c.state == LinkStatus.ACTIVE.value,
                )
                .order_by(orm.extension_links.c.id)
                .with_for_update()
            )
        )


def _select_link(*columns: str) -> Select:
    """The columns an ExtensionLink is built from (the mapping leaves out created_at and updated_at), where each
    named column equals its bound parameter. Built once: constructing the statement is a cost of its own."""
    table = orm.extension_links
    wanted = [column for column in table.c if column.key not in ("created_at", "updated_at")]
    return select(*wanted).where(*(table.c[name] == bindparam(name) for name in columns))


_LINK_BY_ID = HotStatement(_select_link("id"))
_LINK_BY_CYCLE = HotStatement(_select_link("license_id", "cycle_end"))
_LINK_BY_HASH = HotStatement(_select_link("token_hash"))


class CoreLinkReader(AbstractLinkRepository):
    """Read-only look-ups in a ReadSession: one prebuilt SELECT per call, no session, no identity map. The links
    it returns are detached: changing one changes nothing stored (writes go through the ORM repository)."""

    def __init__(self, reads: ReadSession) -> None:
        super().__init__()
        self.reads = reads

    def _one(self, statement: HotStatement, **parameters: Any) -> ExtensionLink | None:
        row = execute_hot(self.reads, statement, parameters).one_or_none()
        return None if row is None else ExtensionLink(**row._asdict())

    def _get(self, link_id: str, for_update: bool) -> ExtensionLink | None:
        if for_update:
            raise TypeError("CoreLinkReader is read-only: no locking reads")
        return self._one(_LINK_BY_ID, id=link_id)

    def _get_by_cycle(self, license_id: str, cycle_end: dt.date) -> ExtensionLink | None:
        return self._one(_LINK_BY_CYCLE, license_id=license_id, cycle_end=cycle_end)

    def _get_by_hash(self, token_hash: bytes) -> ExtensionLink | None:
        return self._one(_LINK_BY_HASH, token_hash=token_hash)

    def _add(self, link: ExtensionLink) -> None:
        raise TypeError("CoreLinkReader is read-only")

    def _active_for_license(self, license_id: str) -> list[ExtensionLink]:
        raise TypeError("CoreLinkReader is read-only: no locking reads")


class SqlAlchemyDiscountRepository(AbstractDiscountRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def product_override(self, product_sku: str) -> int | None:
        table = orm.product_discounts
        return self.session.scalar(select(table.c.customer_discount_bp).where(table.c.product_sku == product_sku))

    def license_override(self, license_id: str) -> int | None:
        table = orm.license_discounts
        return self.session.scalar(select(table.c.customer_discount_bp).where(table.c.license_id == license_id))

    def set_product_override(self, product_sku: str, customer_discount_bp: int) -> None:
        statement = insert(orm.product_discounts).values(
            product_sku=product_sku, customer_discount_bp=customer_discount_bp
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["product_sku"], set_={"customer_discount_bp": customer_discount_bp}
            )
        )

    def set_license_override(self, license_id: str, customer_discount_bp: int) -> None:
        statement = insert(orm.license_discounts).values(
            license_id=license_id, customer_discount_bp=customer_discount_bp
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["license_id"], set_={"customer_discount_bp": customer_discount_bp}
            )
        )
