"""The notebooks here are graded by tests/test_grading.py, never run directly.

``make test`` passes ``--nbval-lax tests``, which would otherwise execute them as tests.
The hostile submissions are not stored: tests/test_sandbox.py writes them.
"""
collect_ignore_glob = ["*.ipynb"]
