"""Segments family: RFM scores and named segments, k-means clusters, BG/NBD + Gamma-Gamma CLV.

The implementation is mktai.tasks.segment.family (fit / load_model and the library functions
behind `mktai segment`); this module only declares the family.
"""

from mktai.tasks.spec import FamilySpec, Param

SPEC = FamilySpec(
    name="segments",
    kinds=("segments",),
    dataset_kind="transactions",
    applies_with="segment",
    module="mktai.tasks.segment.family",
    algorithms=("rfm", "kmeans", "rfm+kmeans"),
    default_algorithm=None,
    summary="RFM segments, k-means clusters and CLV per customer from a transactions file",
    params=(
        Param("k", "str", "auto", "clusters: auto (silhouette), a number, or off"),
        Param("k_max", "int", 8, "largest k tried by --k auto", 2, 50),
        Param("clv", "bool", True, "fit BG/NBD + Gamma-Gamma lifetime value"),
        Param("horizon", "int", 90, "CLV horizon in days", 1, 3650),
        Param("discount", "float", 0.0, "annual discount rate for CLV", 0.0, 1.0),
        Param("as_of", "str", None, "last day included, YYYY-MM-DD (default: the last date)"),
        Param("monetary", "str", "mean", "net value per order (mean) or in all (total)", choices=("mean", "total")),
        Param("segment_map", "str", None, "JSON segment map replacing the standard RFM map"),
    ),
)  # fmt: skip
