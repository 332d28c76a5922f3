"""Whether a newly trained model may answer: it must score at least as well on the held-out time split as plain
popularity, and as the model answering now on the purchases that model never saw (it learnt from what came before
them; judged on purchases it had learnt from, it would always win)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    publish: bool
    reason: str


def judge(candidate: float, popularity: float, against_current: tuple[float, float] | None,
          current_version: str | None) -> Verdict:
    """`candidate` and `popularity`: precision@10 on the held-out split. `against_current`: the candidate's and the
    current model's on what the current model never saw (None: not comparable). Ties publish (newer data wins)."""
    if candidate < popularity:
        return Verdict(False, f"precision@10 {candidate:.4f} on the held-out split is below the popularity "
                              f"baseline's {popularity:.4f}")
    if against_current is not None and against_current[0] < against_current[1]:
        mine, theirs = against_current
        return Verdict(False, f"precision@10 {mine:.4f} on the held-out purchases the current model {current_version} "
                              f"never saw is below its {theirs:.4f}")
    return Verdict(True, "")
