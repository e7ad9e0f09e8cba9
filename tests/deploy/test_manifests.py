"""The kustomize manifests render, validate against Kubernetes' own schemas (1.30 and newer),
and hold the properties a platform team checks: restricted pods, probes, resources, autoscaling,
disruption budget, network policy, images by digest, migrations before the API starts, HTTPS at
the Ingress in front of an internal Service, and credentials only as mounted files."""

from __future__ import annotations

import copy
import re

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.conftest import one

# Every Kubernetes minor from 1.30 to the newest the installed kubernetes-validate knows.
NEWEST = tuple(int(part) for part in kubernetes_validate.latest_version().split(".")[:2])
VERSIONS = [f"1.{minor}.0" for minor in range(30, NEWEST[1] + 1)]

# Custom resources have no schema in kubernetes-validate; each one used is checked below against
# the openAPIV3Schema of its CRD instead (secrets-store.csi.x-k8s.io_secretproviderclasses.yaml).
CUSTOM_KINDS = {("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass")}
SECRET_PROVIDER_CLASS_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["provider", "parameters"],
            "properties": {
                "provider": {"type": "string"},
                "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
                "secretObjects": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "secretName": {"type": "string"},
                            "type": {"type": "string"},
                            "labels": {"type": "object"},
                            "annotations": {"type": "object"},
                            "data": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "key": {"type": "string"},
                                        "objectName": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


# The AKS application routing add-on: its ingress class and the namespace its NGINX runs in.
INGRESS_CLASS = "webapprouting.kubernetes.azure.com"
INGRESS_NAMESPACE = "app-routing-system"
SECRETS_MOUNT = "/mnt/secrets-store"
DIGEST = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$")


def test_versions_cover_130_and_several_newer() -> None:
    assert VERSIONS[0] == "1.30.0"
    assert len(VERSIONS) >= 4, VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_passes_strict_validation(aks_objects: list[dict], version: str) -> None:
    for obj in aks_objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(obj, version, strict=True)


def test_strict_validation_rejects_an_unknown_field(aks_objects: list[dict]) -> None:
    """The validation above is not vacuous: a misspelt field fails it."""
    broken = copy.deepcopy(one(aks_objects, "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_only_known_custom_resources(aks_objects: list[dict]) -> None:
    builtin = set()
    for obj in aks_objects:
        try:
            kubernetes_validate.validate(obj, VERSIONS[-1], strict=True)
            builtin.add(obj["kind"])
        except kubernetes_validate.SchemaNotFoundError:
            assert (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS, obj["kind"]
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= builtin


def test_secret_provider_class_matches_its_crd(aks_objects: list[dict]) -> None:
    spc = one(aks_objects, "SecretProviderClass")
    jsonschema.validate(spc, SECRET_PROVIDER_CLASS_SCHEMA)
    assert spc["spec"]["provider"] == "azure"
    params = spc["spec"]["parameters"]
    assert params["usePodIdentity"] == "false"
    # Workload Identity: the same client id as the pods' ServiceAccount, filled by kustomize.
    sa = one(aks_objects, "ServiceAccount", "loanops-api")
    assert params["clientID"] == sa["metadata"]["annotations"]["azure.workload.identity/client-id"]
    assert "set-by-kustomize" not in params.values()
    objects = set(re.findall(r"objectName: (\S+)", params["objects"]))
    assert objects == {"loanops-api-keys", "loanops-prediction-store-url"}
    # Mounted as files only: no copy synced into a Kubernetes Secret.
    assert "secretObjects" not in spc["spec"]


def test_expected_objects_in_one_namespace(aks_objects: list[dict]) -> None:
    kinds = {obj["kind"] for obj in aks_objects}
    assert {
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "SecretProviderClass",
        "Ingress",
    } <= kinds
    namespaces = {
        obj["metadata"].get("namespace") for obj in aks_objects if obj["kind"] != "Namespace"
    }
    assert namespaces == {"loanops"}
    ns = one(aks_objects, "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def _pod(objects: list[dict]) -> dict:
    return one(objects, "Deployment", "loanops-api")["spec"]["template"]["spec"]


def _api(objects: list[dict]) -> dict:
    containers = _pod(objects)["containers"]
    assert [c["name"] for c in containers] == ["api"]
    return containers[0]


def _migrate(objects: list[dict]) -> dict:
    init = _pod(objects)["initContainers"]
    assert [c["name"] for c in init] == ["migrate"]
    return init[0]


def _all_containers(objects: list[dict]) -> list[dict]:
    """Every container and init container of every workload."""
    found = []
    for obj in objects:
        pod = obj.get("spec", {}).get("template", {}).get("spec")
        if pod:
            found += pod.get("initContainers", []) + pod["containers"]
    return found


@pytest.mark.parametrize("overlay", ["base_objects", "aks_objects"])
def test_restricted_security_context(overlay: str, request: pytest.FixtureRequest) -> None:
    objects = request.getfixturevalue(overlay)
    pod = _pod(objects)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the USER of the Dockerfile
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in (_migrate(objects), _api(objects)):
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False, container["name"]
        assert ctx["readOnlyRootFilesystem"] is True, container["name"]
        assert ctx["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert ctx["runAsNonRoot"] is True, container["name"]
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]
    # No Kubernetes API token: the API never calls the API server, and Workload Identity
    # projects its own token independently of this setting.
    assert pod["automountServiceAccountToken"] is False
    assert one(objects, "ServiceAccount")["automountServiceAccountToken"] is False


def test_only_tmp_is_writable(aks_objects: list[dict]) -> None:
    pod = _pod(aks_objects)
    volumes = {v["name"]: v for v in pod["volumes"]}
    for container in (_migrate(aks_objects), _api(aks_objects)):
        writable = [m for m in container["volumeMounts"] if not m.get("readOnly")]
        assert [m["mountPath"] for m in writable] == ["/tmp"], container["name"]
        assert "emptyDir" in volumes[writable[0]["name"]]
        assert volumes[writable[0]["name"]]["emptyDir"]["sizeLimit"]


def test_probes(aks_objects: list[dict]) -> None:
    api = _api(aks_objects)
    assert api["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_resources(aks_objects: list[dict]) -> None:
    for container in (_migrate(aks_objects), _api(aks_objects)):
        resources = container["resources"]
        assert resources["requests"]["cpu"] and resources["requests"]["memory"]
        assert resources["limits"]["memory"]


@pytest.mark.parametrize("overlay", ["base_objects", "aks_objects"])
def test_migrations_run_once_before_the_api_starts(
    overlay: str, request: pytest.FixtureRequest
) -> None:
    """The init container migrates the store; gunicorn then starts with migration switched off."""
    objects = request.getfixturevalue(overlay)
    migrate, api = _migrate(objects), _api(objects)
    assert migrate["command"] == ["python", "-m", "serving.store.migrate"]
    assert migrate["image"] == api["image"]  # the schema of the code that is about to run
    assert migrate["envFrom"] == api["envFrom"]  # the same store, from the same settings
    assert {m["name"] for m in migrate["volumeMounts"]} >= {"secrets", "tmp"}
    assert {e["name"]: e.get("value") for e in api["env"]}["LOANOPS_MIGRATE"] == "false"
    assert "LOANOPS_MIGRATE" not in {e["name"] for e in migrate.get("env", [])}


@pytest.mark.parametrize("overlay", ["base_objects", "aks_objects"])
def test_credentials_are_mounted_files_never_environment(
    overlay: str, request: pytest.FixtureRequest
) -> None:
    objects = request.getfixturevalue(overlay)
    for container in _all_containers(objects):
        for env in container.get("env", []):
            assert "valueFrom" not in env, (container["name"], env)
        for source in container.get("envFrom", []):
            assert "secretRef" not in source, (container["name"], source)
    api = _api(objects)
    config_name = api["envFrom"][0]["configMapRef"]["name"]
    config = one(objects, "ConfigMap", config_name)["data"]
    assert config["LOANOPS_MODEL_URI"] == "models:/loan-default@champion"
    assert int(config["WEB_CONCURRENCY"]) >= 1
    assert "LOANOPS_PREDICTION_STORE_URL" not in config
    files = {
        config["LOANOPS_API_KEYS_FILE"]: "loanops-api-keys",  # pragma: allowlist secret (a name)
        config["LOANOPS_PREDICTION_STORE_URL_FILE"]: "loanops-prediction-store-url",
    }
    mount = {m["name"]: m for m in api["volumeMounts"]}["secrets"]
    assert mount["mountPath"] == SECRETS_MOUNT and mount["readOnly"] is True
    for path, name in files.items():
        assert path == f"{SECRETS_MOUNT}/{name}"
    if overlay == "aks_objects":
        assert config["MLFLOW_TRACKING_URI"].startswith("azureml://")
        # Passwordless: the store's URL holds no login, the pods' identity signs in.
        assert config["LOANOPS_MSSQL_AUTH"] == "workload-identity"
        # The file names are the Key Vault secrets the CSI driver mounts.
        objects_param = one(objects, "SecretProviderClass")["spec"]["parameters"]["objects"]
        assert set(files.values()) <= set(re.findall(r"objectName: (\S+)", objects_param))
    else:
        volume = {v["name"]: v for v in _pod(objects)["volumes"]}["secrets"]
        assert {item["path"] for item in volume["secret"]["items"]} == set(files.values())


def test_hpa(aks_objects: list[dict]) -> None:
    hpa = one(aks_objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "loanops-api",
    }
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


def test_pdb_selects_the_api_pods(aks_objects: list[dict]) -> None:
    pdb = one(aks_objects, "PodDisruptionBudget")
    labels = one(aks_objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    selector = pdb["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1
    hpa = one(aks_objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] > pdb["spec"]["maxUnavailable"]


def test_network_policy(aks_objects: list[dict]) -> None:
    policy = one(aks_objects, "NetworkPolicy")
    labels = one(aks_objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    ingress_ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert ingress_ports == {8080}
    # Every ingress rule names its peers by namespace: the ingress controller (client traffic)
    # and kube-system (managed Prometheus scraping /metrics); nobody else in or out of the cluster.
    peers = []
    for rule in policy["spec"]["ingress"]:
        assert rule.get("from"), rule
        for peer in rule["from"]:
            assert set(peer) == {"namespaceSelector"}, peer
            peers.append(peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"])
    assert sorted(peers) == sorted([INGRESS_NAMESPACE, "kube-system"])
    egress = [p for rule in policy["spec"]["egress"] for p in rule["ports"]]
    egress_ports = {p["port"] for p in egress}
    assert {53, 443, 1433} <= egress_ports
    assert 22 not in egress_ports and 80 not in egress_ports
    # Azure SQL's Redirect connection policy (the default inside Azure): after the gateway on
    # 1433 the session moves to the database node on a port in 11000-11999.
    ranges = [(p["port"], p["endPort"]) for p in egress if "endPort" in p]
    assert ranges == [(11000, 11999)]


def test_base_network_policy_admits_only_named_namespaces(base_objects: list[dict]) -> None:
    policy = one(base_objects, "NetworkPolicy")
    for rule in policy["spec"]["ingress"]:
        assert rule.get("from") and all("namespaceSelector" in peer for peer in rule["from"])


def test_no_secret_carries_data(aks_objects: list[dict], base_objects: list[dict]) -> None:
    for obj in aks_objects + base_objects:
        if obj["kind"] == "Secret":
            assert not obj.get("data") and not obj.get("stringData"), obj["metadata"]["name"]
    # On AKS the credentials volume is Key Vault itself (CSI), with nothing left of the base's
    # Kubernetes Secret; on the base it is the one Secret an operator fills.
    aks_volume = {v["name"]: v for v in _pod(aks_objects)["volumes"]}["secrets"]
    assert set(aks_volume) == {"name", "csi"}
    assert (
        aks_volume["csi"]["volumeAttributes"]["secretProviderClass"]
        == (one(aks_objects, "SecretProviderClass")["metadata"]["name"])
    )
    base_volume = {v["name"]: v for v in _pod(base_objects)["volumes"]}["secrets"]
    mounted = base_volume["secret"]["secretName"]
    assert mounted == "loanops-api-secrets"  # pragma: allowlist secret (a name)


def test_aks_service_is_internal(aks_objects: list[dict], base_objects: list[dict]) -> None:
    service = one(aks_objects, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert "externalTrafficPolicy" not in service["spec"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    labels = one(aks_objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert one(base_objects, "Service")["spec"]["type"] == "ClusterIP"
    assert not [o for o in aks_objects if o.get("spec", {}).get("type") == "LoadBalancer"]


def test_aks_ingress_terminates_tls_with_cert_manager(aks_objects: list[dict]) -> None:
    ingress = one(aks_objects, "Ingress", "loanops-api")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["cert-manager.io/cluster-issuer"]
    assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    assert ingress["spec"]["ingressClassName"] == INGRESS_CLASS
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert tls["hosts"] == [rule["host"]]  # the certificate covers the host that is served
    assert "set-by-kustomize" not in rule["host"] and "." in rule["host"]
    assert tls["secretName"]
    (path,) = rule["http"]["paths"]
    service = one(aks_objects, "Service")
    assert path["backend"]["service"] == {
        "name": service["metadata"]["name"],
        "port": {"name": service["spec"]["ports"][0]["name"]},
    }
    # The controller of that class runs in the namespace the NetworkPolicy admits.
    policy = one(aks_objects, "NetworkPolicy")
    names = [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
    ]
    assert INGRESS_NAMESPACE in names


def test_aks_images_are_pinned_by_digest_only(aks_objects: list[dict]) -> None:
    images = [c["image"] for c in _all_containers(aks_objects)]
    assert len(images) == 2, images  # migrate and api
    for image in images:
        assert DIGEST.match(image), f"{image} is not pinned by digest"
    # The committed digest is a placeholder no registry holds: unpinned, a pull fails.
    assert images[0].endswith("@sha256:" + "0" * 64)


def test_aks_image_workload_identity_and_replicas(aks_objects: list[dict]) -> None:
    image = _api(aks_objects)["image"]
    assert image.split("/")[0].endswith(".azurecr.io"), image
    assert image.split("/")[1].startswith("loanops-api@")
    template = one(aks_objects, "Deployment")["spec"]["template"]
    assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert template["spec"]["serviceAccountName"] == "loanops-api"
    assert one(aks_objects, "Deployment")["spec"]["replicas"] >= 3
    # The local-config ConfigMap that feeds the replacements is not deployed.
    assert not [o for o in aks_objects if o["metadata"]["name"] == "azure-ids"]
