"""Where the metric engine reads the canonical tables, and on which engine it runs.

Engines:

- ``duckdb`` (default): in process, nothing to start;
- ``spark``: a Spark session (``local[2]`` by default, or any master URL). Timestamps are
  read in a UTC session, so the engine's epoch arithmetic means the same on both.

A source is either the DuckDB store file or a Parquet lake written by ``slm export-lake``
(a folder, one sub-folder per table, partitioned by tenant and date). Either engine reads
either source; the metric formulas do not know which.
"""

from __future__ import annotations

import itertools
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servicelevel.errors import InputError, StoreError
from servicelevel.model.tables import CANONICAL_TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from servicelevel.metrics.engine import TableSource

ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"

#: Spark settings for a small, quiet, UTC session; any can be overridden per call.
SPARK_DEFAULTS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.driver.memory": "1g",
}

_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def open_tables(
    engine: str, db: Path, *, spark_master: str = DEFAULT_SPARK_MASTER
) -> TableSource:
    """A function giving each canonical table as an Ibis table on ``engine``.

    ``db`` is the DuckDB store file, or the folder of a Parquet lake.
    """
    if engine not in ENGINES:
        raise InputError(f"--engine: {engine!r} is not available; use one of {', '.join(ENGINES)}")
    if engine == "duckdb":
        return duckdb_tables(db)
    return spark_tables(spark_session(spark_master), db)


def duckdb_tables(db: Path) -> TableSource:
    """The canonical tables of a store file or a lake folder, on DuckDB."""
    import ibis

    from servicelevel.store.catalog import Store

    if db.is_dir():
        import duckdb

        from servicelevel.store.lake import duckdb_lake_sql

        database = duckdb.connect()
        database.execute("SET TimeZone = 'UTC'")
        lake_connection = ibis.duckdb.from_connection(database)
        lake_connection.compiler = _duckdb_compiler()

        def lake_table(name: str) -> Any:
            query = duckdb_lake_sql(db, _canonical(name))
            if query is None:  # no rows: an empty table of the canonical schema
                return ibis.memtable(CANONICAL_TABLES[name].empty())
            database.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {query}')
            return lake_connection.table(name)

        return lake_table
    store = Store.open(db, read_only=True)
    connection = ibis.duckdb.from_connection(store.connection)
    connection.compiler = _duckdb_compiler()
    table_source: TableSource = connection.table
    return table_source


@cache
def _duckdb_compiler() -> Any:
    """Ibis's DuckDB compiler, taking the epoch of a UTC timestamp without a cast.

    Ibis casts the timestamp to a naive one before ``epoch``; DuckDB converts a
    TIMESTAMPTZ through its ICU extension value by value, which was a third of a
    30-minute query over 10M contacts. The session is UTC, so the epoch is the same.
    """
    from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

    class EpochCompiler(DuckDBCompiler):  # type: ignore[misc]
        def visit_ExtractEpochSeconds(self, op: Any, *, arg: Any) -> Any:  # noqa: N802
            if op.arg.dtype.is_timestamp() and op.arg.dtype.timezone is not None:
                return self.f.epoch(arg)
            return super().visit_ExtractEpochSeconds(op, arg=arg)

    return EpochCompiler()


def spark_session(
    master: str = DEFAULT_SPARK_MASTER, settings: dict[str, str] | None = None
) -> SparkSession:
    """A Spark session on ``master`` (``local[N]`` or a cluster URL), UTC and quiet.

    An active session is reused as it is, with the session time zone set to UTC.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError(
            "--engine spark: pyspark is not installed; install it with "
            "pip install 'servicelevel[spark]' (and a Java 17 runtime)"
        ) from None
    options = {
        **SPARK_DEFAULTS,
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{_log_config()}",
        **(settings or {}),
    }
    builder = SparkSession.builder.master(master).appName("servicelevel")
    for key, value in options.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # the JVM's own errors carry no common base class
        raise StoreError(f"--spark-master {master}: cannot start Spark: {error}") from None
    session.conf.set("spark.sql.session.timeZone", "UTC")
    session.sparkContext.setLogLevel("ERROR")
    return session


@cache
def _log_config() -> Path:
    """A log4j2 file that lets only errors through (Spark is chatty at start)."""
    folder = Path(tempfile.mkdtemp(prefix="servicelevel-spark-"))
    path = folder / "log4j2.properties"
    path.write_text(_LOG4J2, encoding="utf-8")
    return path


_VIEW_NUMBERS = itertools.count()


def spark_tables(session: SparkSession, db: Path) -> TableSource:
    """The canonical tables of a store file or a lake folder, on a Spark session.

    A store file is read by DuckDB and handed to Spark as Arrow (any master works, the
    driver ships the rows); a lake is read by Spark itself, so executors read their
    own partitions. Each table is loaded once, on first use.
    """
    import ibis

    connection = ibis.pyspark.connect(session)
    prefix = f"slm_{next(_VIEW_NUMBERS)}_"
    loaded: dict[str, Any] = {}
    if db.is_dir():
        from servicelevel.store.lake import spark_lake_frame

        def frame(name: str) -> DataFrame:
            return spark_lake_frame(session, db, name)
    else:
        from servicelevel.store.catalog import Store

        store = Store.open(db, read_only=True)

        def frame(name: str) -> DataFrame:
            arrow = store.connection.sql(f'SELECT * FROM "{name}"').to_arrow_table()
            return session.createDataFrame(arrow)

    def table(name: str) -> Any:
        _canonical(name)
        if name not in loaded:
            view = f"{prefix}{name}"
            frame(name).createOrReplaceTempView(view)
            loaded[name] = connection.table(view)
        return loaded[name]

    return table


def _canonical(name: str) -> str:
    if name not in CANONICAL_TABLES:
        raise StoreError(f"{name!r} is not a canonical table; use one of "
                         f"{', '.join(CANONICAL_TABLES)}")
    return name
