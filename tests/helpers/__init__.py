"""Helpers shared by test modules: tiny models and checkpoints, hand-made images and clips,
base testers. Test modules import shared code from here (or get it from a ``conftest.py``
fixture), never from another test module; ``tests/test_suite_layout.py`` checks it."""
