"""The Keras network of the supervised family (the seeds' Dense 64-64), TensorFlow loaded here only.

Inputs go through the same encoder pipeline as the linear model (imputation, scaling, one-hot),
stored with skops; the network is stored as .keras and loaded with safe_mode=True. Early stopping
on a random 10% validation split restores the best weights; regression targets are standardised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# batch_size 0 = automatic: 256, smaller for small data so each epoch still takes ~50 steps


def _keras():
    from mktai.tasks.common.deep import keras

    return keras()


class KerasNet:
    """Encoder pipeline + Dense(64)-Dense(64) network with a task-specific output layer."""

    def __init__(self, task: str, n_classes: int, params: dict[str, Any], seed: int,
                 numeric: list[str], categorical: list[str]):  # fmt: skip
        from mktai.tasks.supervised.estimators import learner_params

        self.task = task
        self.n_classes = n_classes
        self.params = learner_params("mlp", params)
        self.seed = seed
        self.numeric, self.categorical = numeric, categorical
        self.encoder = None
        self.network = None
        self.y_mean, self.y_std = 0.0, 1.0
        self.epochs_run = 0

    def _build(self, n_inputs: int):
        keras = _keras()
        keras.utils.set_random_seed(self.seed)
        if self.task == "binary":
            out, loss = keras.layers.Dense(1, activation="sigmoid"), "binary_crossentropy"
        elif self.task == "multiclass":
            out = keras.layers.Dense(self.n_classes, activation="softmax")
            loss = "sparse_categorical_crossentropy"
        else:
            out, loss = keras.layers.Dense(1, activation="linear"), "mse"
        model = keras.Sequential(
            [
                keras.Input(shape=(n_inputs,)),
                keras.layers.Dense(64, activation="relu"),
                keras.layers.Dense(64, activation="relu"),
                out,
            ]
        )
        optimizer = keras.optimizers.Adam(learning_rate=self.params["learning_rate"])
        model.compile(optimizer=optimizer, loss=loss)
        return model

    def fit(self, X, y, class_weight: dict[int, float] | None = None) -> KerasNet:
        """y: 0/1 (binary), class index (multiclass) or float (regression)."""
        import numpy as np

        from mktai.tasks.supervised.estimators import encoder_pipeline

        keras = _keras()
        self.encoder = encoder_pipeline(self.numeric, self.categorical)
        features = np.asarray(self.encoder.fit_transform(X), dtype="float32")
        target = np.asarray(y, dtype="float32")
        if self.task == "regression":
            self.y_mean = float(target.mean())
            self.y_std = float(target.std()) or 1.0
            target = (target - self.y_mean) / self.y_std
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(target))
        n_val = max(1, int(0.1 * len(target))) if len(target) >= 20 else 0
        val, train = order[:n_val], order[n_val:]
        self.network = self._build(features.shape[1])
        callbacks = []
        validation = None
        if n_val:
            validation = (features[val], target[val])
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=self.params["patience"], restore_best_weights=True
                )
            )
        history = self.network.fit(
            features[train],
            target[train],
            validation_data=validation,
            epochs=self.params["epochs"],
            batch_size=self.params["batch_size"] or min(256, max(16, len(train) // 50)),
            class_weight=class_weight,
            callbacks=callbacks,
            verbose=0,
            shuffle=True,
        )
        self.epochs_run = len(history.history.get("loss", []))
        return self

    def predict_raw(self, X):
        """Probabilities (n x k) for classification, values for regression."""
        import numpy as np

        features = np.asarray(self.encoder.transform(X), dtype="float32")
        # direct eager calls in fixed chunks: Keras' predict() retraces its tf.function for
        # every new input length (permutation importance, small files) and warns on stderr
        chunks = [
            np.asarray(self.network(features[i : i + 8192], training=False))
            for i in range(0, len(features), 8192)
        ]
        out = np.concatenate(chunks) if chunks else np.zeros((0, self.network.outputs[0].shape[-1]))
        if self.task == "binary":
            p = out[:, 0].astype(float)
            return np.column_stack([1 - p, p])
        if self.task == "multiclass":
            return out.astype(float)
        return out[:, 0].astype(float) * self.y_std + self.y_mean

    def save(self, directory: Path) -> dict[str, Any]:
        from mktai.tasks.supervised.estimators import save_skops

        save_skops(self.encoder, directory / "encoder.skops")
        self.network.save(directory / "network.keras")
        return {"y_mean": self.y_mean, "y_std": self.y_std, "epochs_run": self.epochs_run}

    @classmethod
    def load(cls, directory: Path, info: dict[str, Any]) -> KerasNet:
        from mktai.store.formats import read_keras
        from mktai.tasks.supervised.estimators import load_skops

        keras = _keras()
        net = cls(info["task"], len(info.get("classes") or []) or 1, info.get("params", {}),
                  info.get("seed", 0), [], [])  # fmt: skip
        net.encoder = load_skops(directory / "encoder.skops")
        net.network = read_keras(keras, directory / "network.keras", compile=False)
        net.y_mean = float(info.get("mlp", {}).get("y_mean", 0.0))
        net.y_std = float(info.get("mlp", {}).get("y_std", 1.0))
        return net
