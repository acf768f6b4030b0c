"""Participant.published_in_force_from: the depositary's printed entry into force for one party.

Optional and left out of to_dict when None, so every status hashed before the field existed
(every UNTC snapshot) keeps its content hash byte for byte."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tracker.domain.models import Action, Column, Footnote, Participant, TreatyStatus

# The content hash of the status below, computed with models.py as it was before the field
# existed (commit 6249970): the field must not move it.
HASH_BEFORE_THE_FIELD = "432800847ff5f85b031cd92ea0feb91b0fc815388841afa387353547f84c3bb8"


def untc_like() -> TreatyStatus:
    return TreatyStatus(
        treaty_id="XXVI-9",
        title="Treaty on the Prohibition of Nuclear Weapons",
        chapter="XXVI",
        adoption_place="New York",
        adoption_date=date(2017, 7, 7),
        eif_label="Entry into force",
        eif_text="22 January 2021, in accordance with article 15(1).",
        eif_date=date(2021, 1, 22),
        published_signatories=2,
        published_parties=1,
        status_as_at=datetime(2026, 2, 3, 15, 16, 18, tzinfo=UTC),
        columns=("Participant", "Signature", "Ratification, Accession(a)"),
        participants=(
            Participant(
                "Austria",
                "AUT",
                False,
                (),
                (
                    Action(Column.SIGNATURE, "signature", date(2017, 9, 20)),
                    Action(Column.CONSENT, "ratification", date(2018, 5, 8)),
                ),
            ),
            Participant(
                "European Union",
                None,
                True,
                ("1",),
                (Action(Column.SIGNATURE, "signature", date(2017, 9, 20), "", True),),
            ),
        ),
        footnotes=(Footnote("1", "A note."),),
    )


def test_a_status_without_printed_party_dates_hashes_as_before_the_field():
    status = untc_like()
    assert status.content_hash() == HASH_BEFORE_THE_FIELD
    for participant in status.to_dict()["participants"]:
        assert "published_in_force_from" not in participant
        assert set(participant) == {"name", "iso3", "reio", "footnotes", "actions"}


def test_a_printed_party_date_is_serialized_read_back_and_hashed():
    status = untc_like()
    austria = status.participants[0]
    dated = Participant(
        austria.name,
        austria.iso3,
        austria.reio,
        austria.footnotes,
        austria.actions,
        published_in_force_from=date(2021, 1, 22),
    )
    assert dated.to_dict()["published_in_force_from"] == "2021-01-22"
    assert Participant.from_dict(dated.to_dict()) == dated
    assert Participant.from_dict(austria.to_dict()).published_in_force_from is None
    changed = TreatyStatus.from_dict(
        {**status.to_dict(), "participants": [dated.to_dict(), status.participants[1].to_dict()]}
    )
    assert changed.participants[0].published_in_force_from == date(2021, 1, 22)
    assert changed.content_hash() != HASH_BEFORE_THE_FIELD
