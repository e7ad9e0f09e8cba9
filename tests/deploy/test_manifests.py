"""The kustomize manifests render, validate against Kubernetes' own schemas (1.30 and newer),
and hold the properties a platform team checks: restricted pods, probes, resources, autoscaling,
disruption budget, network policy, secrets only by reference."""

from __future__ import annotations

import copy

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
    synced = {item["key"] for item in spc["spec"]["secretObjects"][0]["data"]}
    assert synced == {"api-keys", "prediction-store-url"}
    synced_secret = spc["spec"]["secretObjects"][0]["secretName"]
    assert synced_secret == "loanops-api-secrets"  # pragma: allowlist secret (a name)


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


@pytest.mark.parametrize("overlay", ["base_objects", "aks_objects"])
def test_restricted_security_context(overlay: str, request: pytest.FixtureRequest) -> None:
    objects = request.getfixturevalue(overlay)
    pod, api = _pod(objects), _api(objects)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the USER of the Dockerfile
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    ctx = api["securityContext"]
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["runAsNonRoot"] is True
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    # No Kubernetes API token: the API never calls the API server, and Workload Identity
    # projects its own token independently of this setting.
    assert pod["automountServiceAccountToken"] is False
    assert one(objects, "ServiceAccount")["automountServiceAccountToken"] is False


def test_only_tmp_is_writable(aks_objects: list[dict]) -> None:
    pod, api = _pod(aks_objects), _api(aks_objects)
    volumes = {v["name"]: v for v in pod["volumes"]}
    writable = [m for m in api["volumeMounts"] if not m.get("readOnly")]
    assert [m["mountPath"] for m in writable] == ["/tmp"]
    assert "emptyDir" in volumes[writable[0]["name"]]
    assert volumes[writable[0]["name"]]["emptyDir"]["sizeLimit"]


def test_probes(aks_objects: list[dict]) -> None:
    api = _api(aks_objects)
    assert api["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"


def test_resources(aks_objects: list[dict]) -> None:
    resources = _api(aks_objects)["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"]
    assert resources["limits"]["memory"]


def test_settings_from_configmap_and_secret(aks_objects: list[dict]) -> None:
    api = _api(aks_objects)
    config_name = api["envFrom"][0]["configMapRef"]["name"]
    config = one(aks_objects, "ConfigMap", config_name)["data"]
    assert config["LOANOPS_MODEL_URI"] == "models:/loan-default@champion"
    assert config["MLFLOW_TRACKING_URI"].startswith("azureml://")
    assert config["LOANOPS_API_KEYS_FILE"].startswith("/var/run/secrets/loanops/")
    assert int(config["WEB_CONCURRENCY"]) >= 1
    store = {e["name"]: e for e in api["env"]}["LOANOPS_PREDICTION_STORE_URL"]
    assert store["valueFrom"]["secretKeyRef"]["name"] == "loanops-api-secrets"


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
    ingress_ports = [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]]
    assert ingress_ports == [8080]
    egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert {53, 443, 1433} <= egress_ports
    assert 22 not in egress_ports


def test_no_secret_carries_data(aks_objects: list[dict], base_objects: list[dict]) -> None:
    for obj in aks_objects + base_objects:
        if obj["kind"] == "Secret":
            assert not obj.get("data") and not obj.get("stringData"), obj["metadata"]["name"]
    # ... and the API reads its secrets from the one Secret that Key Vault (or an operator) fills.
    volumes = {v["name"]: v for v in _pod(aks_objects)["volumes"]}
    mounted = volumes["api-keys"]["secret"]["secretName"]
    assert mounted == "loanops-api-secrets"  # pragma: allowlist secret (a name)
    assert (
        volumes["keyvault"]["csi"]["volumeAttributes"]["secretProviderClass"]
        == (one(aks_objects, "SecretProviderClass")["metadata"]["name"])
    )


def test_aks_service_is_a_load_balancer(aks_objects: list[dict], base_objects: list[dict]) -> None:
    service = one(aks_objects, "Service")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    labels = one(aks_objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert one(base_objects, "Service")["spec"]["type"] == "ClusterIP"


def test_aks_image_workload_identity_and_replicas(aks_objects: list[dict]) -> None:
    image = _api(aks_objects)["image"]
    assert image.split("/")[0].endswith(".azurecr.io"), image
    assert image.split("/")[1].startswith("loanops-api")
    template = one(aks_objects, "Deployment")["spec"]["template"]
    assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert template["spec"]["serviceAccountName"] == "loanops-api"
    assert one(aks_objects, "Deployment")["spec"]["replicas"] >= 3
    # The local-config ConfigMap that feeds the replacements is not deployed.
    assert not [o for o in aks_objects if o["metadata"]["name"] == "azure-ids"]
