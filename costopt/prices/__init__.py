"""Price catalogs as data: YAML files validated on load, one per provider and offering."""

from costopt.prices.catalog import (
    CatalogError,
    PriceCatalog,
    builtin_catalog_names,
    load_builtin_catalog,
    load_catalog,
)

__all__ = [
    "CatalogError",
    "PriceCatalog",
    "builtin_catalog_names",
    "load_builtin_catalog",
    "load_catalog",
]
