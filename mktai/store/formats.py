"""The only code that reads or writes model files: safe formats, one error for a bad file.

Loading a model never executes code from it: JSON, NumPy .npz without pickle, parquet, skops
with an explicit allow-list, .keras with safe_mode. A missing, truncated, tampered or unsupported
model file is an IntegrityError (exit 3) naming the file, whichever family reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mktai.errors import IntegrityError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def _damaged(path: Path, exc: BaseException | str) -> IntegrityError:
    return IntegrityError(
        f"{path}: not a readable model file ({exc}); retrain or re-import the model"
    )


def write_json(path: Path, payload: Any) -> None:
    """A model's JSON file (inside a staging directory: the store makes the version atomic)."""
    from mktai.store.jsonio import dumps

    Path(path).write_text(dumps(payload) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise _damaged(Path(path), exc) from None


def write_npz(path: Path, arrays: dict[str, np.ndarray], *, compress: bool = True) -> None:
    """Numeric / fixed-width string arrays only: object arrays would need pickle to load."""
    import numpy as np

    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"{path}: array {key!r} has dtype object; store strings as str arrays")
    with open(path, "wb") as handle:
        (np.savez_compressed if compress else np.savez)(handle, **arrays)


def read_npz(path: Path, expected: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Every array of an .npz, loaded eagerly with allow_pickle=False; missing keys refused."""
    import zipfile

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise _damaged(Path(path), exc) from None
    missing = [key for key in expected if key not in arrays]
    if missing:
        raise _damaged(Path(path), f"missing array(s) {', '.join(missing)}")
    return arrays


def read_keras(keras: Any, path: Path, **options: Any) -> Any:
    """A .keras network with safe_mode=True: a Lambda layer or a reference to an unknown module
    is refused by Keras before anything runs, and reported as a damaged model file (exit 3).

    keras: the module, imported quietly by the caller (tasks/deep.py), never from here."""
    try:
        return keras.saving.load_model(Path(path), safe_mode=True, **options)
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError... for a bad file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise _damaged(
            Path(path), f"refused by Keras safe mode or unreadable: {first[:300]}"
        ) from None


def write_skops(path: Path, estimator: Any) -> None:
    """A scikit-learn estimator in skops format (no pickle)."""
    import skops.io as sio

    sio.dump(estimator, path)


def read_skops(path: Path, trusted: frozenset[str]) -> Any:
    """A skops file whose every non-default type is in `trusted`; nothing else is executed.

    The family passes its allow-list (the types its estimators contain); a file naming any
    other type is refused before it is loaded."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # corrupt zip, bad schema
        raise _damaged(Path(path), f"not a readable skops file: {exc}") from None
    unexpected = sorted(set(untrusted) - set(trusted))
    if unexpected:
        raise IntegrityError(
            f"{path} contains types mktai does not trust ({', '.join(unexpected)}); "
            "refusing to load it: retrain the model with this version of mktai"
        )
    try:
        return sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise _damaged(Path(path), exc) from None


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    frame.to_parquet(path, index=False)


def read_parquet(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise _damaged(Path(path), exc) from None


def write_parquet_batches(path: Path, schema: Any, batches: Any) -> int:
    """Arrow record batches streamed into one parquet file (a row group each), so a table
    larger than memory (the seen items of a Spark-trained model) is never held whole; rows
    written."""
    import pyarrow.parquet as pq

    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches:
            if batch.num_rows:
                writer.write_batch(batch)
                rows += batch.num_rows
    return rows
