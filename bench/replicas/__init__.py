"""Replicas of the contract servers footfall replaces, as their READMEs describe them.

They are baselines for the benchmark: each one is started like footfall (it
prints "serving on http://HOST:PORT") and measured by the same load generator
in the same run, so footfall's numbers come as ratios against them.
"""
