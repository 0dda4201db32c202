"""Sentiment family: review texts in English and Chinese -> label + probability.

The implementation is mktai.tasks.sentiment.family (fit / load_model / default_model); this
module only declares the family. The ranges here are the ones training enforces.
"""

from mktai.tasks.spec import FamilySpec, Param

_LIN = ("linear",)
_KERAS = ("keras",)

SPEC = FamilySpec(
    name="sentiment",
    kinds=("sentiment",),
    dataset_kind="reviews",
    applies_with="sentiment",
    module="mktai.tasks.sentiment.family",
    algorithms=("linear", "nb", "keras"),
    default_algorithm="linear",
    deep_algorithms=("keras",),
    summary="review text -> label + probability (English and Chinese)",
    params=(
        Param("labels", "list", None, "the label values expected, e.g. neg,pos (others are refused)"),
        Param("c", "float", 4.0, "inverse regularisation strength", 1e-6, 1e6, algorithms=_LIN, spelling="C"),
        Param("min_df", "int", None, "documents a term must appear in", 1, None, algorithms=("linear", "nb"), by_algorithm=(("linear", 2), ("nb", 1))),
        Param("nb_power", "float", 0.5, "naive-Bayes log-count-ratio scaling power", 0.0, 4.0, algorithms=_LIN),
        Param("char_max", "int", 5, "longest character n-gram (0 = none)", 0, 8, algorithms=_LIN),
        Param("word_ngram", "int", 2, "longest word n-gram", 1, 2, algorithms=("linear", "nb")),
        Param("max_features", "int", 0, "vocabulary size limit (0 = none)", 0, None, algorithms=_LIN),
        Param("alpha", "float", 1.0, "additive smoothing", 1e-9, 1e6, algorithms=("nb",)),
        Param("max_tokens", "int", 10000, "vocabulary size", 2, None, algorithms=_KERAS),
        Param("sequence_length", "int", 100, "tokens per text", 1, None, algorithms=_KERAS),
        Param("embedding_dim", "int", 16, "embedding width", 1, None, algorithms=_KERAS),
        Param("hidden", "int", 16, "dense layer width", 1, None, algorithms=_KERAS),
        Param("epochs", "int", 80, "epochs at most (early stopping)", 1, None, algorithms=_KERAS),
        Param("batch_size", "int", 32, "texts per batch", 1, None, algorithms=_KERAS),
        Param("patience", "int", 6, "epochs without validation gain before stopping", 0, None, algorithms=_KERAS),
        Param("validation_split", "float", 0.1, "share of training texts for early stopping", 0.01, 0.5, algorithms=_KERAS),
        Param("refit", "int", 1, "refit on all rows for the early-stopped epoch count (1) or not (0)", 0, 1, algorithms=_KERAS),
        Param("learning_rate", "float", 1e-3, "Adam step size", 1e-7, 1.0, algorithms=_KERAS),
        Param("mask_zero", "int", 1, "mask padding in the embedding (1) or not (0)", 0, 1, algorithms=_KERAS),
        Param("holdout", "float", 0.2, "share of rows held out for the holdout metrics", 0.0, 0.5, algorithms=_KERAS),
    ),
)  # fmt: skip
