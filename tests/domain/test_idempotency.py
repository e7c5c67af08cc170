"""Idempotency keys: a retried request gets its first result back and writes nothing."""

from __future__ import annotations

from campledger.domain.model import errors
from campledger.domain.service.registry import Registry
from tests.domain.support import ACTOR, arrival, head, person, refused, register


def test_a_retry_with_the_same_key_and_payload_replays_the_result(sites: Registry) -> None:
    given = arrival()
    first = sites.register_arrival(
        site_code="RC-1", arrival=given, actor=ACTOR, idempotency_key="k-1"
    )
    position = head(sites)

    again = sites.register_arrival(
        site_code="RC-1", arrival=given, actor=ACTOR, idempotency_key="k-1"
    )

    assert not first.replayed
    assert again.replayed
    assert (again.result, again.position) == (first.result, first.position)
    assert head(sites) == position


def test_a_replayed_batch_writes_nothing(sites: Registry) -> None:
    batch = [arrival() for _ in range(20)]
    first = sites.register_arrivals(
        site_code="RC-1", arrivals=batch, actor=ACTOR, idempotency_key="truck-9"
    )
    position = head(sites)

    again = sites.register_arrivals(
        site_code="RC-1", arrivals=batch, actor=ACTOR, idempotency_key="truck-9"
    )

    assert again.replayed and again.result == first.result
    assert again.position == first.position == position
    assert head(sites) == position


def test_a_replay_returns_the_result_even_when_the_command_would_now_be_refused(
    sites: Registry,
) -> None:
    person_id = register(sites)
    first = sites.hold_person(
        person_id=person_id, reason="interview", actor=ACTOR, idempotency_key="hold-1"
    )
    again = sites.hold_person(
        person_id=person_id, reason="interview", actor=ACTOR, idempotency_key="hold-1"
    )
    assert again.replayed and again.result == first.result
    assert person(sites, person_id).version == 2


def test_the_same_key_with_a_different_payload_is_refused(sites: Registry) -> None:
    sites.register_arrival(site_code="RC-1", arrival=arrival(), actor=ACTOR, idempotency_key="k-2")
    with refused(sites, errors.IdempotencyKeyReused) as info:
        sites.register_arrival(
            site_code="RC-1", arrival=arrival(), actor=ACTOR, idempotency_key="k-2"
        )
    # The caller's mistake, not a conflict (the IETF draft answers 422).
    assert info.value.kind == errors.ErrorKind.INVALID


def test_the_same_key_for_a_different_command_is_refused(sites: Registry) -> None:
    person_id = register(sites)
    sites.hold_person(person_id=person_id, reason="x", actor=ACTOR, idempotency_key="k-3")
    with refused(sites, errors.IdempotencyKeyReused):
        sites.release_person(person_id=person_id, reason="x", actor=ACTOR, idempotency_key="k-3")


def test_keys_are_per_actor(sites: Registry) -> None:
    given = arrival()
    sites.register_arrival(site_code="RC-1", arrival=given, actor="officer-a", idempotency_key="k")
    before = head(sites)

    other = sites.register_arrival(
        site_code="RC-1",
        arrival=arrival(),
        actor="officer-b",
        idempotency_key="k",
    )

    assert not other.replayed
    assert head(sites) == before + 1


def test_a_refused_command_does_not_use_up_its_key(sites: Registry) -> None:
    with refused(sites, errors.InvalidSex):
        sites.register_arrival(
            site_code="RC-1", arrival=arrival(sex="?"), actor=ACTOR, idempotency_key="k-4"
        )
    result = sites.register_arrival(
        site_code="RC-1", arrival=arrival(), actor=ACTOR, idempotency_key="k-4"
    )
    assert not result.replayed


def test_commands_without_a_key_are_not_deduplicated(sites: Registry) -> None:
    person_id = register(sites)
    sites.record_screening_step(
        person_id=person_id, step="medical", outcome="referred", actor=ACTOR
    )
    sites.record_screening_step(
        person_id=person_id, step="medical", outcome="referred", actor=ACTOR
    )
    assert person(sites, person_id).version == 3


def test_an_overlong_key_is_refused(sites: Registry) -> None:
    with refused(sites, errors.InvalidInput):
        sites.register_arrival(
            site_code="RC-1", arrival=arrival(), actor=ACTOR, idempotency_key="k" * 201
        )


def test_a_copy_sent_while_the_first_is_applied_is_told_it_is_in_flight(
    sites: Registry,
) -> None:
    given = arrival()
    copies: list[object] = []

    def copy_arrives() -> None:
        with refused(sites, errors.IdempotencyKeyInFlight) as info:
            sites.register_arrival(
                site_code="RC-1", arrival=given, actor=ACTOR, idempotency_key="k-flight"
            )
        copies.append(info.value)

    decide = sites.get_site
    calls = iter([copy_arrives])

    def get_site_and_let_a_copy_in(code: str) -> object:
        # The first request is deciding: its copy arrives now (once).
        for arrive in calls:
            arrive()
        return decide(code)

    sites.get_site = get_site_and_let_a_copy_in  # type: ignore[method-assign]
    first = sites.register_arrival(
        site_code="RC-1", arrival=given, actor=ACTOR, idempotency_key="k-flight"
    )
    sites.get_site = decide  # type: ignore[method-assign]

    assert copies and not first.replayed
    again = sites.register_arrival(
        site_code="RC-1", arrival=given, actor=ACTOR, idempotency_key="k-flight"
    )
    assert again.replayed and again.result == first.result


def test_a_refused_command_lets_go_of_its_key(sites: Registry) -> None:
    with refused(sites, errors.SiteNotFound):
        sites.register_arrival(
            site_code="NOWHERE", arrival=arrival(), actor=ACTOR, idempotency_key="k-gone"
        )
    done = sites.register_arrival(
        site_code="RC-1", arrival=arrival(), actor=ACTOR, idempotency_key="k-gone"
    )
    assert not done.replayed


def test_a_saved_command_lets_go_of_its_key_in_its_own_save(sites: Registry) -> None:
    # One round trip fewer per command: the save that writes the key's record ends its
    # claim; only a command that saves nothing lets go apart.
    recorder = sites.recorder
    released: list[tuple[str, str]] = []
    release = recorder.release_key  # type: ignore[attr-defined]

    def spy(actor: str, key: str) -> None:
        released.append((actor, key))
        release(actor, key)

    recorder.release_key = spy  # type: ignore[attr-defined]
    given = arrival()
    first = sites.register_arrival(
        site_code="RC-1", arrival=given, actor=ACTOR, idempotency_key="k-saved"
    )
    assert released == []
    assert recorder._in_flight == {}  # type: ignore[attr-defined]
    again = sites.register_arrival(
        site_code="RC-1", arrival=given, actor=ACTOR, idempotency_key="k-saved"
    )
    assert again.replayed and again.result == first.result
    with refused(sites, errors.SiteNotFound):
        sites.register_arrival(
            site_code="NOWHERE", arrival=arrival(), actor=ACTOR, idempotency_key="k-other"
        )
    assert released == [(ACTOR, "k-other")]
