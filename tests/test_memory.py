"""helpers.research.memory: the peak of the CPU allocator during one call."""

import pytest
import torch

from helpers.research.memory import peak_cpu_bytes


def test_the_peak_counts_what_is_alive_at_once_not_the_total():
    def two_in_turn():
        for _ in range(2):
            x = torch.ones(1024, 1024)  # 4 MiB, freed before the next
            del x
        return "done"

    result, peak = peak_cpu_bytes(two_in_turn)
    assert result == "done"
    assert 4 * 2**20 <= peak < 8 * 2**20

    def two_at_once():
        return torch.ones(1024, 1024), torch.ones(1024, 1024)

    _, both = peak_cpu_bytes(two_at_once)
    assert both >= 8 * 2**20


def test_nothing_allocated_is_a_peak_of_zero_and_a_non_callable_is_refused():
    assert peak_cpu_bytes(lambda: 3) == (3, 0)
    with pytest.raises(TypeError, match="function of no arguments"):
        peak_cpu_bytes(torch.ones(2))
