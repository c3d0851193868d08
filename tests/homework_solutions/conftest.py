"""The notebooks here are graded by tests/test_grading.py, never run directly.

``make test`` passes ``--nbval-lax tests``, which would otherwise execute them as tests:
the hostile ones loop forever, exit the kernel, exhaust memory and start processes.
"""
collect_ignore_glob = ["*.ipynb", "hostile/*.ipynb"]
