"""Tests for helpers.research.hooks: forward-call counting that leaves the module as it found it."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.research.hooks import CallCounter, count_calls
from helpers.research.hooks import first_call


class TwoInputs(nn.Module):
    """forward(scale, x, *, mask=None): the batch is in the second argument, not the first."""

    def forward(self, scale, x, mask=None):
        return x * scale if mask is None else x * scale * mask


class Fails(nn.Module):
    def forward(self, x):
        raise RuntimeError("boom")


def test_counts_calls_batch_sizes_and_shapes():
    layer = nn.Linear(3, 2)
    with count_calls(layer) as counter:
        layer(torch.zeros(2, 3))
        layer(torch.zeros(5, 3))
        layer(torch.zeros(1, 4, 3))
    assert counter.calls == 3
    assert counter.batch_sizes == [2, 5, 1]
    assert counter.samples == 8
    assert counter.shapes == [torch.Size([2, 3]), torch.Size([5, 3]), torch.Size([1, 4, 3])]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=6), max_size=8))
def test_batch_sizes_follow_the_calls(batches):
    layer = nn.Identity()
    with count_calls(layer) as counter:
        for n in batches:
            layer(torch.zeros(n, 2))
    assert counter.batch_sizes == batches
    assert counter.calls == len(batches)
    assert counter.samples == sum(batches)


def test_hook_is_removed_on_exit_and_later_calls_are_not_counted():
    layer = nn.Linear(3, 2)
    before = dict(layer._forward_hooks)
    with count_calls(layer) as counter:
        assert counter.active
        assert len(layer._forward_hooks) == len(before) + 1
        layer(torch.zeros(1, 3))
    assert not counter.active
    assert dict(layer._forward_hooks) == before
    layer(torch.zeros(4, 3))
    assert counter.batch_sizes == [1]


def test_hook_is_removed_when_the_block_raises():
    layer = nn.Linear(3, 2)
    with pytest.raises(KeyError):
        with count_calls(layer) as counter:
            layer(torch.zeros(2, 3))
            raise KeyError("leave")
    assert not layer._forward_hooks
    assert counter.batch_sizes == [2]


def test_a_forward_that_raises_is_not_counted():
    module = Fails()
    with count_calls(module) as counter:
        with pytest.raises(RuntimeError, match="boom"):
            module(torch.zeros(2))
    assert counter.calls == 0


def test_counts_only_the_module_it_watches():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    with count_calls(model[1]) as second, count_calls(model) as whole:
        model(torch.zeros(7, 3))
        model[1](torch.zeros(2, 3))
    assert second.batch_sizes == [7, 2]
    assert whole.batch_sizes == [7]


def test_default_takes_the_first_tensor_with_a_batch_dimension():
    module = TwoInputs()
    with count_calls(module) as counter:
        module(torch.tensor(2.0), torch.zeros(3, 4))  # a 0-d tensor has no batch: skipped
        module(2.0, x=torch.zeros(6, 4))  # keyword arguments are searched too
    assert counter.batch_sizes == [3, 6]


def test_argument_by_index_and_by_name_positional_or_keyword():
    module = TwoInputs()
    with count_calls(module, argument="mask") as by_name, count_calls(module, argument=1) as by_index:
        module(torch.ones(5, 1), torch.zeros(5, 2), mask=torch.ones(1, 2))
        module(torch.ones(3, 1), torch.zeros(3, 2), torch.ones(4, 1, 2))  # mask passed positionally
    assert by_name.batch_sizes == [1, 4]
    assert by_index.batch_sizes == [5, 3]


def test_reset_forgets_counts_but_keeps_counting():
    layer = nn.Identity()
    with count_calls(layer) as counter:
        layer(torch.zeros(2, 1))
        counter.reset()
        layer(torch.zeros(3, 1))
    assert counter.batch_sizes == [3]


def test_a_diffusers_unet_is_counted_per_call():
    from helpers.models import tiny

    # The book's own tiny SD 1.5 UNet (seeded): the model the chapters count calls on.
    unet = tiny.build(tiny.build_sd15)["unet"]
    text = torch.zeros(3, 2, tiny.TEXT_WIDTH)
    with torch.no_grad(), count_calls(unet) as counter:
        unet(torch.zeros(3, 4, 8, 8), 10, encoder_hidden_states=text)
        unet(sample=torch.zeros(2, 4, 8, 8), timestep=torch.tensor([5, 5]), encoder_hidden_states=text[:2])
    assert counter.batch_sizes == [3, 2]
    assert counter.shapes[0] == torch.Size([3, 4, 8, 8])
    assert not unet._forward_hooks


def test_not_a_module_is_a_type_error():
    with pytest.raises(TypeError, match="needs a torch.nn.Module, got function"):
        count_calls(lambda x: x)


@pytest.mark.parametrize("argument", [1.5, True, ["x"]])
def test_bad_argument_type_is_a_type_error(argument):
    with pytest.raises(TypeError, match="argument must be None, a positional index"):
        CallCounter(nn.Identity(), argument=argument)


def test_negative_index_is_a_value_error():
    with pytest.raises(ValueError, match="non-negative positional index"):
        CallCounter(nn.Identity(), argument=-1)


def test_call_without_a_batch_tensor_is_a_clear_value_error():
    module = TwoInputs()
    with count_calls(module):
        with pytest.raises(ValueError, match="had no tensor argument with a batch dimension; pass argument="):
            module(2.0, 3.0)


def test_named_argument_missing_from_the_call_is_a_clear_value_error():
    module = TwoInputs()
    with count_calls(module, argument="mask"):
        with pytest.raises(ValueError, match=r"no tensor with a batch dimension in argument 'mask' \(got NoneType\)"):
            module(1.0, torch.zeros(2, 2))
    with count_calls(module, argument=5):
        with pytest.raises(ValueError, match="in positional argument 5"):
            module(1.0, torch.zeros(2, 2))


def test_entering_twice_is_an_error():
    counter = count_calls(nn.Identity())
    with counter:
        with pytest.raises(RuntimeError, match="already counting"):
            counter.__enter__()


# --- first_call: a module's first forward call inside a block ----------


class Scale(nn.Module):
    def forward(self, sample, factor=2.0, *, label=None):
        return sample * factor


def test_keeps_only_the_first_call_by_position_and_by_name_and_changes_no_output():
    module = Scale()
    with first_call(module) as first:
        assert not first.called and first.output is None
        out = module(torch.ones(2), 3.0, label="a")
        module(torch.zeros(2), factor=5.0)  # a later call: not kept
    assert first.called and torch.equal(out, torch.full((2,), 3.0))
    assert torch.equal(first.output, out) and first.kwargs == {"label": "a"}
    assert torch.equal(first.arguments["sample"], torch.ones(2)) and first.arguments["factor"] == 3.0  # exact: as passed
    assert not module._forward_hooks  # the hook went with the block


def test_the_hook_goes_even_when_the_block_raises():
    module = Scale()
    with pytest.raises(KeyError), first_call(module):
        raise KeyError("x")
    assert not module._forward_hooks


@pytest.mark.parametrize("module", [None, Scale, lambda x: x])
def test_refuses_what_is_no_module(module):
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"), first_call(module):
        pass
