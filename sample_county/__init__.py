"""The sample county generator (make sample): not part of the runtime package or the build fingerprint."""
