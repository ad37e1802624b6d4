"""The example runs end to end against the sandbox and says every seller matched."""

from __future__ import annotations

from types import ModuleType

import pytest


def test_example_runs_against_the_sandbox(
    marketplace: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert marketplace.main(["--sandbox"]) == 0
    out = capsys.readouterr().out
    assert "all sellers paid as predicted" in out
    assert out.count(" ok\n") == len(marketplace.SALES)
    assert "962.18" in out
    assert "9.62" in out


def test_example_needs_the_sandbox_flag(marketplace: ModuleType) -> None:
    with pytest.raises(SystemExit) as info:
        marketplace.main([])
    assert info.value.code == 2
