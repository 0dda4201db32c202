"""Shared test settings.

`make test` runs pytest with 2 xdist workers on a 2-core machine: gbm fits use one OpenMP
thread each (MKTAI_THREADS), so the workers do not compete for cores; a user's environment wins.

Hypothesis profiles: `ci` (the default, and what `make test` and CI use) is derandomised, so a
green run is reproducible and a red one fails again the same way; `fuzz` (`make fuzz`) draws
fresh random examples, many more of them. `HYPOTHESIS_PROFILE=NAME` picks one.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

os.environ.setdefault("MKTAI_THREADS", "1")

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    derandomize=False,
    max_examples=1000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# -- Spark (tests/test_spark*.py) -----------------------------------------------------------------
import pytest  # noqa: E402


def spark_missing_reason() -> str | None:
    """Why Spark tests cannot run here (None when pyspark and Java 17+ are present)."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'mktai[spark]')"
    from mktai.engines.spark_session import find_java
    from mktai.errors import MissingDependency

    try:
        find_java()
    except MissingDependency as exc:
        return str(exc)
    return None


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def spark():
    """One Spark local[2] session for every Spark test (UI off, 2 shuffle partitions). The same
    JVM also serves Spark Connect on a free loopback port (the `connect_url` fixture), so the
    Connect tests run a real client against a real server without starting a second JVM."""
    reason = spark_missing_reason()
    if reason:
        pytest.skip(reason)
    from mktai.engines import spark_session

    port = _free_port()
    session = spark_session.get_session(
        "local[2]",
        config={
            "spark.sql.shuffle.partitions": "2",
            "spark.ui.enabled": "false",
            "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
        },
    )
    yield session
    spark_session.stop_session()


@pytest.fixture(scope="session")
def connect_url(spark) -> str:
    """sc://127.0.0.1:PORT of the Spark Connect server inside the shared session's JVM."""
    port = spark.sparkContext.getConf().get("spark.connect.grpc.binding.port")
    return f"sc://127.0.0.1:{port}"
