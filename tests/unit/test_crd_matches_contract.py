"""crds/videomerge.yaml and videomerge_contract describe the same resource: same fields, enums and limits."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from videomerge_contract import (
    GROUP,
    KIND,
    PLURAL,
    SHORT_NAMES,
    SINGULAR,
    VERSION,
    AspectRatio,
    ErrorReason,
    Fit,
    Limits,
    NotificationState,
    Phase,
    Quality,
    Stage,
    Strategy,
    VideoMergeSpec,
    VideoMergeStatus,
)
from videomerge_contract.models import Condition, MergeError, MergeResultStatus, NotificationStatus

ROOT = Path(__file__).resolve().parents[2]
CRD_PATH = ROOT / "crds" / "videomerge.yaml"


@pytest.fixture(scope="module")
def crd() -> dict[str, Any]:
    return yaml.safe_load(CRD_PATH.read_text())


@pytest.fixture(scope="module")
def schema(crd) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


def _aliases(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def test_identity(crd):
    assert crd["metadata"]["name"] == f"{PLURAL}.{GROUP}"
    names = crd["spec"]["names"]
    assert (crd["spec"]["group"], names["kind"], names["plural"], names["singular"]) == (
        GROUP,
        KIND,
        PLURAL,
        SINGULAR,
    )
    assert tuple(names["shortNames"]) == SHORT_NAMES
    assert crd["spec"]["scope"] == "Namespaced"
    (version,) = crd["spec"]["versions"]
    assert version["name"] == VERSION and version["subresources"] == {"status": {}}


def test_spec_fields_enums_limits_and_defaults(schema):
    spec = schema["properties"]["spec"]
    assert set(spec["properties"]) == _aliases(VideoMergeSpec)
    assert spec["required"] == ["videoUrls"]
    urls = spec["properties"]["videoUrls"]
    assert (urls["minItems"], urls["maxItems"]) == (Limits.MIN_CLIPS, Limits.MAX_CLIPS)
    for item in (urls["items"], spec["properties"]["callbackUrl"]):
        assert (item["type"], item["minLength"], item["maxLength"], item["pattern"]) == (
            "string",
            Limits.MIN_URL_LENGTH,
            Limits.MAX_URL_LENGTH,
            Limits.URL_PATTERN,
        )
    for field, enum in (("quality", Quality), ("aspectRatio", AspectRatio), ("fit", Fit)):
        prop = spec["properties"][field]
        assert prop["enum"] == [e.value for e in enum], field
        by_alias = {f.alias: f for f in VideoMergeSpec.model_fields.values()}
        default = by_alias[field].default
        assert prop["default"] == default.value, field


def test_spec_is_immutable_but_cancel(schema):
    """Every spec field but ``cancel`` is pinned by the immutability rule (a new field must be added to
    it), and ``cancel`` has its own rule: once true it stays true."""
    spec = schema["properties"]["spec"]
    immutable, cancel_rule = spec["x-kubernetes-validations"]
    assert "only cancel may be set" in immutable["message"]
    for alias in _aliases(VideoMergeSpec) - {"cancel"}:
        assert f"self.{alias} == oldSelf.{alias}" in immutable["rule"], alias
    assert "self.cancel" not in immutable["rule"]
    assert (
        cancel_rule["rule"] == "!has(oldSelf.cancel) || !oldSelf.cancel || (has(self.cancel) && self.cancel)"
    )
    assert spec["properties"]["cancel"]["type"] == "boolean"
    assert VideoMergeSpec.model_fields["cancel"].default is None


def test_status_fields_match(schema):
    status = schema["properties"]["status"]["properties"]
    assert set(status) == _aliases(VideoMergeStatus)
    assert status["phase"]["enum"] == [p.value for p in Phase]
    assert status["stage"]["enum"] == [s.value for s in Stage]
    assert (status["progress"]["minimum"], status["progress"]["maximum"]) == (0, 100)
    result = status["result"]
    assert set(result["properties"]) == _aliases(MergeResultStatus)
    assert set(result["required"]) == _required(MergeResultStatus)
    assert result["properties"]["strategy"]["enum"] == [s.value for s in Strategy]
    error = status["error"]
    assert set(error["properties"]) == _aliases(MergeError)
    assert set(error["required"]) == _required(MergeError)
    assert error["properties"]["reason"]["enum"] == [r.value for r in ErrorReason]
    notification = status["notification"]
    assert set(notification["properties"]) == _aliases(NotificationStatus)
    assert set(notification["required"]) == _required(NotificationStatus)
    assert notification["properties"]["state"]["enum"] == [s.value for s in NotificationState]
    condition = status["conditions"]["items"]
    assert set(condition["properties"]) == _aliases(Condition)
    assert set(condition["required"]) == _required(Condition)


def _required(model: type[BaseModel]) -> set[str]:
    return {f.alias or n for n, f in model.model_fields.items() if f.is_required()}


def test_printer_columns(crd):
    (version,) = crd["spec"]["versions"]
    columns = {c["name"]: c for c in version["additionalPrinterColumns"]}
    for name in ("Status", "Progress", "Clips", "Duration", "Age"):
        assert columns[name].get("priority", 0) == 0, name
    # -o wide adds what helps find a problem, not the ~400-character presigned URL.
    assert {n for n, c in columns.items() if c.get("priority") == 1} == {"Stage", "Reason", "Job", "Attempts"}
    assert columns["Duration"]["jsonPath"] == ".status.duration"
    for column in columns.values():
        path = column["jsonPath"]
        if path.startswith(".status."):
            assert _camel_path_exists(path), path


def _camel_path_exists(path: str) -> bool:
    model: type[BaseModel] = VideoMergeStatus
    for part in path.removeprefix(".status.").split("."):
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if part not in fields:
            return False
        annotation = fields[part].annotation
        nested = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        model = next((a for a in nested if issubclass(a, BaseModel)), model)
    return True


def test_chart_installs_the_same_crd_file():
    chart_copy = ROOT / "charts" / "videomerge" / "crds" / "videomerge.yaml"
    if not chart_copy.exists():
        pytest.fail(f"{chart_copy} is missing: run `make crd-sync`")
    assert chart_copy.read_bytes() == CRD_PATH.read_bytes(), "chart CRD drifted: run `make crd-sync`"


def test_url_pattern_is_plain_re2():
    # The API server evaluates the pattern with Go's RE2: no look-arounds or back-references.
    assert not re.search(r"\(\?[=!<]|\\[1-9]", Limits.URL_PATTERN)
