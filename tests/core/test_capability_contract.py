"""registry.register() holds a family to the capabilities it declares (families/capabilities.py): a
model class without a promised method, or with one that cannot take the promised parameters, is
refused with one line naming the family, the capability and the method."""


import pytest
import torch

from genstudio.core import registry
from genstudio.core.families.capabilities import PROTOCOLS, members
from genstudio.core.families.family import Capability, Family, PlotSpec, Preset
from linear_decoder import LinearConfig, LinearDecoder


class Toy(LinearDecoder):
    """All a family needs without capabilities."""

    family = "toy"


def toy_family(model_class=Toy, capabilities=(), conditional=False, plots=("loss",)) -> Family:
    return Family(name="toy", label="Toy", description="A family built by a test.", model_class=model_class,
                  config_class=LinearConfig, presets={"linear": Preset("One layer.", "images", conditional=conditional)},
                  plots=(PlotSpec("Toy", plots),), capabilities=frozenset(capabilities))


@pytest.fixture(autouse=True)
def forget_toy():
    yield
    registry.unregister("toy")


def refusal(family: Family) -> str:
    with pytest.raises(ValueError) as caught:
        registry.register(family)
    assert registry.find("toy") is None          # nothing half-registered
    message = str(caught.value)
    assert "\n" not in message and "model family 'toy'" in message
    return message


def test_capabilities_without_their_methods_are_refused():
    message = refusal(toy_family(capabilities={Capability.COMPLETION, Capability.STYLE_SPACE,
                                               Capability.PIXEL_LIKELIHOOD, Capability.LIVE_DIAGNOSTICS}))
    assert "completion: Toy has no complete(x, known, n, *, seed)" in message
    assert "per-pixel likelihood: Toy has no pixel_nll(x, labels)" in message
    assert ("style space: Toy has no num_ws, Toy has no mapping(z, labels), Toy has no synthesize(ws), "
            "Toy.decode cannot be called as decode(z, labels, *, style_edit)") in message
    assert "live diagnostics: the family plots no d_real or d_fake" in message


def test_a_default_inherited_from_generative_model_is_not_an_implementation():
    # GenerativeModel.encode only raises NotImplementedError: declaring ENCODE needs a real one.
    assert "encode: Toy has no encode(x)" in refusal(toy_family(capabilities={Capability.ENCODE}))


def test_a_method_that_cannot_take_the_promised_parameters_is_refused():
    class NoSeed(Toy):
        def variations(self, x, n, strength):
            return x.expand(n, *x.shape)

    message = refusal(toy_family(NoSeed, {Capability.VARIATIONS}))
    assert "variations: NoSeed.variations cannot be called as variations(x, n, strength, *, seed)" in message


def test_class_conditional_families_must_take_labels_where_the_tools_pass_them():
    class Encoder(Toy):
        def encode(self, x):
            return x.flatten(1)[:, :3]

    registry.register(toy_family(Encoder, {Capability.ENCODE}))        # unconditional: encode(x) is enough
    registry.unregister("toy")
    message = refusal(toy_family(Encoder, {Capability.ENCODE, Capability.CLASS_CONDITIONAL}, conditional=True))
    assert "encode: Encoder.encode cannot be called as encode(x, *, labels)" in message


def test_promises_of_the_description_are_checked():
    message = refusal(toy_family(capabilities={Capability.CLASS_CONDITIONAL, Capability.POINTS}))
    assert "class-conditional: the family has no conditional preset" in message
    assert "2-D points: the family has no preset for points" in message


def test_a_family_that_keeps_its_promises_registers():
    class Kept(Toy):
        def variations(self, x, n, strength, seed=0, labels=None, steps=None):
            generator = torch.Generator().manual_seed(seed)
            return (x + strength * torch.rand((n, *x.shape), generator=generator)).clamp(0, 1)

    family = toy_family(Kept, {Capability.VARIATIONS, Capability.CLASS_CONDITIONAL}, conditional=True)
    assert registry.register(family) is family and registry.get("toy") is family


def test_every_capability_has_a_protocol_with_a_promise():
    assert set(PROTOCOLS) == set(Capability)
    for capability, protocol in PROTOCOLS.items():
        assert protocol.__doc__ and capability.name in protocol.__doc__
        for name, member in members(protocol).items():
            assert member.__doc__, f"{protocol.__name__}.{name} says nothing of its shapes"
