"""Publishing: the only writer of the warehouse, the build fingerprint and the end-of-run summary."""
