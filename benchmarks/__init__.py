"""Benchmarks of cnnkit's fast path against a plain baseline.

The baseline is the course's models and data loading written as Géron's chapter 14 writes
them (pandas, float64 arrays, TensorFlow's default environment).

Run ``python -m benchmarks`` (or ``make bench``); ``--quick`` for a smoke run. Each case
starts two persistent worker processes, one with TensorFlow's default environment and one
that imports cnnkit first, and interleaves their repeats. See benchmarks/RESULTS.md.

This package's own modules never import cnnkit or TensorFlow in the harness process.
"""
