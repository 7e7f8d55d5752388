"""A worker's pool children must start with the parent's objects frozen, so that their
collections do not copy the pages they share with the parent."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_objects_are_frozen_at_each_fork() -> None:
    script = textwrap.dedent(
        """
        import gc, os
        from newsflow.worker import share_objects_with_children

        share_objects_with_children()
        kept = [[i] for i in range(1000)]  # made after the call, before the fork
        for _ in range(2):  # a replacement child is forked later: frozen again
            pid = os.fork()
            if pid == 0:
                os._exit(0 if gc.get_freeze_count() >= len(kept) else 1)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0, "child saw unfrozen objects"
            kept.extend([[i] for i in range(1000)])
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
