"""A request retried across an upgrade still replays: every command's idempotency
fingerprint is what the releases before wrote for the same request.

The digests below were taken from the journal with the code before commands became typed
values; a change to a command's fields that changes them would make a device's retry of a
stored request be refused as a different request (409) instead of replayed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from campledger.domain.model.arrival import Arrival
from campledger.domain.service.registry import Registry

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
OPENED = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
AT = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
A = "officer-1"
P = [UUID(int=i) for i in range(1, 10)]
T1, T2, T3 = UUID(int=99), UUID(int=97), UUID(int=98)


def _arrival(number: str, person_id: UUID, **fields: object) -> Arrival:
    return Arrival(
        registration_number=number, given_name="Amina", family_name="Haroun", sex="female",
        nationality="SDN", estimated_age=30, person_id=person_id, occurred_at=AT,
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def _every_command(r: Registry) -> None:
    n = iter(range(100))

    def key() -> str:
        return f"key-{next(n)}"

    r.open_site(code="RC-1", name="Reception", kind="reception", capacity=100,
                admin1_pcode="SD01", latitude=12.5, longitude=24.1, occurred_at=OPENED,
                actor=A, idempotency_key=key())  # fmt: skip
    for code, kind in (("HF-1", "holding"), ("CAMP-1", "camp")):
        r.open_site(code=code, name=code, kind=kind, capacity=100, occurred_at=OPENED,
                    actor=A, idempotency_key=key())  # fmt: skip
    r.change_site_capacity(code="CAMP-1", capacity=200, reason="new block", occurred_at=AT,
                           actor=A, idempotency_key=key())  # fmt: skip
    r.register_arrival(site_code="RC-1", arrival=_arrival("R-1", P[0]), actor=A,
                       idempotency_key=key())  # fmt: skip
    r.register_arrival(site_code="RC-1", arrival=_arrival("R-9", P[8], given_name_latin="Amina"),
                       actor=A, idempotency_key=key())  # fmt: skip
    r.register_arrivals(
        site_code="RC-1",
        arrivals=[
            _arrival("R-2", P[1]),
            _arrival("R-3", P[2], biometric_reference="B-3", specific_needs=("UM",)),
            _arrival("R-4", P[3]),
        ],
        actor=A, idempotency_key=key(),
    )  # fmt: skip
    r.record_screening_step(person_id=P[0], step="medical", outcome="cleared", occurred_at=AT,
                            actor=A, idempotency_key=key())  # fmt: skip
    r.record_screening_step(person_id=P[1], step="security", outcome="held", reason="interview",
                            authority="Governor", order_reference="ORD-1",
                            review_date=date(2025, 3, 15), actor=A, idempotency_key=key(),
                            expected_version=1)  # fmt: skip
    r.release_person(person_id=P[1], reason="cleared", authority="Governor",
                     order_reference="ORD-2", actor=A, idempotency_key=key())  # fmt: skip
    r.hold_person(person_id=P[1], reason="again", authority="Governor", order_reference="ORD-3",
                  actor=A, idempotency_key=key())  # fmt: skip
    r.hold_person(person_id=P[2], reason="no order", actor=A, idempotency_key=key())
    r.release_person(person_id=P[2], reason="free", actor=A, idempotency_key=key())
    r.correct_detail(person_id=P[0], field="family_name", value="Adam", reason="typo", actor=A,
                     idempotency_key=key())  # fmt: skip
    r.correct_detail(person_id=P[0], field="household_id", value="HH-1", reason="trace",
                     family_tracing=True, actor=A, idempotency_key=key())  # fmt: skip
    r.plan_transfer(origin="RC-1", destination="HF-1", manifest=[P[1]], vehicle="truck 7",
                    order_reference="MOV-1", occurred_at=NOW, actor=A, idempotency_key=key(),
                    transfer_id=T1)  # fmt: skip
    r.dispatch_transfer(transfer_id=T1, actor=A, idempotency_key=key())
    r.receive_transfer(transfer_id=T1, site_code="HF-1", persons=[P[1]], actor=A,
                       idempotency_key=key())  # fmt: skip
    r.plan_transfer(origin="RC-1", destination="CAMP-1", manifest=[P[0], P[3]], actor=A,
                    idempotency_key=key(), transfer_id=T2)  # fmt: skip
    r.dispatch_transfer(transfer_id=T2, actor=A, idempotency_key=key())
    r.receive_transfer(transfer_id=T2, site_code="CAMP-1", persons=[P[0]], actor=A,
                       idempotency_key=key())  # fmt: skip
    r.reconcile_transfer(transfer_id=T2, actor=A, idempotency_key=key())
    r.plan_transfer(origin="RC-1", destination="CAMP-1", manifest=[P[2]], actor=A,
                    idempotency_key=key(), transfer_id=T3)  # fmt: skip
    r.cancel_transfer(transfer_id=T3, reason="no fuel", actor=A, idempotency_key=key())
    r.dismiss_duplicate(person_id=P[2], other_id=P[8], reason="two people", actor=A,
                        idempotency_key=key())  # fmt: skip
    r.merge_persons(duplicate_id=P[8], survivor_id=P[2], reason="same", actor=A,
                    idempotency_key=key())  # fmt: skip
    r.record_departure(person_id=P[2], reason="resettled", actor=A, idempotency_key=key())
    r.close_site(code="CAMP-1", reason="flooded", actor=A, idempotency_key=key())


GOLDEN: list[tuple[str, str]] = [
    ("open_site", "3e6dca246a8e395071cacda1337232c0e5b2dd7c562981e371eacf46fa866c86"),
    ("open_site", "b7d00fdc4c59e7228bd97c86449de6009f7322250e5646faf571547641388067"),
    ("open_site", "b0172acdc5e99f5e0cfd14da0418e4fb692d7d0a7439821788680c303345980c"),
    ("change_site_capacity", "bd3ada1c8a019d56de1353d75948931f5aa7e0c1568252f918f9866be2149167"),
    ("register_arrival", "48feeee8ce638a3718288a207f5f6080d1c782c74900a37b305b7d04d0c1e626"),
    ("register_arrival", "e7018549fb23854296f845b3e47be0501a600e09eee3d2e33cad945ea38743a4"),
    ("register_arrivals", "4465ed281d82c46a8f8f76ddb0f5daeb8ce46bb89afb6d22ca3c2a87c1037e65"),
    ("record_screening_step", "f1624cb938a8c70e2cfb171087fcb05992c4f217bf5a9fab8de314fe358676de"),
    ("record_screening_step", "081b4f964c883ed6785a9c909b3021bfd639baefddfa793fb02cf98b04242adf"),
    ("release_person", "1805579d52d067f0084de712d4c579ca62f3987c35e4f517fae35f09eded2a87"),
    ("hold_person", "0bf2bd5428f9e10bb2e9d62a4185232df0222a3cb5f8c74a04d1fa0dcc189a24"),
    ("hold_person", "1a91b97d513c9158ba47e59d8e73e75f9b40247f1a7ec3e72a4cbc87bd1aa328"),
    ("release_person", "d694ca54869ee7b07d0d47e48a674dcf6cd9b6a791f5da3a725178aa2552fbdf"),
    ("correct_detail", "565e3c64fc5dc42811347537984be10d0bda4c474d469a69b543380d01ba0c1d"),
    ("correct_detail", "d520cca39d5612b2c36f24940e108de7614a3ef980646d0a748d246cd7dac411"),
    ("plan_transfer", "d99fc196c53a136a498482334f7a45d790e92360562674cec9c5ddbae08c496d"),
    ("dispatch_transfer", "184b8e45a78ee85fab7f8d07002adb5d527cc90de15efc9916caba0fdedfcba9"),
    ("receive_transfer", "23b55b94b6eec64909ee5ff3add02ac0658c21f5174dd954902f0328998a57de"),
    ("plan_transfer", "49e8c284ca19f1f66deec8ce77d15fa7276a29eba8237556a60b312afba5dd54"),
    ("dispatch_transfer", "37959542085ee3c270021718b38fde7982c8ee155858c71685f6d25337e102a3"),
    ("receive_transfer", "bb19a8da0d290f0448fde144605e600fc934284d4864ebc9291ae8f4adeea85c"),
    ("reconcile_transfer", "e2760764143493e123996330290cea939dc54b41f39bf8be1864bd2ca3fa6a6b"),
    ("plan_transfer", "2d067c0678ade6c1fbd684ec0350b571b0cdd43f3459d2b10f75ec81c5ea4793"),
    ("cancel_transfer", "c774b82204bb6753ba276052c40f5680f18540ea78edbfa929eec2256352c388"),
    ("dismiss_duplicate", "fc673c1323b4ac5b3dd6ed17b68b6fb2a324b43fbf4945d2b1fa406c6ba1ef9a"),
    ("merge_persons", "e204fe63984278ff9a763be473d4d783114f23c6875cf438038f781d293ed243"),
    ("record_departure", "e28d4b9dacdbbb1be131c644dddb3b8f27ecbc6a576462d6e019e40559c95cf4"),
    ("close_site", "84b93a19c4444c86c9c47f217f8f082f1c8558086c87ee5313474d18cec7dce5"),
]


def test_every_command_keeps_the_fingerprint_earlier_releases_stored() -> None:
    registry = Registry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: NOW)
    _every_command(registry)

    stored = []
    for index in range(len(GOLDEN)):
        command = registry.journal.find_command(A, f"key-{index}")
        assert command is not None
        stored.append((command.command, command.fingerprint))

    assert stored == GOLDEN
    assert len({command for command, _ in GOLDEN}) == 17  # every command, at least once
