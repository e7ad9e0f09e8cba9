"""The serving deployment: the AKS overlay rendered for the champion, applied when configured.

The image is the one CD released: cd.yml records the digest it pushed and rolled out in
LOANOPS_API_IMAGE (ConfigMap dagster/loanops-release on AKS), and this asset renders exactly that
digest. Without a recorded digest it renders and applies nothing and says so; a tag is refused,
since a tag can point at another build by the time a pod pulls it.

Locally the API follows the champion alias by itself (serving/model_loader.py); this asset waits
until the running API reports the new version, so "deployed" means "answering with it".
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from loanops.settings import REPO_ROOT
from orchestration.assets.ml import champion_version
from orchestration.keys import CHAMPION, DEPLOYMENT, SERVING
from orchestration.resources import LoanopsResource

OVERLAY = REPO_ROOT / "k8s" / "overlays" / "aks"
DEPLOYMENT_NAME = "loanops-api"
VERSION_ANNOTATION = "loanops.io/model-version"
IMAGE_SETTING = "LOANOPS_API_IMAGE"
IMAGE_NAME = "loanops-api"
# <registry>[:port]/<path>/loanops-api@sha256:<64 hex>: a reference by digest, as CD records it.
PINNED_IMAGE = re.compile(
    r"(?P<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"@sha256:(?P<digest>[0-9a-f]{64})"
)
NO_IMAGE = (
    f"not applied: no image digest recorded ({IMAGE_SETTING} is unset; CD records it in "
    "ConfigMap dagster/loanops-release after a successful rollout)"
)


class DeploymentConfig(dg.Config):
    """How long to wait for the running API, and (optionally) the released image to roll out."""

    wait_seconds: float = 90.0  # the API polls the alias every 30 s by default
    api_image: str | None = None  # empty: LOANOPS_API_IMAGE, as CD recorded it


def recorded_image(configured: str | None = None) -> str | None:
    """The API image CD released (config, else LOANOPS_API_IMAGE), pinned by digest, or None."""
    image = (configured or os.environ.get(IMAGE_SETTING) or "").strip()
    return check_pinned(image) if image else None


def check_pinned(image: str) -> str:
    """The image reference itself when it is a loanops-api image by digest; else a Failure."""
    pinned = PINNED_IMAGE.fullmatch(image)
    if pinned is None:
        raise dg.Failure(
            f"{IMAGE_SETTING}={image!r} is not pinned by digest: expected "
            f"<registry>/{IMAGE_NAME}@sha256:<64 hex digits>, as cd.yml records it. A tag "
            "(such as :latest) is refused because it can name another build by the time a pod "
            "pulls it."
        )
    if pinned["repository"].rsplit("/", 1)[-1] != IMAGE_NAME:
        raise dg.Failure(f"{IMAGE_SETTING}={image!r} is not a {IMAGE_NAME} image")
    if set(pinned["digest"]) == {"0"}:
        raise dg.Failure(
            f"{IMAGE_SETTING}={image!r} is the overlay's placeholder digest, not a pushed image"
        )
    return image


def _pod_specs(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pod specs of every workload (Deployment, Job ...) in the documents."""
    return [
        doc["spec"]["template"]["spec"]
        for doc in documents
        if isinstance(doc.get("spec"), dict) and "template" in doc["spec"]
    ]


def image_name(reference: str) -> str:
    """The last path part of an image reference, without its tag or digest."""
    last = reference.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def pin_image(documents: list[dict[str, Any]], image: str) -> list[dict[str, Any]]:
    """Set every loanops-api container (init containers included) to the released image."""
    pinned = 0
    for pod in _pod_specs(documents):
        for container in pod.get("initContainers", []) + pod.get("containers", []):
            if image_name(container["image"]) == IMAGE_NAME:
                container["image"] = image
                pinned += 1
    if not pinned:
        raise dg.Failure(f"the overlay {OVERLAY} has no {IMAGE_NAME} container to pin")
    floating = [
        container["image"]
        for pod in _pod_specs(documents)
        for container in pod.get("initContainers", []) + pod.get("containers", [])
        if PINNED_IMAGE.fullmatch(container["image"]) is None
    ]
    if floating:
        raise dg.Failure(f"images not pinned by digest in the rendered overlay: {floating}")
    return documents


def kubectl() -> str:
    """The project's pinned kubectl (.venv/bin), else the one on PATH."""
    pinned = Path(sys.executable).parent / "kubectl"
    found = str(pinned) if pinned.exists() else shutil.which("kubectl")
    if found is None:
        raise dg.Failure("kubectl not found: run `make install` (requirements/dev-lock.txt)")
    return found


def annotate(documents: list[dict[str, Any]], version: str) -> list[dict[str, Any]]:
    """Stamp the model version on the API pods' template, so applying it rolls them out."""
    for doc in documents:
        if doc.get("kind") == "Deployment" and doc["metadata"]["name"] == DEPLOYMENT_NAME:
            template = doc["spec"]["template"].setdefault("metadata", {})
            template.setdefault("annotations", {})[VERSION_ANNOTATION] = version
    return documents


def render(version: str, image: str, out_dir: Path) -> Path:
    """`kubectl kustomize` the AKS overlay for this model version and image into out_dir."""
    done = subprocess.run(
        [kubectl(), "kustomize", str(OVERLAY)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise dg.Failure(f"kustomize of {OVERLAY} failed: {done.stderr.strip()[:2000]}")
    documents = [d for d in yaml.safe_load_all(done.stdout) if d]
    documents = annotate(pin_image(documents, check_pinned(image)), version)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"aks-loan-default-v{version}.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    return path


def apply(path: Path, context_name: str) -> str:
    """`kubectl apply` the rendered manifest to the named kube context."""
    done = subprocess.run(
        [kubectl(), "--context", context_name, "apply", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise dg.Failure(f"kubectl apply to {context_name} failed: {done.stderr.strip()[:2000]}")
    return done.stdout.strip()


def probe(api_url: str) -> tuple[bool, str | None]:
    """(is the API answering, the model version its /readyz reports)."""
    try:
        with urllib.request.urlopen(f"{api_url}/readyz", timeout=3) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:  # 503 while it loads: the body still says which
        try:
            body = json.load(error)
        except ValueError:
            return True, None
    except (urllib.error.URLError, OSError, ValueError):
        return False, None
    version = body.get("model_version") if isinstance(body, dict) else None
    return True, None if version is None else str(version)


def wait_for_api(api_url: str, version: str, wait_seconds: float) -> str:
    """Wait until the API serves `version`; 'not running' when nothing answers at all."""
    deadline = time.monotonic() + wait_seconds
    running, seen = probe(api_url)
    if not running:
        return "not running (it loads the champion when it starts)"
    while seen != version and time.monotonic() < deadline:
        time.sleep(2.0)
        _, seen = probe(api_url)
    if seen != version:
        raise dg.Failure(
            f"the API at {api_url} still serves version {seen} after {wait_seconds:.0f} s; "
            "check its logs (it must use the same MLFLOW_TRACKING_URI)"
        )
    return f"serving version {version}"


@dg.asset(
    key=DEPLOYMENT,
    deps=[CHAMPION],
    group_name=SERVING,
    owners=["team:ml-engineering"],
    kinds={"kubernetes", "flask"},
    description="The scoring API serving the champion: the AKS overlay rendered for its version "
    "and the image digest CD released (LOANOPS_API_IMAGE), applied when LOANOPS_KUBE_CONTEXT "
    "names a cluster, and the local API confirmed on it.",
)
def deployment(
    context: dg.AssetExecutionContext, config: DeploymentConfig, loanops: LoanopsResource
) -> dg.MaterializeResult:
    """Render (and maybe apply) the AKS manifests; make sure a running local API serves it."""
    settings = loanops.settings()
    version = champion_version(settings)
    image = recorded_image(config.api_image)
    kube = loanops.kubernetes_context()
    manifest: Path | None = None
    if image is None:
        applied = NO_IMAGE
    else:
        manifest = render(version, image, settings.data_dir / "deploy")
        applied = apply(manifest, kube) if kube else "not applied: LOANOPS_KUBE_CONTEXT is not set"
    context.log.info(applied)
    api_url = loanops.serving_url()
    api = wait_for_api(api_url, version, config.wait_seconds)
    context.log.info(f"local API at {api_url}: {api}")
    return dg.MaterializeResult(
        metadata={
            "model_version": version,
            "api_image": image or "none recorded",
            "manifest": dg.MetadataValue.path(str(manifest))
            if manifest
            else dg.MetadataValue.text("none (no image digest recorded)"),
            "kube_context": kube or "none",
            "kubectl_apply": applied,
            "api_url": api_url,
            "api": api,
        }
    )
