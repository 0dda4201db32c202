"""The local artifact store (DESIGN §3): versioned, checksummed, atomically written models.

from mktai.store import Store
store = Store(path)
version = store.save("churn", "propensity", write=model.save, manifest=model.manifest_fields())
version = store.load("churn@production")   # every sha256 verified; IntegrityError if not
"""

from mktai.store.integrity import Problem
from mktai.store.layout import Ref, check_alias, check_name, parse_ref
from mktai.store.store import Store, Version

__all__ = ["Problem", "Ref", "Store", "Version", "check_alias", "check_name", "parse_ref"]
