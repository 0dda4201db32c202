"""Finding and starting Spark the way a data engineer expects, quietly.

Where Spark is: --spark-master / $MKTAI_SPARK_MASTER, else $SPARK_REMOTE (Spark Connect), else
spark.master from Spark's own configuration (spark-defaults.conf in $SPARK_CONF_DIR or
$SPARK_HOME/conf, or the session spark-submit already started), else local[*]. Settings in
spark-defaults.conf are never overridden; mktai only fills in what is unset (UI off, log noise
off, UTC session time zone, a sensible shuffle width on local masters). $MKTAI_SPARK_UI=1 keeps
the UI on, $MKTAI_SPARK_VERBOSE=1 keeps Spark's own log output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from mktai.errors import MissingDependency

INSTALL = "pip install 'mktai[spark]'"
MIN_JAVA = 17
ARROW_BATCH = 100_000
_LOG4J = Path(__file__).resolve().parents[1] / "resources" / "spark-log4j2.properties"
_session: Any = None


def require_pyspark() -> Any:
    """Import pyspark or raise exit 4 with the install command."""
    try:
        import pyspark
    except ImportError:
        raise MissingDependency(
            f"--engine spark needs pyspark, which is not installed; install it with: {INSTALL}"
        ) from None
    return pyspark


def java_version(java: str) -> int | None:
    """Major version of a java binary (8 for 1.8), None when it cannot be run."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java() -> str:
    """The java Spark will launch ($JAVA_HOME/bin/java, else java on PATH), checked >= 17."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    where = f"JAVA_HOME={home}" if home else "PATH"
    if not java or not Path(java).exists():
        raise MissingDependency(
            f"--engine spark needs Java {MIN_JAVA} or newer and none was found on {where}; "
            "install a JDK (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    version = java_version(java)
    if version is None or version < MIN_JAVA:
        found = f"Java {version}" if version else "a java that does not run"
        raise MissingDependency(
            f"--engine spark needs Java {MIN_JAVA} or newer; {java} is {found}; "
            "install a newer JDK or point JAVA_HOME at one"
        )
    return java


def spark_defaults() -> dict[str, str]:
    """Spark's own spark-defaults.conf ($SPARK_CONF_DIR, else $SPARK_HOME/conf), if any."""
    folder = os.environ.get("SPARK_CONF_DIR") or (
        str(Path(os.environ["SPARK_HOME"]) / "conf") if os.environ.get("SPARK_HOME") else None
    )
    values: dict[str, str] = {}
    if not folder:
        return values
    path = Path(folder) / "spark-defaults.conf"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return values
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = re.split(r"[\s=]+", line, maxsplit=1)
        if len(parts) == 2:
            values[parts[0]] = parts[1].strip()
    return values


def resolve_master(master: str | None = None) -> tuple[str, str | None]:
    """('master', url) or ('remote', url) or ('defaults', None) when Spark's config decides."""
    master = master or os.environ.get("MKTAI_SPARK_MASTER") or None
    if master:
        return "master", master
    remote = os.environ.get("SPARK_REMOTE")
    if remote:
        return "remote", remote
    if "spark.master" in spark_defaults() or os.environ.get("PYSPARK_GATEWAY_PORT"):
        return "defaults", None  # spark-submit or spark-defaults.conf says where
    return "master", "local[*]"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def session_config(how: str, url: str | None) -> dict[str, str]:
    """What mktai sets on the builder: only keys Spark's own configuration leaves unset."""
    defaults = spark_defaults()
    local = is_local(how, url)
    wanted = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.ui.showConsoleProgress": "false",
        # the cleaning rules cost about 3.5x more per row on 10,000-row Arrow batches (Spark's
        # default) than on 100,000-row ones (the local reader's size): fixed cost per call
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(ARROW_BATCH),
    }
    if not _flag("MKTAI_SPARK_UI"):
        wanted["spark.ui.enabled"] = "false"
    if not _flag("MKTAI_SPARK_VERBOSE") and _LOG4J.exists():
        wanted["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile=file:{_LOG4J}"
    if local:
        cores = _local_cores(url or "local[*]")
        wanted["spark.sql.shuffle.partitions"] = str(max(2, 2 * cores))
        # the shuffle width is already sized to the cores, so adaptive execution has nothing
        # to coalesce; it submits every query stage as a job of its own (1x ingest + segment
        # on local[2]: 17 + 19 jobs with it, 9 + 10 without, the same customer table)
        wanted["spark.sql.adaptive.enabled"] = "false"
        wanted["spark.pyspark.python"] = sys.executable
        wanted["spark.pyspark.driver.python"] = sys.executable
        wanted["spark.driver.memory"] = os.environ.get("MKTAI_SPARK_DRIVER_MEMORY", "2g")
    return {k: v for k, v in wanted.items() if k not in defaults}


def is_local(how: str, url: str | None) -> bool:
    """A local master, or a local Spark Connect server started by pyspark (remote local[N])."""
    return how in ("master", "remote") and bool(url) and str(url).startswith("local")


def is_connect(spark: Any) -> bool:
    """Whether `spark` is a Spark Connect session (no SparkContext, no broadcast, no RDDs)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def _local_cores(url: str) -> int:
    match = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\d+)?\])?", url)
    if match and match.group(1) and match.group(1) != "*":
        return int(match.group(1))
    return os.cpu_count() or 2


def cache_level() -> Any:
    """The storage level of mktai's DataFrame caches: Spark's own default for DataFrames
    (MEMORY_AND_DISK_DESER, what `persist()` and Scala's MEMORY_AND_DISK give).

    PySpark's StorageLevel.MEMORY_AND_DISK is the *serialized* level: a block of it spilled to
    disk is copied back whole into one heap buffer each time it is read
    (BlockManager.maybeCacheDiskBytesInMemory), and a block is a partition, which grows with the
    rows (a few shuffle partitions; one partition per CSV file). At 16x (8.7 million lines) on a
    1 GB heap that copy was the OutOfMemoryError that lost the SparkContext. A deserialized
    block comes back from disk one cached batch at a time, and only into the memory the store
    is granted; the rest is streamed from disk."""
    from pyspark import StorageLevel

    return StorageLevel.MEMORY_AND_DISK_DESER


def get_session(master: str | None = None, *, config: dict[str, str] | None = None) -> Any:
    """The process's SparkSession (created once); exit 4 without pyspark or a usable Java."""
    global _session
    if _session is not None:
        return _session
    require_pyspark()
    how, url = resolve_master(master)
    jvm_here = how != "remote" or is_local(how, url)  # remote local[N]: pyspark starts one
    if jvm_here:
        find_java()
    import sys

    from pyspark.sql import SparkSession

    if jvm_here:
        # Python workers run this interpreter (the one with mktai, pandas and pyarrow), not
        # whatever `python3` is first on PATH; a user's own setting wins
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(os.environ.get("MKTAI_SPARK_APP", "mktai"))
    if how == "remote":
        builder = builder.remote(url)
    elif how == "master":
        builder = builder.master(url)
    settings = session_config(how, url)
    settings.update(config or {})
    for key, value in settings.items():
        if how == "remote" and not jvm_here and not key.startswith("spark.sql."):
            continue  # a remote Connect server owns its own runtime settings
        builder = builder.config(key, value)
    try:
        with _jvm_stderr(jvm_here and not _flag("MKTAI_SPARK_VERBOSE")):
            _session = builder.getOrCreate()
    except ImportError as exc:  # Spark Connect needs grpcio & co.
        raise MissingDependency(
            f"Spark Connect ({url}) needs pyspark's Connect client ({exc}); install it with: "
            f"{INSTALL} (or pip install 'pyspark[connect]')"
        ) from None
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "JAVA_GATEWAY_EXITED" in text or "Java gateway" in text:
            raise MissingDependency(
                "Spark's JVM did not start (Java gateway exited); check that Java 17+ runs "
                "(`java -version`) and JAVA_HOME points at it; MKTAI_SPARK_VERBOSE=1 shows its log"
            ) from None
        raise
    if not _flag("MKTAI_SPARK_VERBOSE") and not is_connect(_session):
        _session.sparkContext.setLogLevel("ERROR")
    return _session


def log_path() -> Path:
    """Where the JVM's own stderr goes (launcher warnings, log lines) when mktai is quiet."""
    import tempfile

    return Path(tempfile.gettempdir()) / f"mktai-spark-{os.getpid()}.log"


class _jvm_stderr:
    """Start the JVM with its stderr on a log file: it inherits fd 2 from this process, and its
    launcher and log4j write there for the life of the session, not on the user's terminal."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.saved: int | None = None

    def __enter__(self) -> None:
        import warnings

        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        if not self.active:
            return
        sys.stderr.flush()
        self.saved = os.dup(2)
        log = os.open(log_path(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 2)
        os.close(log)

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            os.dup2(self.saved, 2)
            os.close(self.saved)


def stop_session() -> None:
    """Stop the session this process started (tests, benchmarks)."""
    global _session
    if _session is not None:
        _session.stop()
        _session = None
