"""The ``newsflow`` command and the in-process runner: where the three stages are composed."""
