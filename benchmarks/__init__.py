"""Benchmarks of cnnkit's fast path against the course's seed-style baseline.

Run ``python -m benchmarks`` (or ``make bench``); ``--quick`` for a smoke run. Each case
starts two persistent worker processes, one with the seed's default environment and one
that imports cnnkit first, and interleaves their repeats. See benchmarks/RESULTS.md.

This package's own modules never import cnnkit or TensorFlow in the harness process.
"""
