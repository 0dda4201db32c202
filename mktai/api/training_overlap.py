"""evaluate: is the evaluation data the training data, or mostly made of it?

Metrics on training rows are optimistic and pass gates they should fail. The manifest holds the
training file's sha256 (the same file) and a sketch of the training rows (mktai.tasks.common.overlap:
a copy, a re-export, a superset); either gives one loud warning line, which the summary and
every report carry, and --strict turns into exit 2.
"""

from __future__ import annotations

from typing import Any


def training_data_warning(manifest: dict[str, Any], table: Any) -> str | None:
    """The warning for evaluating `table` with the model of `manifest`, or None."""
    from mktai.tasks.common.overlap import HEAVY_OVERLAP, training_share

    data = manifest.get("training_data")
    trained_sha = data.get("sha256") if isinstance(data, dict) else None
    sha = (getattr(table, "fingerprint", None) or {}).get("sha256")
    if trained_sha and sha and trained_sha == sha:
        return (
            "the evaluation data is the training data (same sha256 "
            f"{sha[:12]}): these metrics are optimistic and say little about new data; "
            "evaluate on a holdout file"
        )
    share = training_share(manifest.get("training_rows_sketch"), table.frame)
    if share is not None and share >= HEAVY_OVERLAP:
        return (
            f"about {share:.0%} of the evaluation rows are rows the model was trained on: "
            "these metrics are optimistic; evaluate on rows it has not seen"
        )
    return None
