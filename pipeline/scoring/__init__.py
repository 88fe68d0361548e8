"""Scoring: the year's framework, its metrics and the 复核 (recomputed scores, grades, ranks)."""
