"""A real Spark standalone cluster on this machine: one master, N workers, separate JVMs.

    with StandaloneCluster(workers=2, env=emulator.environment()) as cluster:
        subprocess.run([cluster.spark_submit, "--master", cluster.master_url, "app.py"])

pip's pyspark ships ``bin/spark-class``; the master and each worker are started with it as
their own processes (``org.apache.spark.deploy.master.Master`` /
``org.apache.spark.deploy.worker.Worker``), each worker launches executor JVMs of its own, so
tasks run in other processes than the driver, as on a cluster. Developer tooling: never shipped.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Self


def spark_home() -> Path:
    """The Spark that pip's pyspark installed (its bin/ has spark-class and spark-submit)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


PR_SET_PDEATHSIG = 1


def _child_setup() -> Callable[[], None]:
    """What the child runs before exec: its own process group (stop() ends its executors
    too), and SIGTERM when the process that started it dies, even by SIGKILL (Linux prctl).
    libc is loaded here, in the parent: the child only makes two system calls."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the process group only
        prctl = None

    def setup() -> None:
        os.setsid()
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return setup


class ClusterStartError(RuntimeError):
    pass


class StandaloneCluster:
    def __init__(
        self,
        workdir: str | os.PathLike[str],
        workers: int = 2,
        cores_per_worker: int = 1,
        memory_per_worker: str = "1g",
        env: Mapping[str, str] | None = None,
        start_timeout: float = 90.0,
    ) -> None:
        self.workdir = Path(workdir)
        self.workers = workers
        self.cores_per_worker = cores_per_worker
        self.memory_per_worker = memory_per_worker
        self.env = {**os.environ, **(env or {})}
        self.env["SPARK_HOME"] = str(spark_home())
        self.env.pop("PYTHONPATH", None)
        self.start_timeout = start_timeout
        self.host = "127.0.0.1"
        self.port = free_port()
        self.ui_port = free_port()
        self._processes: list[subprocess.Popen] = []

    @property
    def master_url(self) -> str:
        return f"spark://{self.host}:{self.port}"

    @property
    def spark_class(self) -> str:
        return str(spark_home() / "bin" / "spark-class")

    @property
    def spark_submit(self) -> str:
        return str(spark_home() / "bin" / "spark-submit")

    def _start(self, name: str, *args: str) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [self.spark_class, *args], stdout=log, stderr=subprocess.STDOUT, env=self.env,
            preexec_fn=_child_setup(),  # noqa: PLW1509 (no imports or locks in the child)
        )  # fmt: skip
        log.close()
        self._processes.append(process)

    def status(self) -> dict:
        """The master's own JSON status page (alive workers, running applications)."""
        with urllib.request.urlopen(f"http://{self.host}:{self.ui_port}/json/", timeout=5) as r:
            return json.load(r)

    def start(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)  # also when the caller exits without leaving `with`
        master = "org.apache.spark.deploy.master.Master"
        worker = "org.apache.spark.deploy.worker.Worker"
        self._start("master", master, "--host", self.host, "--port", str(self.port),
                    "--webui-port", str(self.ui_port))  # fmt: skip
        for index in range(self.workers):
            work = self.workdir / f"worker-{index}"
            work.mkdir(exist_ok=True)
            self._start(
                f"worker-{index}", worker, "--host", self.host, "--cores",
                str(self.cores_per_worker), "--memory", self.memory_per_worker, "--work-dir",
                str(work), "--webui-port", str(free_port()), self.master_url,
            )  # fmt: skip
        deadline = time.monotonic() + self.start_timeout
        while True:
            alive = 0
            with contextlib.suppress(OSError, ValueError):
                alive = self.status().get("aliveworkers", 0)
            if alive >= self.workers:
                return self
            if any(process.poll() is not None for process in self._processes):
                self.stop()
                raise ClusterStartError(f"a cluster process exited; see {self.workdir}/*.log")
            if time.monotonic() > deadline:
                self.stop()
                raise ClusterStartError(
                    f"{alive} of {self.workers} workers registered in {self.start_timeout:.0f} s;"
                    f" see {self.workdir}/*.log"
                )
            time.sleep(0.5)

    def stop(self) -> None:
        for process in reversed(self._processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self._processes.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
