"""Checking: findings, the pandera validation of whole batches and the cross-field rules."""
