"""Files appear whole or not at all (``landscape.files``)."""

import os
import signal

import pytest

from landscape import files


def test_a_signal_during_the_moves_arrives_after_them(tmp_path):
    """SIGTERM between two renames of ``write_together`` would leave two runs' files mixed: it waits."""
    folder = tmp_path / "results"
    files.write_together(folder, ["a", "b"], lambda staging: [(staging / n).write_text("1") for n in "ab"], "run")
    moved = []
    real_replace = os.replace

    def replace(source, target):
        real_replace(source, target)
        moved.append(os.path.basename(target))
        if len(moved) == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # arrives between the two moves

    with files.termination_raises(), pytest.raises(files.Terminated):
        os.replace = replace
        try:
            files.write_together(folder, ["a", "b"], lambda staging: [(staging / n).write_text("2") for n in "ab"],
                                 "run", overwrite=True)
        finally:
            os.replace = real_replace
    assert moved == ["a", "b"], "both moved before SIGTERM was raised"
    assert [(folder / n).read_text() for n in "ab"] == ["2", "2"], "one run's files, not a mix"
