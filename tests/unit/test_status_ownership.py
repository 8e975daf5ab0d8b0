"""The contract's split of status fields between the worker and the operator, and its enforcement."""

import pytest

from videomerge_contract import VideoMergeStatus
from videomerge_contract.ownership import FIELDS, PHASES, StatusOwnershipError, Writer, check_status_patch
from videomerge_worker import status as worker_patches


def test_every_status_field_has_an_owner():
    crd_fields = {field.alias or name for name, field in VideoMergeStatus.model_fields.items()}
    assert FIELDS[Writer.WORKER] | FIELDS[Writer.OPERATOR] | FIELDS[Writer.NOTIFIER] == crd_fields


def test_the_notifier_writes_only_the_notification():
    check_status_patch(Writer.NOTIFIER, {"notification": {"state": "Delivered"}})
    for field in ("phase", "result", "conditions", "message"):
        with pytest.raises(StatusOwnershipError, match=field):
            check_status_patch(Writer.NOTIFIER, {field: "x", "notification": {}})
    assert not FIELDS[Writer.NOTIFIER] & (FIELDS[Writer.WORKER] | FIELDS[Writer.OPERATOR])


@pytest.mark.parametrize("field", ["result", "startTime"])
def test_the_operator_never_writes_the_workers_result(field):
    with pytest.raises(StatusOwnershipError, match=field):
        check_status_patch(Writer.OPERATOR, {field: "x"})


@pytest.mark.parametrize(
    "field", ["conditions", "jobName", "attempts", "queuePosition", "observedGeneration"]
)
def test_the_worker_never_writes_the_operators_fields(field):
    with pytest.raises(StatusOwnershipError, match=field):
        check_status_patch(Writer.WORKER, {"phase": "Processing", field: 1})


def test_phases_by_writer():
    check_status_patch(Writer.WORKER, {"phase": "Completed"})
    check_status_patch(Writer.OPERATOR, {"phase": "Queued"})
    with pytest.raises(StatusOwnershipError, match="Queued"):
        check_status_patch(Writer.WORKER, {"phase": "Queued"})
    with pytest.raises(StatusOwnershipError, match="Completed"):
        check_status_patch(Writer.OPERATOR, {"phase": "Completed"})
    assert PHASES[Writer.WORKER] & PHASES[Writer.OPERATOR] == {"Failed"}


def test_the_workers_patch_builders_are_checked(monkeypatch):
    monkeypatch.setitem(FIELDS, Writer.WORKER, frozenset({"phase"}))  # as if the worker owned less
    with pytest.raises(StatusOwnershipError):
        worker_patches.retrying_patch("Timeout", "slow", "1")
