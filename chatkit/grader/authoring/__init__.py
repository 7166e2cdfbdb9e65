"""Authoring the exercises: what the instructor's side of the kit keeps in line.

    stubs.py        python -m chatkit stubs: exercises/ made from solutions/, and the manifest
    manifest.json   checksums of the graded tests and conftest.py, points, watched pytest settings
    tamper.py       the tamper check: are the tests and their configuration the kit's own?
    samples.py      made-up submissions with known mistakes, for the kit's tests and the benchmark
"""
