"""The throughput benchmark: the real daemon against the simulator on a virtual clock."""
