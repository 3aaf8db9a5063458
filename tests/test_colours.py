"""The coverage map's and grid's status colours stay apart for the common colour-vision deficiencies.

Each pair of status colours is compared as people with protanopia, deuteranopia and tritanopia see them
(Machado, Oliveira and Fernandes 2009, severity 1, in linear RGB) by their CIELAB distance. The legend
names each colour too: colour is never the only sign, but it should still tell the states apart.
"""
import itertools
import re
from pathlib import Path

import pytest

from outreach.status import STATES

CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "office.css"
SIMULATIONS = {
    "normal vision": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
APART = 20  # CIELAB distance: clearly different at a glance (2.3 is "just noticeable")


def status_colours() -> dict[str, str]:
    css = CSS.read_text()
    found = {}
    for state in STATES:
        hex_ = re.search(rf"\.s-{state} \{{ background: (#[0-9a-f]{{3,6}});", css).group(1)
        found[state] = hex_ if len(hex_) == 7 else "#" + "".join(c * 2 for c in hex_[1:])
    return found


def as_seen(hex_: str, matrix) -> tuple[float, float, float]:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    rgb = [linear(int(hex_[i:i + 2], 16) / 255) for i in (1, 3, 5)]
    r, g, b = (min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in matrix)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = lambda t: t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116  # noqa: E731
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


@pytest.mark.parametrize("vision", SIMULATIONS)
def test_every_pair_of_status_colours_stays_apart(vision):
    colours = status_colours()
    assert set(colours) == set(STATES)
    seen = {state: as_seen(hex_, SIMULATIONS[vision]) for state, hex_ in colours.items()}
    for a, b in itertools.combinations(seen, 2):
        distance = sum((p - q) ** 2 for p, q in zip(seen[a], seen[b], strict=True)) ** 0.5
        assert distance >= APART, f"{a} and {b} look alike with {vision} ({distance:.1f})"


def test_the_check_can_fail():
    """The old palette's answered and interested looked alike with deuteranopia."""
    old = {"answered": "#1f6fb2", "interested": "#8e44ad"}
    seen = [as_seen(old[s], SIMULATIONS["deuteranopia"]) for s in old]
    assert sum((p - q) ** 2 for p, q in zip(*seen, strict=True)) ** 0.5 < APART
