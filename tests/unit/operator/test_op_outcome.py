from datetime import timedelta

import pytest
from op_factories import T0, job_body, merge_body, pod_body

from videomerge_contract.enums import ErrorReason
from videomerge_operator.outcome import Graces, OutcomeKind, job_outcome, parse_termination_message
from videomerge_operator.views import job_view, pod_view

GRACES = Graces(image_pull=timedelta(seconds=60), container_config=timedelta(seconds=30))
MERGE = merge_body()


def outcome(job, pods=(), now=T0 + timedelta(seconds=5)):
    return job_outcome(job_view(job), [pod_view(p, "worker") for p in pods], now, GRACES)


def test_running():
    job = job_body(MERGE, active=1)
    result = outcome(job, [pod_body(job)])
    assert (result.kind, result.attempts, result.reason) == (OutcomeKind.RUNNING, 1, None)


def test_complete():
    job = job_body(MERGE, succeeded=1, conditions=[("Complete", "CompletionsReached", "")])
    assert outcome(job).kind == OutcomeKind.SUCCEEDED


def test_deadline_exceeded():
    job = job_body(
        MERGE,
        failed=1,
        conditions=[("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")],
    )
    result = outcome(job)
    assert (result.kind, result.reason) == (OutcomeKind.FAILED, ErrorReason.DEADLINE_EXCEEDED)
    assert "deadline" in result.message


def test_out_of_memory():
    job = job_body(
        MERGE,
        failed=3,
        conditions=[("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")],
    )
    pods = [
        pod_body(
            job,
            f"p{i}",
            T0 + timedelta(seconds=i),
            "Failed",
            terminated={"reason": "OOMKilled", "exitCode": 137},
        )
        for i in range(3)
    ]
    result = outcome(job, pods)
    assert (result.reason, result.attempts) == (ErrorReason.OUT_OF_MEMORY, 3)
    assert "p2" in result.message, "the last failed pod is named"


def test_reason_reported_by_the_worker_in_its_termination_message():
    job = job_body(MERGE, failed=2, conditions=[("Failed", "BackoffLimitExceeded", "")])
    pods = [
        pod_body(job, "p1", T0, "Failed", terminated={"exitCode": 75, "reason": "Error", "message": "junk"}),
        pod_body(
            job,
            "p2",
            T0 + timedelta(seconds=9),
            "Failed",
            terminated={
                "exitCode": 75,
                "reason": "Error",
                "message": '{"reason": "DownloadFailed", "message": "clip 2: 503"}',
            },
        ),
    ]
    result = outcome(job, pods)
    assert (result.reason, result.message) == (ErrorReason.DOWNLOAD_FAILED, "clip 2: 503")


def test_crash_with_logs_as_message():
    job = job_body(MERGE, failed=1, conditions=[("FailureTarget", "BackoffLimitExceeded", "")])
    pods = [
        pod_body(
            job,
            "p1",
            T0,
            "Failed",
            terminated={"exitCode": 139, "reason": "Error", "message": "Traceback...\nSegfault"},
        )
    ]
    result = outcome(job, pods)
    assert result.reason == ErrorReason.WORKER_CRASHED
    assert "exited with code 139" in result.message and "Segfault" in result.message


def test_failed_job_without_pods():
    job = job_body(
        MERGE, conditions=[("Failed", "PodFailurePolicy", "Container worker failed with exit code 42")]
    )
    result = outcome(job)
    assert result.reason == ErrorReason.JOB_FAILED
    assert "PodFailurePolicy" in result.message


def test_image_that_can_never_be_used_is_stuck_at_once():
    job = job_body(MERGE, active=1)
    pods = [
        pod_body(job, phase="Pending", waiting=("ErrImageNeverPull", 'Container image "x:1" is not present'))
    ]
    result = outcome(job, pods, now=T0 + timedelta(seconds=1))
    assert (result.kind, result.reason) == (OutcomeKind.STUCK, ErrorReason.IMAGE_UNAVAILABLE)
    assert "x:1" in result.message


def test_pull_errors_get_a_grace_period():
    job = job_body(MERGE, active=1)
    pods = [pod_body(job, phase="Pending", waiting=("ImagePullBackOff", "Back-off pulling image"))]
    early = outcome(job, pods, now=T0 + timedelta(seconds=10))
    assert early.kind == OutcomeKind.RUNNING
    assert early.recheck_at == T0 + timedelta(seconds=60)
    late = outcome(job, pods, now=T0 + timedelta(seconds=61))
    assert (late.kind, late.reason) == (OutcomeKind.STUCK, ErrorReason.IMAGE_UNAVAILABLE)


def test_missing_secret_fails_after_its_grace():
    job = job_body(MERGE, active=1)
    pods = [
        pod_body(
            job, phase="Pending", waiting=("CreateContainerConfigError", 'secret "videomerge-s3" not found')
        )
    ]
    assert outcome(job, pods, now=T0 + timedelta(seconds=29)).kind == OutcomeKind.RUNNING
    late = outcome(job, pods, now=T0 + timedelta(seconds=31))
    assert (late.kind, late.reason) == (OutcomeKind.STUCK, ErrorReason.JOB_FAILED)
    assert "videomerge-s3" in late.message


def test_pods_of_an_earlier_job_with_the_same_name_are_ignored():
    job = job_body(MERGE, active=1, uid="new")
    old = pod_body(job_body(MERGE, uid="old"), phase="Pending", waiting=("ErrImageNeverPull", "old image"))
    assert outcome(job, [old]).kind == OutcomeKind.RUNNING


def test_between_attempts_the_last_failure_is_explained():
    job = job_body(MERGE, active=1, failed=1)
    pods = [
        pod_body(
            job,
            "p1",
            T0,
            "Failed",
            terminated={"exitCode": 75, "message": '{"reason":"UploadFailed","message":"s3 down"}'},
        ),
        pod_body(job, "p2", T0 + timedelta(seconds=3)),
    ]
    result = outcome(job, pods)
    assert (result.kind, result.attempts, result.message) == (OutcomeKind.RUNNING, 2, "s3 down")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"reason": "Timeout", "message": "too slow"}', (ErrorReason.TIMEOUT, "too slow")),
        ('log line\n{"reason": "FFmpegFailed", "message": "x"}', (ErrorReason.FFMPEG_FAILED, "x")),
        ('{"reason": "NotAReason", "message": "x"}', None),
        ("plain text", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_termination_message(text, expected):
    assert parse_termination_message(text) == expected
