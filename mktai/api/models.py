"""`models`: the artifact store's operations, for scripts and the server.

The store itself (mktai.store.Store) is the library: versions, aliases, integrity, export and
import. This module opens it the way every command does (store=, else $MKTAI_STORE, else
./mktai-store) so `mktai models ...`, `mktai serve` and a script address the same store.

    from mktai.api import open_store
    store = open_store("store/")
    store.list(); store.tag("response@v3", "production"); store.verify()
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.api.result import store_root

if TYPE_CHECKING:
    from mktai.store import Store


def open_store(store: Path | str | None = None) -> Store:
    """The Store at `store` (None: $MKTAI_STORE, else ./mktai-store); opening writes nothing."""
    from mktai.store import Store

    return Store(store_root(store))


def list_models(store: Path | str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    """One summary per version (name, version, kind, aliases, metrics, damaged or not)."""
    return open_store(store).list(name)
