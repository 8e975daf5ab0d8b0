import kopf
import pytest
from op_factories import job_body, merge_body, pod_body

from videomerge_operator.handlers import LeanDiffBaseStorage, kopf_settings


def heavy(body):
    body["metadata"]["managedFields"] = [{"manager": "kube-controller-manager", "fieldsV1": {"f:status": {}}}]
    body["metadata"]["annotations"] = {"note": "kept", "videomerge.io/last-handled-configuration": "{}"}
    body["status"] = {**body.get("status", {}), "startTime": "2026-01-01T00:00:00Z"}
    return body


@pytest.mark.parametrize(
    "body",
    [heavy(merge_body()), heavy(job_body(merge_body())), heavy(pod_body(job_body(merge_body())))],
    ids=["videomerge", "job", "pod"],
)
def test_the_lean_essence_equals_kopfs(body):
    reference = kopf.AnnotationsDiffBaseStorage(prefix="videomerge.io", key="last-handled-configuration")
    lean = LeanDiffBaseStorage(prefix="videomerge.io", key="last-handled-configuration")
    assert lean.build(body=kopf.Body(body)) == reference.build(body=kopf.Body(body))
    fields = [("status", "startTime")]
    assert lean.build(body=kopf.Body(body), extra_fields=fields) == reference.build(
        body=kopf.Body(body), extra_fields=fields
    )


def test_kopf_keeps_its_bookkeeping_out_of_the_status_and_does_not_peer():
    settings = kopf_settings()
    assert isinstance(settings.persistence.progress_storage, kopf.AnnotationsProgressStorage)
    assert isinstance(settings.persistence.diffbase_storage, kopf.AnnotationsDiffBaseStorage)
    assert settings.peering.standalone is True
    assert settings.posting.enabled is False
