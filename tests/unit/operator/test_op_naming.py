import re

import pytest

from videomerge_operator.naming import job_name_for, merge_label_value, worker_labels

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def test_the_job_is_named_after_its_merge():
    assert job_name_for("holiday-clips") == "holiday-clips"
    # What the API creates: Job vm-3f2a…, pods vm-3f2a…-xxxxx (never vm-vm-…).
    assert job_name_for("vm-3f2a9c1b7e5d40a8b6c2") == "vm-3f2a9c1b7e5d40a8b6c2"


@pytest.mark.parametrize(
    "name",
    [
        "a" * 60,
        "a" * 253,
        ".a",
        "-x.y",
        "x.y.z",
        "clip.2026.01.01",
        "a-" * 40 + "b",
        "ends-with-dot-segment." + "q" * 70,
    ],
)
def test_every_job_name_is_a_dns_label_of_at_most_63(name):
    job = job_name_for(name)
    assert len(job) <= 63
    assert DNS_LABEL.match(job), job


def test_the_name_is_deterministic_and_distinct():
    long_a, long_b = "a" * 100 + "1", "a" * 100 + "2"
    assert job_name_for(long_a) == job_name_for(long_a)
    assert job_name_for(long_a) != job_name_for(long_b)
    # Replacing dots must not make two merges share a Job.
    assert job_name_for("a.b") != job_name_for("a-b")


def test_label_value_is_valid_for_long_names():
    value = merge_label_value("m" * 200)
    assert len(value) <= 63
    assert merge_label_value("short") == "short"
    assert merge_label_value("m" * 200) != merge_label_value("m" * 199)


def test_worker_labels():
    labels = worker_labels("m1", "release")
    assert labels == {
        "app.kubernetes.io/name": "videomerge",
        "app.kubernetes.io/instance": "release",
        "app.kubernetes.io/component": "worker",
        "app.kubernetes.io/part-of": "videomerge",
        "app.kubernetes.io/managed-by": "videomerge-operator",
        "videomerge.io/merge": "m1",
    }
