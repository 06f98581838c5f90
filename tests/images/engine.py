"""The local container engine (Docker or Podman) and the images skaffold.yaml builds, built with it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.k8s.build_config import REPO, artifacts, profile_names, with_profile

TAG = "images-test"


@dataclass(frozen=True)
class Engine:
    command: str

    @property
    def is_podman(self) -> bool:
        return Path(self.command).name.startswith("podman")

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([self.command, *args], capture_output=True, text=True, check=False, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{self.command} {shlex.join(args)[:400]} exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result


def find_engine() -> tuple[Engine | None, str]:
    """The engine to use (BRIGADE_CONTAINER_ENGINE, else docker, else podman) and, when none answers,
    why not."""
    wanted = os.environ.get("BRIGADE_CONTAINER_ENGINE")
    candidates = [wanted] if wanted else ["docker", "podman"]
    tried = []
    for name in candidates:
        path = shutil.which(name)
        if path is None:
            tried.append(f"{name}: not installed")
            continue
        probe = subprocess.run([path, "info"], capture_output=True, text=True, check=False, timeout=60)
        if probe.returncode == 0:
            return Engine(path), ""
        detail = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        tried.append(f"{name}: `{name} info` failed ({detail[:200]})")
    return None, "; ".join(tried)


@dataclass(frozen=True)
class Artifact:
    image: str
    dockerfile: Path
    context: Path
    requires: dict[str, str]  # build arg → required artifact's image


def skaffold_artifacts() -> list[Artifact]:
    """The artifacts of skaffold.yaml's default build, then those its profiles add, in file order
    (required ones come first)."""
    entries = dict(artifacts())
    for name in profile_names():
        entries |= artifacts(with_profile(name))
    built = []
    for entry in entries.values():
        context = REPO / entry.get("context", ".")
        built.append(
            Artifact(
                image=entry["image"],
                dockerfile=context / entry.get("docker", {}).get("dockerfile", "Dockerfile"),
                context=context,
                requires={r["alias"]: r["image"] for r in entry.get("requires", [])},
            )
        )
    return built


def build_all(engine: Engine) -> dict[str, str]:
    """Builds every artifact as Skaffold would (required images passed as build args) and returns
    image name → local reference. BRIGADE_IMAGE_BUILD_ARGS adds engine flags, for instance base images
    from a local registry: `--build-arg PYTHON_IMAGE=… --build-arg NODE_IMAGE=…`."""
    extra = shlex.split(os.environ.get("BRIGADE_IMAGE_BUILD_ARGS", ""))
    built: dict[str, str] = {}
    for artifact in skaffold_artifacts():
        ref = f"localhost/{artifact.image}:{TAG}"
        args = ["build", "--network=host", "-f", str(artifact.dockerfile), "-t", ref, *extra]
        for alias, image in artifact.requires.items():
            assert image in built, f"{artifact.image} requires {image}, which skaffold.yaml lists after it"
            args += ["--build-arg", f"{alias}={built[image]}"]
        engine.run(*args, str(artifact.context), timeout=1800)
        built[artifact.image] = ref
    return built


def image_size(engine: Engine, ref: str) -> int:
    return int(engine.run("image", "inspect", "--format", "{{.Size}}", ref).stdout.strip())
