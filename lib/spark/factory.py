"""SparkFactory: builds SparkSessions for local runs (S3A on an emulator) and for EMR/Glue.

    factory = SparkFactory(master="local[*]")
    spark = factory.create_session(app_name="demo", executor_memory="2g", log_level="WARN")

    factory = SparkFactory.from_config(config)          # from lib.config.AppConfig
    spark = factory.create_session(app_name=config.spark.app_name)

The configuration a session gets is computed by the pure method :meth:`SparkFactory.session_conf`
(plain data, tested as data); :meth:`create_session` only hands it to the builder. Library code
never calls this from a constructor: jobs create the session once and pass it in.

Profiles
  local  S3A against an emulator (moto server) at ``AWS_ENDPOINT_URL`` (default
         ``http://127.0.0.1:5000``), path-style access, SSL as the endpoint says, emulator
         credentials, the ``s3`` and ``s3a`` schemes both served by S3A, the pinned jars from the
         local jar folder, S3A output committers, Delta when enabled.
  cloud  EMR / Glue: the platform's credentials chain, endpoints, jars and committers; only the
         project's own settings (time zone, Delta extensions, extra conf) are added.
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lib.config import DEFAULT_LOCAL_ENDPOINT, AppConfig, ConfScalar, S3ABucketConfig
from lib.redact import Redactor, redact_mapping
from lib.spark import class_data
from lib.spark import jars as jar_registry
from lib.spark.delta import DELTA_CATALOG, DELTA_EXTENSION, DELTA_SPARK_CONF
from lib.spark.java import JavaError, check_java

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOG = logging.getLogger(__name__)

S3A_FILESYSTEM = "org.apache.hadoop.fs.s3a.S3AFileSystem"
S3A_ABSTRACT_FILESYSTEM = "org.apache.hadoop.fs.s3a.S3A"
S3A_COMMITTER_FACTORY = "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory"
PATH_OUTPUT_COMMIT_PROTOCOL = "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol"
BINDING_PARQUET_COMMITTER = "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter"
ANONYMOUS_PROVIDER = "org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider"
SIMPLE_PROVIDER = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
# Emulator credentials when the environment has none (moto accepts any).
EMULATOR_ACCESS_KEY = "testing"
# The local profile's driver JVM runs every task: the throughput collector instead of Java 17's
# default G1 (whose concurrent threads and write barriers compete for 2 cores). Measured on the
# bench's month of real files: 7-11 % off a warm run, 8 % off a cold spark-submit (README,
# Performance). Not added when the environment or the config already picks a collector (the
# JVM refuses to start with two).
LOCAL_DRIVER_JAVA_OPTIONS = "-XX:+UseParallelGC"
# A local master's read tasks: Spark aims at one per core (the files' bytes and open costs over
# spark.sql.files.minPartitionNum, by default the cores), and its packing then often leaves a
# last task running alone on one core. With the local profile's 2 MB open cost (conf/local.yaml)
# one task per core left short runs of small files in 2-3 tasks, one holding the big files (on
# 2 cores, 5 days of hourly CSVs 0.78 -> 1.06 s, one day 0.77 -> 1.16 s); two per core keeps
# them at Spark's defaults' time or better (README, Performance). A hint: not set when the conf
# has it or sets the parallelism Spark would take it from, and for local[*] counted from this
# process's CPUs (a JVM under a CPU quota may count fewer).
FILES_MIN_PARTITIONS = "spark.sql.files.minPartitionNum"
PARALLELISM_KEYS = (
    FILES_MIN_PARTITIONS,
    "spark.sql.leafNodeDefaultParallelism",
    "spark.default.parallelism",
)
# Spark's forms of a local master: local, local[N], local[*], local[N, F], local[*, F]
LOCAL_MASTER = re.compile(r"local(?:\[([0-9]+|\*)(?:\s*,\s*[0-9]+)?\])?")
# the flags that pick one of Java 17's collectors (not tuning flags such as
# -XX:+UseAdaptiveSizePolicyWithSystemGC)
COLLECTOR_OPTION = re.compile(r"-XX:\+Use(?:Serial|Parallel|G1|Z|Shenandoah|Epsilon)GC\b")
# where a JVM launched for the driver also reads options: the environment (every `java`, the
# `java` launcher, spark-submit's own) and the conf's admin-level default options (a
# spark-defaults.conf is not read: see README, Known limits)
JVM_OPTION_VARIABLES = (
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "SPARK_SUBMIT_OPTS",
    "PYSPARK_SUBMIT_ARGS",  # pyspark's own spark-submit arguments (a --conf, --driver-java-options)
)
# Settings only a JVM's launch applies (a session created in a running JVM ignores them):
# spark-submit's own option for each, or None for `--conf key=value` (which the launcher reads
# in client mode too)
LAUNCH_OPTIONS: dict[str, str | None] = {
    "spark.driver.memory": "--driver-memory",
    "spark.driver.extraJavaOptions": "--driver-java-options",
    "spark.driver.extraClassPath": "--driver-class-path",
    "spark.driver.extraLibraryPath": "--driver-library-path",
    "spark.driver.defaultJavaOptions": None,
}

Profile = Literal["local", "cloud"]
Committer = Literal["magic", "directory", "partitioned", "platform"]


class SparkSetupError(RuntimeError):
    """The session cannot be created as configured (missing jars, no Java, missing classes)."""


def _conf_value(value: ConfScalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def local_cores(master: str | None) -> int | None:
    """The cores a local master runs tasks on (``local``, ``local[N]``, ``local[*]``,
    ``local[N,F]``); None for any other master."""
    match = LOCAL_MASTER.fullmatch(master or "")
    if match is None:
        return None
    if match.group(1) is None:
        return 1
    if match.group(1) == "*":
        affinity = getattr(os, "sched_getaffinity", None)
        return len(affinity(0)) if affinity else os.cpu_count() or 1
    return int(match.group(1)) or None  # local[0] runs nothing


def jvm_options_in_environment(environ: Mapping[str, str]) -> list[str]:
    """The JVM options a driver JVM started in `environ` reads besides its command line."""
    return [environ.get(name, "") for name in JVM_OPTION_VARIABLES]


def collector_in_environment(environ: Mapping[str, str]) -> bool:
    """Whether the environment a driver JVM starts in already picks its garbage collector."""
    return any(COLLECTOR_OPTION.search(value) for value in jvm_options_in_environment(environ))


def logged_conf(conf: Mapping[str, str]) -> dict[str, str]:
    """`conf` as it may be logged: secret-named keys blanked, and every value scrubbed as text
    (a ``-Dtrust.password=…`` inside ``spark.driver.extraJavaOptions`` goes whole, quoted or
    not: lib.redact's key=value rule)."""
    redactor = Redactor()
    return {key: redactor.text(value) for key, value in redact_mapping(conf).items()}


def _holds(key: str, current: str | None, wanted: str) -> bool:
    """Whether a running session's value of `key` is the `wanted` one. Spark puts its own
    options (Java module opens...) before the JVM options it was given."""
    if key.endswith(".extraJavaOptions") and current is not None:
        return current == wanted or current.endswith(" " + wanted)
    return current == wanted


class SparkFactory:
    """Creates SparkSessions with the project's settings for one profile (see module doc)."""

    def __init__(
        self,
        master: str | None = "local[*]",
        profile: Profile | None = None,
        s3_endpoint: str | None = None,
        region: str = "eu-west-1",
        delta: bool = False,
        committer: Committer | None = None,
        committer_conflict_mode: Literal["fail", "append", "replace"] = "append",
        shuffle_partitions: int | None = None,
        ui_enabled: bool = True,
        driver_memory: str | None = None,
        jars_dir: str | os.PathLike[str] | None = None,
        class_data_archive: str | os.PathLike[str] | None = None,
        conf: Mapping[str, ConfScalar] | None = None,
        s3a_buckets: Mapping[str, S3ABucketConfig] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.master = master
        self.profile: Profile = profile or (
            "local" if master and master.startswith("local") else "cloud"
        )
        self._environ = dict(os.environ if environ is None else environ)
        if self.profile == "local":
            self.s3_endpoint = (
                s3_endpoint or self._environ.get("AWS_ENDPOINT_URL") or DEFAULT_LOCAL_ENDPOINT
            )
        else:
            self.s3_endpoint = s3_endpoint
        self.region = region
        self.delta = delta
        self.committer: Committer = committer or (
            "magic" if self.profile == "local" else "platform"
        )
        self.committer_conflict_mode = committer_conflict_mode
        self.shuffle_partitions = shuffle_partitions
        self.ui_enabled = ui_enabled
        self.driver_memory = driver_memory
        self.jars_dir = Path(jars_dir) if jars_dir else jar_registry.default_jars_dir(self._environ)
        # "auto": the archive `make setup` writes into the jar folder
        self.class_data_archive = (
            self.jars_dir / class_data.ARCHIVE_NAME
            if class_data_archive == "auto"
            else Path(class_data_archive).expanduser().absolute()
            if class_data_archive
            else None
        )
        self.conf = dict(conf or {})
        self.s3a_buckets = dict(s3a_buckets or {})
        self.s3a = True  # the local profile's S3A (for_run drops it for local-file runs)

    @classmethod
    def from_config(cls, config: AppConfig, environ: Mapping[str, str] | None = None):
        spark = config.spark
        return cls(
            master=spark.master,
            profile=spark.profile,
            s3_endpoint=config.aws.endpoint_url,
            region=config.aws.region,
            delta=spark.delta,
            committer=spark.committer,
            committer_conflict_mode=spark.committer_conflict_mode,
            shuffle_partitions=spark.shuffle_partitions,
            ui_enabled=spark.ui_enabled,
            driver_memory=spark.driver_memory,
            jars_dir=spark.jars_dir,
            class_data_archive=spark.class_data_archive,
            conf=spark.conf,
            s3a_buckets=spark.s3a_buckets,
            environ=environ,
        )

    def for_run(self, uris: Sequence[str], table_format: str | None = None) -> SparkFactory:
        """This factory, narrowed to what one run touches (local profile only): the S3A jars,
        settings and committers only when a URI is s3:// or s3a://, Delta only when the run
        writes Delta. A fresh JVM then loads (and, in local mode, copies for its executors)
        only the jars it uses: the AWS SDK bundle alone is 280 MB. The cloud profile is
        returned unchanged (the platform's jars are there anyway)."""
        if self.profile != "local":
            return self
        narrowed = copy.copy(self)
        narrowed.delta = self.delta and table_format == "delta"
        narrowed.s3a = any(uri.split("://", 1)[0] in ("s3", "s3a") for uri in uris)
        if not narrowed.s3a:
            narrowed.committer = "platform"  # Spark's own commit protocol for local files
        return narrowed

    # ------------------------------------------------------------------ pure configuration

    def required_jars(self) -> tuple[jar_registry.MavenJar, ...]:
        if self.profile != "local":
            return ()
        needed = jar_registry.S3A_JARS if self.s3a else ()
        if self.committer != "platform":
            needed += jar_registry.COMMITTER_JARS
        if self.delta:
            needed += jar_registry.DELTA_JARS
        return needed

    def required_jar_paths(self) -> list[Path]:
        """The paths of `required_jars` in the jar folder (each checked there), as a local
        session's `spark.jars` or a spark-submit's `--jars` takes them, and the jobs' own jar
        when the folder holds one built from this checkout's sources (``make setup`` builds it;
        a job whose JVM code is absent runs without it, slower; one of other sources is left
        out with a warning)."""
        paths = jar_registry.jar_paths(self.jars_dir, self.required_jars())
        jobs_jar = self.jars_dir / jar_registry.JOBS_JAR
        if self.profile == "local" and jobs_jar.is_file():
            if jar_registry.jobs_jar_is_current(jobs_jar):
                paths.append(jobs_jar)
            else:  # its classes are older than the checkout's: the jobs run without them
                LOG.warning(
                    "%s was built from other sources than this checkout's jobs/*/java: left off "
                    "the class path (`make jobs-jar`, or python -m tooling.local.jobs_jar --out "
                    "%s, builds it again)", jobs_jar, jobs_jar)  # fmt: skip
        return paths

    def session_conf(
        self,
        app_name: str,
        executor_memory: str | None = None,
        executor_cores: int | None = None,
        default_parallelism: int | None = None,
        total_executor_cores: int | None = None,
        num_executors: int | None = None,
        extra_args: Mapping[str, ConfScalar] | None = None,
        jar_paths: list[Path] | None = None,
    ) -> dict[str, str]:
        """Every Spark setting the session will get, as plain strings (no I/O but a look for
        the local profile's class-data archive and its seal)."""
        conf: dict[str, str] = {
            "spark.app.name": app_name,
            "spark.sql.session.timeZone": "UTC",
            "spark.ui.enabled": _conf_value(self.ui_enabled),
            "spark.ui.showConsoleProgress": "false",
        }
        if self.master:
            conf["spark.master"] = self.master
        sized = {
            "spark.driver.memory": self.driver_memory,
            "spark.executor.memory": executor_memory,
            "spark.executor.cores": executor_cores,
            "spark.default.parallelism": default_parallelism,
            "spark.cores.max": total_executor_cores,
            "spark.executor.instances": num_executors,
            "spark.sql.shuffle.partitions": self.shuffle_partitions,
        }
        conf.update({key: _conf_value(value) for key, value in sized.items() if value is not None})
        if self.profile == "local":
            if self.s3a:
                conf.update(self._local_s3a_conf())
            if jar_paths:
                conf["spark.jars"] = ",".join(str(path) for path in jar_paths)
        if self.committer != "platform":
            conf.update(self._committer_conf())
        if self.delta:
            conf.update(DELTA_SPARK_CONF)
            if self.profile == "local" and self.shuffle_partitions:
                # Delta rebuilds table state with 50 partitions by default: far too many locally
                conf["spark.databricks.delta.snapshotPartitions"] = str(self.shuffle_partitions)
        for bucket, settings in self.s3a_buckets.items():
            conf.update(_bucket_conf(bucket, settings))
        conf.update({key: _conf_value(value) for key, value in self.conf.items()})
        conf.update({key: _conf_value(value) for key, value in (extra_args or {}).items()})
        if self.profile == "local" and not any(key in conf for key in PARALLELISM_KEYS):
            cores = local_cores(conf.get("spark.master"))
            if cores:
                conf[FILES_MIN_PARTITIONS] = str(2 * cores)
        # last, so that it sees every other source: JVM options given in the conf or the
        # arguments replace the profile's, and a collector or class-data option picked
        # anywhere it can see keeps that one out
        if self.profile == "local" and "spark.driver.extraJavaOptions" not in conf:
            options = self._local_driver_java_options(conf)
            if options:
                conf["spark.driver.extraJavaOptions"] = " ".join(options)
        return conf

    def _local_driver_java_options(self, conf: Mapping[str, str]) -> list[str]:
        """The local profile's driver JVM options: the parallel collector unless the
        environment or `conf` picks one, and the class-data archive `make setup` writes (the
        JVM loads Spark's classes from it instead of reading and verifying them from the jars:
        README, Performance) when it is sealed and nothing else decides class-data sharing."""
        chosen = [conf.get("spark.driver.defaultJavaOptions", "")]
        chosen += jvm_options_in_environment(self._environ)
        options = []
        if not any(COLLECTOR_OPTION.search(value) for value in chosen):
            options.append(LOCAL_DRIVER_JAVA_OPTIONS)
        archive = self.class_data_archive
        if (
            archive is not None
            and not any(class_data.DECIDING_OPTION.search(value) for value in chosen)
            and class_data.usable_path(archive)
            and class_data.sealed(archive)
        ):
            options += class_data.jvm_options(archive)
        return options

    def launch_options(self) -> list[str]:
        """spark-submit's options for the settings of `session_conf` that only the JVM's launch
        applies (driver memory, JVM options, class and library paths: LAUNCH_OPTIONS), for a
        scheduler or script that starts the entry with spark-submit: under spark-submit the JVM
        is up before the job builds its session, and those settings would be ignored
        (``session_conf`` still lists them for a session started from Python, whose launch
        they reach)."""
        conf = self.session_conf(app_name="launch")
        options: list[str] = []
        for key, option in LAUNCH_OPTIONS.items():
            if key in conf:
                options += [option, conf[key]] if option else ["--conf", f"{key}={conf[key]}"]
        return options

    def _local_s3a_conf(self) -> dict[str, str]:
        endpoint = self.s3_endpoint or DEFAULT_LOCAL_ENDPOINT
        hadoop = {
            "fs.s3a.impl": S3A_FILESYSTEM,
            "fs.s3.impl": S3A_FILESYSTEM,
            "fs.AbstractFileSystem.s3a.impl": S3A_ABSTRACT_FILESYSTEM,
            "fs.AbstractFileSystem.s3.impl": S3A_ABSTRACT_FILESYSTEM,
            "fs.s3a.endpoint": endpoint,
            "fs.s3a.endpoint.region": self.region,
            "fs.s3a.path.style.access": "true",
            "fs.s3a.connection.ssl.enabled": _conf_value(endpoint.startswith("https://")),
            "fs.s3a.aws.credentials.provider": SIMPLE_PROVIDER,
            "fs.s3a.access.key": self._environ.get("AWS_ACCESS_KEY_ID", EMULATOR_ACCESS_KEY),
            "fs.s3a.secret.key": self._environ.get("AWS_SECRET_ACCESS_KEY", EMULATOR_ACCESS_KEY),
            # an emulator is local: fail fast instead of S3A's minutes of retries
            "fs.s3a.connection.establish.timeout": "5000",
            "fs.s3a.attempts.maximum": "5",
            "fs.s3a.retry.limit": "5",
        }
        return {f"spark.hadoop.{key}": value for key, value in hadoop.items()}

    def _committer_conf(self) -> dict[str, str]:
        hadoop = {
            "fs.s3a.committer.name": self.committer,
            "fs.s3a.committer.magic.enabled": _conf_value(self.committer == "magic"),
            "fs.s3a.committer.staging.conflict-mode": self.committer_conflict_mode,
            "mapreduce.outputcommitter.factory.scheme.s3a": S3A_COMMITTER_FACTORY,
        }
        if self.profile == "local":
            hadoop["mapreduce.outputcommitter.factory.scheme.s3"] = S3A_COMMITTER_FACTORY
        conf = {f"spark.hadoop.{key}": value for key, value in hadoop.items()}
        conf["spark.sql.sources.commitProtocolClass"] = PATH_OUTPUT_COMMIT_PROTOCOL
        conf["spark.sql.parquet.output.committer.class"] = BINDING_PARQUET_COMMITTER
        return conf

    # ------------------------------------------------------------------ session creation

    def create_session(
        self,
        app_name: str,
        executor_memory: str | None = None,
        executor_cores: int | None = None,
        default_parallelism: int | None = None,
        total_executor_cores: int | None = None,
        num_executors: int | None = None,
        log_level: str = "WARN",
        extra_args: Mapping[str, ConfScalar] | None = None,
    ) -> SparkSession:
        """Build (or join) the session. Raises SparkSetupError with the fix when it cannot."""
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        jar_paths: list[Path] = []
        if active is None and self.profile == "local":
            try:
                check_java()
                jar_paths = self.required_jar_paths()
            except (JavaError, jar_registry.JarResolutionError) as error:
                raise SparkSetupError(str(error)) from error
        conf = self.session_conf(
            app_name,
            executor_memory=executor_memory,
            executor_cores=executor_cores,
            default_parallelism=default_parallelism,
            total_executor_cores=total_executor_cores,
            num_executors=num_executors,
            extra_args=extra_args,
            jar_paths=jar_paths,
        )
        if active is not None:
            # Join it unchanged: getOrCreate() would overwrite the runtime SQL settings of a
            # session that others are using, and silently ignore the static ones.
            self._warn_on_ignored_conf(active, conf)
            session = active
        else:
            builder = SparkSession.builder
            for key, value in conf.items():
                builder = builder.config(key, value)
            session = builder.getOrCreate()
            session.sparkContext.setLogLevel(log_level)
        if self.delta:
            self._require_classes(session, (DELTA_EXTENSION, DELTA_CATALOG), "Delta Lake")
        if self.committer != "platform":
            self._require_classes(session, (PATH_OUTPUT_COMMIT_PROTOCOL,), "the S3A committers")
        LOG.info("spark session %s: %s", app_name, logged_conf(conf))
        return session

    @staticmethod
    def _warn_on_ignored_conf(active: SparkSession, wanted: Mapping[str, str]) -> None:
        # the wanted keys only, from the session's conf (it holds the context's settings too):
        # SparkContext.getConf() copies the whole conf, three py4j calls per entry (about 800)
        current = {key: active.conf.get(key, None) for key in wanted}
        differing = sorted(
            key for key, value in wanted.items() if not _holds(key, current[key], value)
        )
        if differing:
            LOG.warning(
                "a SparkSession already exists; these settings keep their old values: %s",
                ", ".join(differing),
            )

    @staticmethod
    def _require_classes(session: SparkSession, classes: tuple[str, ...], feature: str) -> None:
        jvm = session.sparkContext._jvm
        loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
        for name in classes:
            try:
                jvm.java.lang.Class.forName(name, False, loader)
            except Exception as error:  # py4j raises Py4JJavaError for ClassNotFoundException
                raise SparkSetupError(
                    f"{feature} is enabled but {name} is not on the classpath: locally run "
                    "`make setup` (or set ETL_JARS_DIR); on EMR enable the feature on the "
                    "cluster (delta-defaults) and on Glue pass --datalake-formats delta"
                ) from error


def _bucket_conf(bucket: str, settings: S3ABucketConfig) -> dict[str, str]:
    prefix = f"spark.hadoop.fs.s3a.bucket.{bucket}."
    conf: dict[str, Any] = {}
    if settings.anonymous:
        conf["aws.credentials.provider"] = ANONYMOUS_PROVIDER
    if settings.endpoint:
        conf["endpoint"] = settings.endpoint
    if settings.region:
        conf["endpoint.region"] = settings.region
    conf.update(settings.conf)
    return {prefix + key.removeprefix("fs.s3a."): _conf_value(value) for key, value in conf.items()}
