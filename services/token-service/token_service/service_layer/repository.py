"""The repository ports; adapters/repository.py implements them on SQLAlchemy, tests on dicts."""

from __future__ import annotations

import abc
import datetime as dt

from token_service.domain.model import ExtensionLink


class DuplicateLink(Exception):
    """Another transaction issued the link for the same (license, cycle) first."""


class AbstractLinkRepository(abc.ABC):
    def __init__(self) -> None:
        self.seen: set[ExtensionLink] = set()

    def add(self, link: ExtensionLink) -> None:
        self._add(link)
        self.seen.add(link)

    def get(self, link_id: str, *, for_update: bool = False) -> ExtensionLink | None:
        return self._track(self._get(link_id, for_update))

    def get_by_cycle(self, license_id: str, cycle_end: dt.date) -> ExtensionLink | None:
        return self._track(self._get_by_cycle(license_id, cycle_end))

    def get_by_hash(self, token_hash: bytes) -> ExtensionLink | None:
        return self._track(self._get_by_hash(token_hash))

    def active_for_license(self, license_id: str) -> list[ExtensionLink]:
        links = self._active_for_license(license_id)
        self.seen.update(links)
        return links

    def _track(self, link: ExtensionLink | None) -> ExtensionLink | None:
        if link is not None:
            self.seen.add(link)
        return link

    @abc.abstractmethod
    def _add(self, link: ExtensionLink) -> None: ...

    @abc.abstractmethod
    def _get(self, link_id: str, for_update: bool) -> ExtensionLink | None: ...

    @abc.abstractmethod
    def _get_by_cycle(self, license_id: str, cycle_end: dt.date) -> ExtensionLink | None: ...

    @abc.abstractmethod
    def _get_by_hash(self, token_hash: bytes) -> ExtensionLink | None: ...

    @abc.abstractmethod
    def _active_for_license(self, license_id: str) -> list[ExtensionLink]:
        """Stored-active links of the license, locked for update."""


class AbstractDiscountRepository(abc.ABC):
    @abc.abstractmethod
    def product_override(self, product_sku: str) -> int | None: ...

    @abc.abstractmethod
    def license_override(self, license_id: str) -> int | None: ...

    @abc.abstractmethod
    def set_product_override(self, product_sku: str, customer_discount_bp: int) -> None: ...

    @abc.abstractmethod
    def set_license_override(self, license_id: str, customer_discount_bp: int) -> None: ...
