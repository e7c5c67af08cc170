"""Words for screening: the steps and their outcomes, and what a screener is told once a
step is recorded or a hold released, each a message of the catalogue."""

from __future__ import annotations

from campledger.api.console.i18n import N_
from campledger.domain.model.values import ScreeningOutcome, ScreeningStep

STEP_NAMES = {
    ScreeningStep.IDENTITY: N_("Identity check"),
    ScreeningStep.MEDICAL: N_("Medical screening"),
    ScreeningStep.VULNERABILITY: N_("Vulnerability assessment"),
    ScreeningStep.SECURITY: N_("Security interview"),
}
assert set(STEP_NAMES) == set(ScreeningStep), "every screening step is named"

OUTCOME_NAMES = {
    ScreeningOutcome.CLEARED: N_("Cleared"),
    ScreeningOutcome.REFERRED: N_("Referred"),
    ScreeningOutcome.HELD: N_("Held"),
}
assert set(OUTCOME_NAMES) == set(ScreeningOutcome), "every screening outcome is named"

DONE = {
    "step-recorded": N_("The screening step is recorded."),
    "held": N_("The screening step is recorded and the person is held."),
    "released": N_("The person is released."),
}
