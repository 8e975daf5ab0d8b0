from datetime import UTC, datetime

from videomerge_operator.leader import LeaseRecord, claimed_spec, lease_record, may_take

WALL = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def record(holder, duration=15, transitions=0):
    return LeaseRecord(
        holder, duration, transitions, "2026-01-01T11:00:00.000000Z", "2026-01-01T11:59:59.000000Z"
    )


def test_anyone_may_take_an_empty_lease_and_the_holder_may_renew():
    assert may_take(record(""), "me", observed_at=100, now=100)
    assert may_take(record("me"), "me", observed_at=100, now=100)


def test_another_holder_blocks_until_its_lease_expires_on_our_clock():
    held = record("other", duration=15)
    assert not may_take(held, "me", observed_at=100, now=114.9)
    assert may_take(held, "me", observed_at=100, now=115)


def test_renewing_keeps_the_acquire_time_and_transitions():
    spec = claimed_spec(record("me", transitions=3), "me", 15, WALL)
    assert spec["holderIdentity"] == "me"
    assert spec["acquireTime"] == "2026-01-01T11:00:00.000000Z"
    assert spec["renewTime"] == "2026-01-01T12:00:00.123456Z"
    assert spec["leaseTransitions"] == 3


def test_taking_over_counts_a_transition():
    spec = claimed_spec(record("other", transitions=3), "me", 15, WALL)
    assert spec["leaseTransitions"] == 4
    assert spec["acquireTime"] == spec["renewTime"]
    assert claimed_spec(None, "me", 15, WALL)["leaseTransitions"] == 0


def test_lease_record_reads_the_spec():
    parsed = lease_record(
        {"spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "leaseTransitions": 2}}
    )
    assert (parsed.holder, parsed.duration_seconds, parsed.transitions) == ("a", 15.0, 2)
    assert lease_record({}).holder == ""
