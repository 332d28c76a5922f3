"""Whether a newly trained model may answer: it must score at least as well on the held-out time split as the
model answering now and as plain popularity."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    publish: bool
    reason: str


def judge(candidate: float, popularity: float, current: float | None, current_version: str | None) -> Verdict:
    """Precision@10 of each on the same held-out split; ties publish (the newer data wins)."""
    if candidate < popularity:
        return Verdict(False, f"precision@10 {candidate:.4f} on the held-out split is below the popularity "
                              f"baseline's {popularity:.4f}")
    if current is not None and candidate < current:
        return Verdict(False, f"precision@10 {candidate:.4f} on the held-out split is below the current model "
                              f"{current_version}'s {current:.4f}")
    return Verdict(True, "")
