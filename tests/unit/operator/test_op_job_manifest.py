from op_factories import settings

from videomerge_operator.job_manifest import build_job


def env_of(job):
    return {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}


def container_of(job):
    return job["spec"]["template"]["spec"]["containers"][0]


def test_identity_owner_and_labels():
    job = build_job("m1", "team-a", "uid-1", settings(instance="rel"))
    meta = job["metadata"]
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    assert (meta["name"], meta["namespace"]) == ("m1", "team-a")
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "videomerge.io/v1alpha1",
            "kind": "VideoMerge",
            "name": "m1",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert meta["labels"]["app.kubernetes.io/instance"] == "rel"
    assert meta["labels"]["videomerge.io/merge"] == "m1"
    assert job["spec"]["template"]["metadata"]["labels"] == meta["labels"]


def test_same_inputs_same_manifest():
    assert build_job("m1", "ns", "u", settings()) == build_job("m1", "ns", "u", settings())


def test_retry_deadline_and_cleanup_come_from_settings():
    spec = build_job(
        "m1", "ns", "u", settings(backoff_limit=5, active_deadline_seconds=120, ttl_seconds_after_finished=30)
    )["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["ttlSecondsAfterFinished"]) == (
        5,
        120,
        30,
    )
    assert (
        "ttlSecondsAfterFinished"
        not in build_job("m1", "ns", "u", settings(ttl_seconds_after_finished=None))["spec"]
    )


def test_pod_failure_policy_stops_on_bad_input_and_ignores_disruptions():
    rules = build_job("m1", "ns", "u", settings())["spec"]["podFailurePolicy"]["rules"]
    assert rules[0] == {
        "action": "FailJob",
        "onExitCodes": {"containerName": "worker", "operator": "In", "values": [42]},
    }
    assert rules[1] == {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
    assert build_job("m1", "ns", "u", settings())["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_restricted_security_context():
    pod = build_job("m1", "ns", "u", settings())["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = pod["containers"][0]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}


def test_worker_container_defaults():
    s = settings()
    c = container_of(build_job("m1", "ns", "u", s))
    assert c["image"] == "videomerge/worker:dev"
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["args"] == ["run"]
    assert "command" not in c
    assert c["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert c["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "2", "memory": "2Gi"},
    }
    assert c["volumeMounts"] == [{"name": "scratch", "mountPath": "/scratch"}]
    pod = build_job("m1", "ns", "u", s)["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "scratch", "emptyDir": {"sizeLimit": "10Gi"}}]
    assert pod["serviceAccountName"] == "videomerge-worker"
    assert "hostNetwork" not in pod and "dnsPolicy" not in pod


def test_image_command_resources_and_scratch_are_configurable():
    s = settings(
        worker_image="reg/w:1",
        worker_image_pull_policy="Never",
        worker_command=["sh", "-c", "exit 3"],
        worker_args=[],
        worker_cpu_limit=None,
        worker_memory_limit="64Mi",
        scratch_size_limit="1Gi",
        worker_service_account="sa",
    )
    job = build_job("m1", "ns", "u", s)
    c = container_of(job)
    assert (c["image"], c["imagePullPolicy"], c["command"], c["args"]) == (
        "reg/w:1",
        "Never",
        ["sh", "-c", "exit 3"],
        [],
    )
    assert c["resources"]["limits"] == {"memory": "64Mi"}
    assert job["spec"]["template"]["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] == "1Gi"
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "sa"


def test_worker_environment():
    env = env_of(
        build_job("m1", "team-a", "u", settings(s3_endpoint_url="http://127.0.0.1:9000", s3_bucket="b"))
    )
    assert env["VIDEOMERGE_NAME"]["value"] == "m1"
    assert env["VIDEOMERGE_NAMESPACE"]["value"] == "team-a"
    assert env["VIDEOMERGE_WORK_DIR"]["value"] == "/scratch"
    assert env["TMPDIR"]["value"] == env["HOME"]["value"] == "/scratch"
    assert env["VIDEOMERGE_S3_ENDPOINT_URL"]["value"] == "http://127.0.0.1:9000"
    assert env["VIDEOMERGE_S3_BUCKET"]["value"] == "b"
    assert env["VIDEOMERGE_ALLOW_PRIVATE_URLS"]["value"] == "false"
    # Unset optional limits are left to the worker's own defaults.
    assert "VIDEOMERGE_MAX_CLIP_BYTES" not in env and "VIDEOMERGE_PUBLIC_BASE_URL" not in env


def test_credentials_come_from_a_secret_reference_only():
    env = env_of(build_job("m1", "ns", "u", settings(s3_secret_name="creds", s3_access_key_key="ak")))
    assert env["AWS_ACCESS_KEY_ID"] == {
        "name": "AWS_ACCESS_KEY_ID",
        "valueFrom": {"secretKeyRef": {"name": "creds", "key": "ak"}},
    }
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "creds", "key": "secretKey"}
    assert "value" not in env["AWS_ACCESS_KEY_ID"]
    without = env_of(build_job("m1", "ns", "u", settings(s3_secret_name=None)))
    assert "AWS_ACCESS_KEY_ID" not in without


def test_limits_are_passed_when_configured():
    env = env_of(
        build_job(
            "m1",
            "ns",
            "u",
            settings(
                max_clip_bytes=10,
                max_total_duration_seconds=20,
                download_concurrency=3,
                allow_private_urls=True,
            ),
        )
    )
    assert env["VIDEOMERGE_MAX_CLIP_BYTES"]["value"] == "10"
    assert env["VIDEOMERGE_MAX_TOTAL_DURATION_SECONDS"]["value"] == "20"
    assert env["VIDEOMERGE_DOWNLOAD_CONCURRENCY"]["value"] == "3"
    assert env["VIDEOMERGE_ALLOW_PRIVATE_URLS"]["value"] == "true"


def test_local_cluster_host_network_and_extra_env():
    s = settings(
        host_network=True,
        extra_env={
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": "6443",
            "VIDEOMERGE_S3_BUCKET": "over",
        },
    )
    job = build_job("m1", "ns", "u", s)
    pod = job["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    assert pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    env = container_of(job)["env"]
    names = [e["name"] for e in env]
    assert names.count("VIDEOMERGE_S3_BUCKET") == 1, "extra_env replaces, never duplicates"
    assert env_of(job)["VIDEOMERGE_S3_BUCKET"]["value"] == "over"
    assert env_of(job)["KUBERNETES_SERVICE_HOST"]["value"] == "127.0.0.1"


def test_worker_pods_get_their_own_scheduling_and_pull_secrets():
    s = settings(
        worker_image_pull_secrets=["regcred"],
        worker_node_selector={"pool": "media"},
        worker_tolerations=[{"key": "media", "operator": "Exists", "effect": "NoSchedule"}],
        worker_affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}},
        worker_priority_class_name="batch-low",
        worker_pod_labels={"team": "video", "app.kubernetes.io/component": "not-ours"},
        worker_pod_annotations={"cost-center": "42"},
    )
    job = build_job("m1", "ns", "u", s)
    template = job["spec"]["template"]
    pod = template["spec"]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert pod["nodeSelector"] == {"pool": "media"}
    assert pod["tolerations"] == [{"key": "media", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["affinity"] == {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}
    assert pod["priorityClassName"] == "batch-low"
    assert template["metadata"]["labels"]["team"] == "video"
    # The operator finds its pods by these labels: extra labels never replace them.
    assert template["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    assert template["metadata"]["annotations"] == {"cost-center": "42"}
    plain = build_job("m1", "ns", "u", settings())["spec"]["template"]
    for field in ("imagePullSecrets", "nodeSelector", "tolerations", "affinity", "priorityClassName"):
        assert field not in plain["spec"], field
    assert "annotations" not in plain["metadata"]


def test_settings_read_scheduling_from_the_environment(monkeypatch):
    monkeypatch.setenv("VIDEOMERGE_OPERATOR_WORKER_IMAGE_PULL_SECRETS", "a,b")
    monkeypatch.setenv("VIDEOMERGE_OPERATOR_WORKER_TOLERATIONS", '[{"key": "k", "operator": "Exists"}]')
    monkeypatch.setenv("VIDEOMERGE_OPERATOR_WORKER_NODE_SELECTOR", '{"pool": "media"}')
    monkeypatch.setenv("VIDEOMERGE_OPERATOR_WORKER_PRIORITY_CLASS_NAME", "")
    s = settings()
    pod = build_job("m1", "ns", "u", s)["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "a"}, {"name": "b"}]
    assert pod["tolerations"] == [{"key": "k", "operator": "Exists"}]
    assert pod["nodeSelector"] == {"pool": "media"}
    assert "priorityClassName" not in pod


def test_extra_env_takes_value_sources():
    source = {"valueFrom": {"secretKeyRef": {"name": "proxy", "key": "url"}}}
    env = env_of(build_job("m1", "ns", "u", settings(extra_env={"HTTPS_PROXY": source, "A": "1"})))
    assert env["HTTPS_PROXY"] == {"name": "HTTPS_PROXY", **source}
    assert env["A"] == {"name": "A", "value": "1"}
