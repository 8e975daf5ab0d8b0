"""Seed 000's /process with background: false waits on the real watch until a status patch ends it."""

import threading
import time

from api_kube_support import BODY, COMPLETED, FAILED, count_merges, patch_status, running_api, wait_for

from videomerge_contract.resource import GROUP, PLURAL, VERSION


def _finish_when_created(custom, namespace, status) -> threading.Thread:
    def finish():
        items = wait_for(
            lambda: custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"],
            15,
            "the merge of /process",
        )
        time.sleep(0.5)  # the request is waiting by now
        patch_status(custom, namespace, items[0]["metadata"]["name"], status)

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def test_process_waits_until_a_status_patch_completes_the_merge(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace) as api:
        finisher = _finish_when_created(custom, namespace, COMPLETED)
        started = time.monotonic()
        response = api.post("/process", json={**BODY, "background": False})
        finisher.join()
        assert response.status_code == 200, response.text
        assert response.json()["success"] is True and response.json()["clips_merged"] == 2
        assert time.monotonic() - started < 10
        job_id = response.headers["location"].rsplit("/", 1)[1]
        assert api.get(f"/job-status/{job_id}").json()["status"] == "completed"


def test_process_returns_the_failure_of_the_merge(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace) as api:
        finisher = _finish_when_created(custom, namespace, FAILED)
        response = api.post("/process", json={**BODY, "background": False})
        finisher.join()
        assert response.status_code == 200 and response.json()["success"] is False
        assert response.json()["reason"] == "DownloadFailed"


def test_process_times_out_with_504_and_a_job_to_poll(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace, sync_timeout_seconds=1) as api:
        response = api.post("/process", json={**BODY, "background": False})
        assert response.status_code == 504
        job_id = response.json()["job_id"]
        assert api.get(f"/job-status/{job_id}").json()["status"] == "pending"
        background = api.post("/process", json=BODY)
        assert background.status_code == 202 and background.json()["status"] == "pending"
        assert count_merges(custom, namespace) == 2
