"""What a process started from an interactive shell has, for tests that press Ctrl-C."""

from __future__ import annotations

import signal


def interruptible() -> None:
    """`preexec_fn` for a child the test sends SIGINT: restore its default disposition.

    A shell without job control starts `cmd &` with SIGINT ignored, and an ignored signal
    stays ignored across exec: a suite launched that way (`nohup make test &`, a CI runner's
    background step) would hand that on to every child, whose Python then never raises
    KeyboardInterrupt. A terminal's Ctrl-C reaches a foreground program with SIGINT at its
    default, which is what these tests mean to reproduce."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
