import pytest
from pydantic import ValidationError

from videomerge_operator.settings import OperatorSettings


@pytest.fixture
def env(monkeypatch):
    def set_env(**values):
        for key, value in values.items():
            monkeypatch.setenv(f"VIDEOMERGE_OPERATOR_{key.upper()}", value)

    return set_env


def test_defaults():
    s = OperatorSettings()
    assert s.namespaces == []
    assert s.worker_image == "videomerge/worker:dev"
    assert s.worker_args == ["run"]
    assert s.worker_command is None
    assert (s.max_concurrent, s.concurrency_scope) == (4, "cluster")
    assert s.s3_secret_name == "videomerge-s3"
    assert (s.s3_access_key_key, s.s3_secret_key_key) == ("accessKey", "secretKey")


def test_lists_from_commas_or_json(env):
    env(namespaces="a, b,c", worker_command='["sh", "-c", "exit 3"]', worker_args="")
    s = OperatorSettings()
    assert s.namespaces == ["a", "b", "c"]
    assert s.worker_command == ["sh", "-c", "exit 3"]
    assert s.worker_args == []


def test_extra_env_from_json_and_booleans(env):
    env(
        extra_env='{"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"}',
        host_network="true",
    )
    s = OperatorSettings()
    assert s.extra_env == {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"}
    assert s.host_network is True


def test_lease_timings_that_would_let_two_replicas_act_are_refused(env):
    env(lease_duration_seconds="10", renew_deadline_seconds="10")
    with pytest.raises(ValidationError, match="renew_deadline"):
        OperatorSettings()


@pytest.mark.parametrize(
    ("key", "value"),
    [("max_concurrent", "-1"), ("concurrency_scope", "galaxy"), ("worker_image_pull_policy", "Sometimes")],
)
def test_bad_values_are_refused(env, key, value):
    env(**{key: value})
    with pytest.raises(ValidationError):
        OperatorSettings()


def test_empty_values_mean_unset(env):
    env(s3_secret_name="", presign_expiry_seconds="", worker_cpu_limit="", ttl_seconds_after_finished="")
    s = OperatorSettings()
    assert (s.s3_secret_name, s.presign_expiry_seconds, s.worker_cpu_limit, s.ttl_seconds_after_finished) == (
        None,
        None,
        None,
        None,
    )
