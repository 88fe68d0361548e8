"""The columns of indicator_scores computed for each row from its other columns and the
officers' ledger (contract section 10). Pure; each function is named after its column.

What a framework rule itself gives (rule, rule_score, metric_value) is the scoring engine's
(pipeline/scoring/framework.py `assess`, pipeline/scoring/targets.py); these functions only
decide which score counts and say where it comes from.
"""

from __future__ import annotations

from pipeline.scoring import metrics

SOURCE_OFFICER, SOURCE_RULE, SOURCE_SELF = "officer", "rule", "self"
JUDGED = "judged"


def review_score(rule_score: float, officer_score: float | None, max_score: float) -> float:
    """复核得分 of the indicator, in points: the officer's score from the ledger when one is
    recorded (kept within 0..分值, 2 decimals, in case the framework changed after the
    decision), else rule_score."""
    if officer_score is None:
        return rule_score
    return metrics.round_score(min(max(float(officer_score), 0.0), max_score))


def review_source(rule: str, officer_score: float | None) -> str:
    """Where review_score comes from: officer when the ledger records an officer's score;
    else self when the rule is judged (the self-score within 0..分值); else rule."""
    if officer_score is not None:
        return SOURCE_OFFICER
    return SOURCE_SELF if rule == JUDGED else SOURCE_RULE
