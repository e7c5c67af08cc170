"""What the browser tests check on any page: accessibility faults found by axe-core, and
that every control of the page's forms is reached with the Tab key alone, in order,
without a trap.

axe is evaluated into the page through the browser's debugging protocol, which the
console's Content-Security-Policy (no inline scripts) does not govern: the page is checked
exactly as it is served, CSP included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Moderate and minor findings are for review; these two make a page unusable to someone.
BLOCKING = {"serious", "critical"}

# The controls a person fills or presses in the page's own content (not the menu).
CONTROLS = "main input:not([type=hidden]), main select, main textarea, main button"

START = """() => {
    const start = Object.assign(document.createElement("span"), {tabIndex: -1});
    document.body.prepend(start);
    start.focus();
}"""
DATE_PARTS = 8  # month, day, year, hour, minute, AM/PM and the picker

# Which checked control has focus (its mark, and its start for a message), or null when
# focus is back on the page itself.
FOCUSED = """() => {
    const el = document.activeElement;
    if (el === null || el === document.body) return null;
    return [el.dataset.tabCheck ?? "", el.outerHTML.slice(0, 80)];
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in found if v["impact"] in BLOCKING]


def describe(where: str, violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{where}: [{v['impact']}] {v['id']} ({v['help']}) at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in violations
    ]


def unreachable_by_tab(page: Page, limit: int = 400) -> list[str]:
    """The page's visible, enabled form controls that pressing Tab from the top of the
    page never reaches (each named by its id or name), or a trap: focus that stops
    moving. Tabbing stops when focus leaves the last control or after ``limit`` presses."""
    count = page.evaluate(
        """(selector) => {
            const shown = [...document.querySelectorAll(selector)]
                // Shown: laid out, and not folded away in a closed <details> (its
                // summary is what Tab reaches; Enter opens it).
                .filter(el => !el.disabled && el.getClientRects().length > 0
                              && !el.closest("details:not([open])"));
            // A group of radio buttons is one stop: the arrow keys move within it.
            const stops = [];
            for (const el of shown) {
                const group = el.type !== "radio" ? -1 : stops.findIndex(other =>
                    other.type === "radio" && other.name === el.name && other.form === el.form);
                el.dataset.tabCheck = String(group >= 0 ? group : stops.push(el) - 1);
            }
            return stops.length;
        }""",
        CONTROLS,
    )
    # Chromium tabs on from the last element focused, even once blurred: start from a
    # mark put first in the page, as if the page had just loaded.
    page.evaluate(START)
    reached: list[int] = []
    previous, stayed = None, 0
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            break
        # A date or time field takes one Tab per part (day, month, year, hour...).
        stayed = stayed + 1 if focused == previous else 0
        if stayed >= DATE_PARTS:
            return [f"focus trapped at {focused[1]}"]
        previous = focused
        if focused[0] != "":
            reached.append(int(focused[0]))
            if len(set(reached)) == count:
                break
    missing = sorted(set(range(count)) - set(reached))
    return page.evaluate(
        """(missing) => missing.map(i => {
            const el = document.querySelector(`[data-tab-check="${i}"]`);
            return el.id || el.name || el.outerHTML.slice(0, 80);
        })""",
        missing,
    )
