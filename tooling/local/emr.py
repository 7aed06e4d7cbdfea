"""A local EMR: runs a cluster's requests, as sent to (and read back from) the EMR API.

    python -m tooling.local.emr --cluster-id j-…       # AWS_ENDPOINT_URL: the moto server

Reads the cluster back (describe_cluster, list_bootstrap_actions, list_steps: what the deploy
tool's run_job_flow / add_job_flow_steps requests stored) and does what EMR does with it:

1. **Bootstrap actions**: each script is fetched from S3 and run with its arguments on the
   emulated node, whose ``python3.11`` is a throwaway virtualenv (created here, first on PATH;
   the AWS CLI the script uses is the machine's, or installed into that virtualenv).
2. **Configurations**: ``spark-defaults`` into the node's ``spark-defaults.conf``,
   ``spark-env``/``export`` into its ``spark-env.sh`` (a ``PYSPARK_PYTHON`` of the EMR image,
   ``/usr/bin/python3*``, is the node's virtualenv), ``delta-defaults`` ``delta.enabled=true``
   puts the Delta jars on the classpath (and only then). Under them, the platform's own
   defaults as EMR ships them, with S3A on the moto server standing in for EMRFS: ``s3://``
   and ``s3a://`` served by S3A, its jars on the driver and executor classpath, the master.
3. **Steps**, in order: ``command-runner.jar`` runs ``Args`` (``spark-submit …``) on a real
   standalone cluster started for the run (one master, two workers, separate executor JVMs).
   spark-submit fetches the ``s3://`` entry script and ``--py-files`` itself, over S3A.
   Each step's stdout and stderr go, gzipped, where EMR writes them
   (``<LogUri>/<cluster-id>/steps/<step-id>/stdout.gz``); its state is COMPLETED or FAILED;
   after a failure, ``ActionOnFailure`` says whether the next steps run (CONTINUE) or are
   CANCELLED.

What it cannot reproduce: YARN (a standalone master schedules instead, and since standalone
runs Python drivers in client mode only, ``--deploy-mode cluster`` runs as client: the driver is
on the emulated master node), EMRFS itself, IAM roles (moto's credentials), instance types and
networking. The step states are the emulation's (``ClusterRun``): moto keeps its own.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lib.aws.s3 import parse_s3_uri
from tooling.local.platform_conf import (
    PlatformEmulation,
    emulation_arguments,
    platform_spark_conf,
    throwaway_python,
)
from tooling.local.spark_cluster import StandaloneCluster, spark_home

EMR_IMAGE_PYTHONS = ("/usr/bin/python3", "/usr/bin/python3.11", "python3", "python3.11")
FAILURE_STOPS = {"TERMINATE_CLUSTER", "TERMINATE_JOB_FLOW", "CANCEL_AND_WAIT"}


@dataclass
class StepRun:
    step_id: str
    name: str
    state: str  # COMPLETED, FAILED, CANCELLED
    returncode: int | None = None
    seconds: float = 0.0
    log_uris: dict[str, str] = field(default_factory=dict)


@dataclass
class ClusterRun:
    cluster_id: str
    state: str = "TERMINATED"  # or TERMINATED_WITH_ERRORS (a bootstrap action failed)
    bootstrap: list[dict[str, Any]] = field(default_factory=list)
    steps: list[StepRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.state == "TERMINATED"
            and bool(self.steps)
            and all(step.state == "COMPLETED" for step in self.steps)
        )


def classification(configurations: Sequence[Mapping[str, Any]], name: str) -> dict[str, str]:
    for item in configurations:
        if item.get("Classification") == name:
            return dict(item.get("Properties") or {})
    return {}


def exports(configurations: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """spark-env's nested `export` classification: the variables spark-env.sh exports."""
    for item in configurations:
        if item.get("Classification") == "spark-env":
            return classification(item.get("Configurations") or (), "export")
    return {}


class EmrEmulation(PlatformEmulation):
    def __init__(
        self,
        emr: Any,
        s3: Any,
        workdir: str | os.PathLike[str],
        environ: Mapping[str, str] | None = None,
        workers: int = 2,
    ) -> None:
        super().__init__(s3, workdir, environ, (emr,))
        self.emr = emr
        self.workers = workers

    # ------------------------------------------------------------------ the node

    def _node_environ(self, node: Path) -> dict[str, str]:
        """The node's python3.11 is a throwaway virtualenv, its bin/ first on PATH."""
        python = throwaway_python(node / "python")
        environ = {**self.environ, "PATH": f"{python.parent}:{self.environ.get('PATH', '')}"}
        if shutil.which("aws", path=environ["PATH"]) is None:  # the EMR image has the AWS CLI
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", "awscli"],
                           check=True, env=environ)  # fmt: skip
        return environ

    def _bootstrap(self, node: Path, environ: dict[str, str], actions: list[dict]) -> list[dict]:
        results = []
        for index, action in enumerate(actions):
            script = self.fetch(action["ScriptPath"], node / "bootstrap" / f"{index}.sh")
            script.chmod(0o755)
            started = time.monotonic()
            done = subprocess.run(
                ["bash", str(script), *action.get("Args", [])], env=environ,
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            (node / "bootstrap" / f"{index}.log").write_text(done.stdout + done.stderr)
            results.append({"name": action["Name"], "returncode": done.returncode,
                            "seconds": round(time.monotonic() - started, 1)})  # fmt: skip
            if done.returncode != 0:
                results[-1]["output"] = (done.stdout + done.stderr)[-2000:]
                break  # EMR: the cluster ends TERMINATED_WITH_ERRORS, no step runs
        return results

    def _conf_dir(
        self, node: Path, configurations: list[dict], master_url: str, python: Path
    ) -> Path:
        conf_dir = node / "conf"
        conf_dir.mkdir(parents=True, exist_ok=True)
        delta = classification(configurations, "delta-defaults").get("delta.enabled") == "true"
        defaults = {
            **platform_spark_conf(master_url, delta, self.environ),
            **classification(configurations, "spark-defaults"),
        }
        (conf_dir / "spark-defaults.conf").write_text(
            "".join(f"{key} {value}\n" for key, value in sorted(defaults.items()))
        )
        variables = exports(configurations)
        for name, value in list(variables.items()):
            if name in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON") and value in EMR_IMAGE_PYTHONS:
                variables[name] = str(python)  # the node's interpreter is its virtualenv
        (conf_dir / "spark-env.sh").write_text(
            "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables.items())
        )
        return conf_dir

    # ------------------------------------------------------------------ steps

    def _run_step(
        self, step: dict, environ: dict[str, str], log_uri: str | None, cluster_id: str
    ) -> StepRun:
        config = step["Config"]
        args = list(config.get("Args") or [])
        run = StepRun(step["Id"], step["Name"], "FAILED")
        if config.get("Jar") != "command-runner.jar" or not args:
            stdout, stderr = "", f"the emulation runs command-runner.jar steps only: {config}\n"
        else:  # command-runner runs any command on the master node; spark-submit is Spark's
            command = (
                [str(spark_home() / "bin" / "spark-submit"), *_client_mode(args[1:])]
                if args[0] == "spark-submit"
                else args
            )
            started = time.monotonic()
            try:
                done = subprocess.run(command, env=environ, capture_output=True, text=True,
                                      check=False)  # fmt: skip
            except OSError as error:  # a command the node does not have (s3-dist-cp ...)
                done = subprocess.CompletedProcess(command, 127, "", f"{error}\n")
            run.seconds = round(time.monotonic() - started, 1)
            run.returncode = done.returncode
            run.state = "COMPLETED" if done.returncode == 0 else "FAILED"
            stdout = done.stdout
            stderr = f"[emr-emulation] {shlex.join(command)}\n{done.stderr}"
        if log_uri:
            base = f"{log_uri.rstrip('/')}/{cluster_id}/steps/{run.step_id}"
            for name, text in (("stdout", stdout), ("stderr", stderr)):
                bucket, key = parse_s3_uri(f"{base}/{name}.gz")
                self.s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(text.encode()))
                run.log_uris[name] = f"{base}/{name}.gz"
        else:
            sys.stderr.write(stderr[-3000:])
        return run

    def run_cluster(self, cluster_id: str) -> ClusterRun:
        cluster = self.emr.describe_cluster(ClusterId=cluster_id)["Cluster"]
        actions = self.emr.list_bootstrap_actions(ClusterId=cluster_id)["BootstrapActions"]
        steps = _oldest_first(self.emr.list_steps(ClusterId=cluster_id)["Steps"])
        node = self.workdir / cluster_id
        node.mkdir(parents=True, exist_ok=True)
        environ = self._node_environ(node)
        result = ClusterRun(cluster_id)
        result.bootstrap = self._bootstrap(node, environ, actions)
        if any(action["returncode"] != 0 for action in result.bootstrap):
            result.state = "TERMINATED_WITH_ERRORS"
            result.steps = [StepRun(s["Id"], s["Name"], "CANCELLED") for s in steps]
            return result
        # every node has the bootstrap's virtualenv first on PATH: executors use it too
        with StandaloneCluster(node / "spark", workers=self.workers, env=environ) as spark:
            python = throwaway_python(node / "python")
            configurations = cluster.get("Configurations") or []
            conf_dir = self._conf_dir(node, configurations, spark.master_url, python)
            step_environ = {**environ, "SPARK_CONF_DIR": str(conf_dir),
                            "SPARK_HOME": str(spark_home())}  # fmt: skip
            stopped = False
            for step in steps:
                if stopped:
                    result.steps.append(StepRun(step["Id"], step["Name"], "CANCELLED"))
                    continue
                run = self._run_step(step, step_environ, cluster.get("LogUri"), cluster_id)
                result.steps.append(run)
                if run.state == "FAILED" and step.get("ActionOnFailure") in FAILURE_STOPS:
                    stopped = True
        return result


def _client_mode(args: list[str]) -> list[str]:
    """Standalone runs Python drivers in client mode only (YARN's cluster mode is not here):
    ``--deploy-mode cluster``, ``--deploy-mode=cluster``, ``spark.submit.deployMode=cluster``."""
    out = list(args)
    for index, arg in enumerate(out):
        if arg == "--deploy-mode" and index + 1 < len(out):
            out[index + 1] = "client"
        elif arg.startswith("--deploy-mode="):
            out[index] = "--deploy-mode=client"
        elif arg.startswith("spark.submit.deployMode="):
            out[index] = "spark.submit.deployMode=client"
    return out


def _oldest_first(steps: list[dict]) -> list[dict]:
    """list_steps answers newest first (as EMR documents); run them in submission order. Steps
    sent in one request share a creation time: reversed first, the stable sort keeps them in
    the request's order."""
    return sorted(
        reversed(steps), key=lambda s: s["Status"]["Timeline"].get("CreationDateTime") or 0
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tooling.local.emr",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cluster-id", required=True)
    args, workdir = emulation_arguments(parser, argv, "emr-emulation-")
    import boto3

    emulation = EmrEmulation(boto3.client("emr"), boto3.client("s3"), workdir)
    result = emulation.run_cluster(args.cluster_id)
    print(json.dumps(asdict(result), indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
