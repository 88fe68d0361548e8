"""The units' narrative 自评报告: reading them and checking the figures they state."""
