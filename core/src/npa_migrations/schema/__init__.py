"""Schemas as data: the model replayed from migrations, the live schema read by
reflection, and their comparison (drift detection and post-execution verification).
"""
