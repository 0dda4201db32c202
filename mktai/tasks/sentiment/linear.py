"""Linear text classifiers stored as plain arrays: TF-IDF + logistic regression, and naive Bayes.

Both score as `link(features(text) @ coef.T + intercept)`, so one small NumPy scorer serves
training, the store and the shipped default model. scikit-learn is used only to fit.

linear: word (1-2) + char_wb (1-5) n-gram TF-IDF (sublinear tf, min_df 2), each feature scaled
by |naive-Bayes log-count ratio| ** 0.5 (a softened NB-SVM, Wang & Manning 2012), then an L2
logistic regression (C=4) per class (one-vs-rest when there are more than two labels). The
scaling is folded into the stored coefficients, so scoring needs no extra step.
nb: multinomial naive Bayes (alpha 1) on word unigram + bigram counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mktai.tasks.sentiment.features import TextFeatures, fit_features


@dataclass
class LinearTextModel:
    """features -> scores = X @ coef.T + intercept -> probabilities by `link`."""

    features: TextFeatures
    coef: np.ndarray  # (n_scores, n_features); n_scores = 1 for a binary sigmoid
    intercept: np.ndarray  # (n_scores,)
    classes: list[str]
    link: str  # "sigmoid" | "ovr" | "softmax"

    def scores(self, clean_texts: list[str]) -> np.ndarray:
        """X @ coef.T + intercept, one row per text, from the feature entries directly (no
        sparse matrix: see TextFeatures.weights)."""
        row, col, value = self.features.weights(clean_texts)
        n = len(clean_texts)
        out = np.empty((n, self.coef.shape[0]))
        for k, coef in enumerate(self.coef):
            out[:, k] = np.bincount(row, weights=value * coef[col], minlength=n)
        return out + self.intercept

    def predict_proba(self, clean_texts: list[str]) -> np.ndarray:
        return self.proba_of(self.scores(clean_texts))

    def with_temperature(self, temperature: float) -> LinearTextModel:
        """The same model with its scores divided by `temperature` (labels never change)."""
        t = float(temperature)
        return LinearTextModel(
            self.features, self.coef / t, self.intercept / t, self.classes, self.link
        )

    def proba_of(self, s: np.ndarray) -> np.ndarray:
        """Class probabilities from scores (X @ coef.T + intercept) through the link."""
        if self.link == "sigmoid":
            p = 1.0 / (1.0 + np.exp(-s[:, 0]))
            return np.column_stack([1.0 - p, p])
        if self.link == "ovr":
            p = 1.0 / (1.0 + np.exp(-s))
            return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        s = s - s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True)

    def explain(self, clean_texts: list[str], label_index: np.ndarray, top: int = 5) -> list[str]:
        """The words (or Chinese n-grams) that pushed each text most towards its predicted label.

        Character n-gram weights are credited to the words that contain them, so the list reads
        as words of the text ("waste", "died") rather than fragments ("ste ").
        """
        x = self.features.transform(clean_texts)
        names = self.features.names()
        n_word = len(self.features.word_vocab)
        out = []
        for i, text in enumerate(clean_texts):
            row = x.getrow(i)
            contrib = row.data * self._direction(int(label_index[i]))[row.indices]
            scores = _credit(text, [names[j] for j in row.indices], row.indices < n_word, contrib)
            out.append(", ".join(_pick_grams(scores, top)))
        return out

    def _direction(self, k: int) -> np.ndarray:
        """Per-feature weight towards class k against the others."""
        if self.link == "sigmoid":
            return self.coef[0] if k == 1 else -self.coef[0]
        if self.coef.shape[0] == 1:
            return self.coef[0]
        others = np.delete(self.coef, k, axis=0).mean(axis=0)
        return self.coef[k] - others

    def save(self, directory: Path) -> None:
        from mktai.store.formats import write_json, write_npz

        self.features.save(directory)
        write_npz(
            directory / "classifier.npz",
            {"coef": self.coef.astype(np.float32), "intercept": self.intercept.astype(np.float64)},
        )
        write_json(directory / "classifier.json", {"classes": self.classes, "link": self.link})

    @classmethod
    def load(cls, directory: Path) -> LinearTextModel:
        from mktai.store.formats import read_json, read_npz

        meta = read_json(directory / "classifier.json")
        arrays = read_npz(directory / "classifier.npz", ("coef", "intercept"))
        coef = arrays["coef"].astype(np.float64)
        intercept = arrays["intercept"].astype(np.float64)
        return cls(
            TextFeatures.load(directory), coef, intercept, list(meta["classes"]), meta["link"]
        )


def _credit(text: str, names: list[str], is_word: np.ndarray, contrib: np.ndarray):
    """Contribution per readable unit: Latin words, word bigrams, Chinese n-grams (2+ chars)."""
    from mktai.tasks.sentiment.text import CJK_RE, tokens

    words = sorted({t for t in tokens(text) if not CJK_RE.match(t)})
    padded = {w: f" {w} " for w in words}
    scores: dict[str, float] = {}
    for name, word, c in zip(names, is_word, contrib, strict=True):
        if word:
            key = name.replace(" ", "") if CJK_RE.search(name) else name
            scores[key] = scores.get(key, 0.0) + c
            continue
        gram = name.strip()
        if CJK_RE.search(gram):
            if " " not in gram:
                scores[gram] = scores.get(gram, 0.0) + c
            continue
        if not any(ch.isalnum() for ch in gram):
            scores[gram] = scores.get(gram, 0.0) + c
            continue
        owners = [w for w in words if name in padded[w]]
        for w in owners:
            scores[w] = scores.get(w, 0.0) + c / len(owners)
    return scores


def _pick_grams(scores: dict[str, float], top: int, readable: bool = True) -> list[str]:
    """Strongest positive units first; no punctuation, single letters or overlapping picks.

    When nothing readable pushed the text (e.g. '***结论***'), the raw n-grams are shown.
    """
    import re

    from mktai.tasks.sentiment.text import CJK_RE

    picked: list[str] = []
    covered: set[str] = set()
    word = r"[^\W_]+(?:'[^\W_]+)*"
    for unit, score in sorted(scores.items(), key=lambda kv: -kv[1]):
        if score <= 0 or len(picked) >= top:
            break
        if readable and not re.fullmatch(f"{word}(?: {word})?", unit):
            continue
        if readable and len(unit) < 2 and unit.isascii():
            continue
        cjk = set(CJK_RE.findall(unit))
        if cjk & covered or any(unit in p or p in unit for p in picked):
            continue
        picked.append(unit)
        covered |= cjk
    if not picked and readable:
        return _pick_grams(scores, top, readable=False)
    return picked


def fit_linear(clean_texts: list[str], y: np.ndarray, classes: list[str], params: dict, seed: int):
    """TF-IDF word+char n-grams, NB log-count-ratio scaling, logistic regression per class.

    With max_features > 0 the strongest features are kept and the classifier refitted on them
    (that is how the shipped default stays small; CV then measures the pruned model).
    """
    features = fit_features(
        clean_texts,
        word_ngram=int(params["word_ngram"]),
        char_ngram=(1, int(params["char_max"])) if int(params["char_max"]) > 0 else None,
        min_df=int(params["min_df"]),
    )
    model = _fit_lr(features, clean_texts, y, classes, params, seed)
    limit = int(params.get("max_features") or 0)
    if 0 < limit < features.n_features:
        weight = np.abs(model.coef).max(axis=0)
        keep = np.argsort(-weight, kind="stable")[:limit]
        model = _fit_lr(features.select(keep), clean_texts, y, classes, params, seed)
    return model


def _fit_lr(features, clean_texts, y, classes, params, seed) -> LinearTextModel:
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    x = features.transform(clean_texts)
    binary = (x > 0).astype(np.float64)
    targets = [1] if len(classes) == 2 else list(range(len(classes)))
    coefs, intercepts = [], []
    for k in targets:
        yk = (y == k).astype(int)
        p = 1.0 + np.asarray(binary[yk == 1].sum(axis=0)).ravel()
        q = 1.0 + np.asarray(binary[yk == 0].sum(axis=0)).ravel()
        ratio = np.abs(np.log((p / p.sum()) / (q / q.sum()))) ** float(params["nb_power"])
        clf = LogisticRegression(C=float(params["C"]), solver="liblinear", random_state=seed)
        clf.fit(x @ sparse.diags(ratio), yk)
        coefs.append(clf.coef_[0] * ratio)
        intercepts.append(clf.intercept_[0])
    link = "sigmoid" if len(classes) == 2 else "ovr"
    return LinearTextModel(features, np.vstack(coefs), np.array(intercepts), classes, link)


def fit_nb(clean_texts: list[str], y: np.ndarray, classes: list[str], params: dict, seed: int):
    """Multinomial naive Bayes on word unigram+bigram counts (the seeds' bag-of-words NB)."""
    from sklearn.naive_bayes import MultinomialNB

    features = fit_features(
        clean_texts,
        word_ngram=int(params["word_ngram"]),
        char_ngram=None,
        min_df=int(params["min_df"]),
        idf=False,
        sublinear_tf=False,
        norm=False,
    )
    x = features.transform(clean_texts)
    clf = MultinomialNB(alpha=float(params["alpha"]))
    clf.fit(x, y)
    log_prob = np.zeros((len(classes), x.shape[1]))
    prior = np.full(len(classes), -1e9)
    log_prob[clf.classes_] = clf.feature_log_prob_
    prior[clf.classes_] = clf.class_log_prior_
    return LinearTextModel(features, log_prob, prior, classes, "softmax")
