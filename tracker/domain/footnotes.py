"""What a depositary's footnotes say, as the domain asks it: a `FootnoteGrammar` per source.

The domain knows what a withdrawal or a predecessor's instrument is (tracker.domain.endings,
.withdrawals, .successions) but not how any depositary words one: each source's grammar reads its
own footnotes (UNTC's is tracker.sources.untc.footnotes), and the source registry hands it to
the services, which pass it in. A source whose pages carry no such footnotes has `SILENT`: its
bracketed (withdrawn) rows still end, on a date not known, and nothing is read from words.

Standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from tracker.domain.endings import Ending, Rejoined
from tracker.domain.models import Participant

# (predecessor State as the footnote names it, kind of its instrument, date of the instrument)
PredecessorReading = tuple[str, str, date]


class FootnoteGrammar(Protocol):
    """How one depositary words withdrawals and predecessors' instruments in its footnotes."""

    def endings(
        self, participant: Participant, texts: Sequence[str]
    ) -> tuple[Sequence[Ending], Sequence[Rejoined]]:
        """The participant's endings and re-joinings that its footnotes (`texts`, in order)
        tell. An ending whose effect the words do not date has effective_on None and basis
        UNKNOWN (the treaty's withdrawal clause may date it from its notification)."""
        ...

    def predecessors(self, text: str, own_names: frozenset[str]) -> Sequence[PredecessorReading]:
        """The predecessor States' instruments one footnote tells (`own_names`: the folded names
        of the rows carrying it, which are not predecessors of themselves)."""
        ...


class Silent:
    """The grammar of a source whose footnotes say nothing the domain reads."""

    def endings(
        self, participant: Participant, texts: Sequence[str]
    ) -> tuple[Sequence[Ending], Sequence[Rejoined]]:
        return (), ()

    def predecessors(self, text: str, own_names: frozenset[str]) -> Sequence[PredecessorReading]:
        return ()


SILENT: FootnoteGrammar = Silent()
