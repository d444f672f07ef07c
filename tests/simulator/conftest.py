# The simulator fixtures, also when tests/conftest.py (Django) is skipped with
# `pytest tests/simulator -p no:django --confcutdir=tests/simulator`.
from tests.conftest_simulator import *  # noqa: F401,F403
