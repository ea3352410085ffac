"""The explorer's repeated decodes run as frozen graphs (core/explore/traced_calls.py): the same
images as the eager decode, traced only once a call repeats, traced again after the weights change
in place, and left eager where a graph would be wrong (a branch on a value, randomness, settings
that are not numbers, a model that does not declare its decode traceable)."""

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from genstudio.core.explore.decoding import decode_numpy
from genstudio.core.explore.traced_calls import TRACE_AFTER, UNTRACEABLE, TracedCalls, traced_calls
from genstudio.core.io.open_model import open_model
from genstudio.core.requests.render_requests import Decode
from genstudio.core.requests.translation_requests import TranslateImage, TranslationInput
from genstudio.ui.model_list import demo_checkpoints


class Tiny(nn.Module):
    traceable_decode = True

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))

    def decode(self, z, labels=None, gain: float = 1.0):
        return self.net(z) * gain


def graphs(traced: TracedCalls) -> list:
    return list(traced._graphs.values())


@pytest.mark.parametrize("name", ["flow-mnist", "gan-mnist", "stylegan-mnist", "vae-mnist"])
def test_a_demos_traced_decode_draws_the_eager_images(name):
    """Through the request the explorer's renderer runs (run_streaming, with its should_stop)."""
    model = open_model(next(p for p in demo_checkpoints() if p.stem == name)).model
    cache = {}
    z = torch.randn(1, model.latent_dim, generator=torch.Generator().manual_seed(3))
    eager = decode_numpy(model, z)
    for _ in range(TRACE_AFTER + 2):
        shown = Decode(z, traced=True).run_streaming(model, cache, emit=None, should_stop=lambda: False)
        assert abs(shown - eager).max() < 1e-5
    assert isinstance(graphs(traced_calls(cache))[0], torch.jit.ScriptModule)   # the later ones: the graph's
    other = torch.randn(1, model.latent_dim)
    assert abs(Decode(other, traced=True).run(model, cache) - decode_numpy(model, other)).max() < 1e-5
    assert np.array_equal(Decode(other).run(model, cache), decode_numpy(model, other))     # untraced: eager


def test_the_translation_demos_traced_round_trip_is_the_eager_one():
    model = open_model(next(p for p in demo_checkpoints() if p.stem == "translation-mnist")).model
    cache, style = {}, torch.randn(1, model.style_dim, generator=torch.Generator().manual_seed(5))
    request = TranslateImage(TranslationInput(index=3), direction=1, style=style, traced=True)
    eager = request.run(model, {})
    for _ in range(TRACE_AFTER + 2):
        view = request.run(model, cache)
        assert abs(view.translation - eager.translation).max() < 1e-5
        assert abs(view.round_trip - eager.round_trip).max() < 1e-5
    assert isinstance(graphs(traced_calls(cache))[0], torch.jit.ScriptModule)
    # A held slider's translation alone: its graph returns one tensor; the round trip left out stays None.
    alone = dataclasses.replace(request, round_trip=False)
    for _ in range(TRACE_AFTER + 2):
        view = alone.run(model, cache)
        assert abs(view.translation - eager.translation).max() < 1e-5
        assert view.round_trip is None and view.cycle_error is None
    assert len(graphs(traced_calls(cache))) == 2
    assert all(isinstance(g, torch.jit.ScriptModule) for g in graphs(traced_calls(cache)))


def test_traced_once_repeated_and_again_after_a_weight_change():
    model, traced = Tiny().eval(), TracedCalls()
    z = torch.randn(1, 4)
    traced.run(model, "decode", {}, model.decode, z)
    assert graphs(traced) == []                          # one call: eager, nothing traced
    for _ in range(TRACE_AFTER):
        traced.run(model, "decode", {}, model.decode, z)
    assert len(graphs(traced)) == 1
    with torch.no_grad():
        model.net[2].bias.add_(1.0)                      # a training step changes the weights in place
    for _ in range(TRACE_AFTER + 1):
        out = traced.run(model, "decode", {}, model.decode, z)
        assert torch.allclose(out, model.decode(z), atol=1e-6)
    assert len(graphs(traced)) == 1                     # the stale graph went
    # Another setting is another graph, with the setting's own value.
    for _ in range(TRACE_AFTER + 1):
        out = traced.run(model, "decode", {"gain": 2.0}, lambda z: model.decode(z, gain=2.0), z)
    assert torch.allclose(out, 2 * model.decode(z), atol=1e-6) and len(graphs(traced)) == 2


def test_what_a_graph_would_get_wrong_stays_eager():
    model, z = Tiny().eval(), torch.randn(1, 4)

    def branches_on_a_value(z):
        return model.decode(z) if float(z.sum()) > 0 else -model.decode(z)

    def draws_noise(z):
        return model.decode(z) + torch.randn(1, 3)

    for fn in (branches_on_a_value, draws_noise):
        traced = TracedCalls()
        for _ in range(TRACE_AFTER + 1):
            traced.run(model, "decode", {}, fn, z.abs())
        assert graphs(traced) == [UNTRACEABLE]
        if fn is branches_on_a_value:       # the other branch, which a graph traced on z.abs() would not take
            assert torch.equal(traced.run(model, "decode", {}, fn, -z.abs()), fn(-z.abs()))

    traced = TracedCalls()
    for _ in range(TRACE_AFTER + 1):
        traced.run(model, "decode", {"on_row": print}, model.decode, z)    # a callable setting
    model.train()
    for _ in range(TRACE_AFTER + 1):
        traced.run(model, "decode", {}, model.decode, z)                   # a model in training mode
    assert graphs(traced) == []

    class Undeclared(Tiny):
        traceable_decode = False

    undeclared = Undeclared().eval()
    for _ in range(TRACE_AFTER + 1):
        traced.run(undeclared, "decode", {}, undeclared.decode, z)
    assert graphs(traced) == []
