"""Intake: how jobs reach the pipeline (queue messages through the bridge, or polling)."""
