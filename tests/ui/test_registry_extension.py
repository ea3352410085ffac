"""A family registered from inside a test is offered by the CLI, the Train form and the loss plot,
and its checkpoints open in the explorer, with no other edit: the registry is the one place."""


import pytest
import torch

from genstudio.core import registry
from genstudio.core.families.base import adam
from genstudio.core.families.family import Family, HyperField, PlotSpec, Preset
from linear_decoder import LinearConfig, LinearDecoder


class Tiny(LinearDecoder):
    """Fitted to the data by matching random codes: small, but a real model."""

    family = "tiny"
    optimizer_names = ("tiny",)

    def make_optimizers(self, hyper):
        return {"tiny": adam(self.parameters(), hyper, "lr_tiny")}

    def train_step(self, x, y, optimizers):
        out = self._out(torch.randn(len(x), self.config.latent_dim, device=x.device))
        loss = (out.mean(0) - x.mean(0)).pow(2).mean()
        optimizers["tiny"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["tiny"].step()
        return {"mean_gap": loss.detach(), "spread": out.std(0).mean().detach()}


TINY = Family(
    name="tiny", label="Tiny linear", description="A linear decoder, registered by a test.",
    model_class=Tiny, config_class=LinearConfig,
    presets={"linear": Preset("Three codes, one linear layer.", "images", {"latent_dim": 3},
                              {"lr_tiny": 0.01, "batch_size": 32})},
    plots=(PlotSpec("Tiny: gap to the data mean", ("mean_gap",)), PlotSpec("Tiny: spread", ("spread",))),
    hyper_fields=(HyperField("lr_tiny", "Tiny learning rate", "the tiny family's learning rate", learning_rate=True),),
)


@pytest.fixture
def tiny_family():
    registry.register(TINY)
    yield TINY
    registry.unregister("tiny")


def test_the_cli_offers_and_trains_it(tiny_family, tmp_path, capsys):
    from genstudio.cli import build_parser, main
    from genstudio.core.io.checkpoints import read_card

    train = next(a for a in build_parser()._subparsers._group_actions[0].choices["train"]._actions
                 if a.dest == "family")
    assert "tiny" in train.choices
    assert main(["presets"]) == 0
    assert "tiny (Tiny linear)" in capsys.readouterr().out
    out = tmp_path / "run"
    assert main(["train", "--family", "tiny", "--steps", "4", "--lr-tiny", "0.05", "--out", str(out), "--quiet",
                 "--device", "cpu"]) == 0
    card = read_card(out / "checkpoint.safetensors")
    # No closed-form size: the budget's figure comes from a build on the meta device.
    assert LinearConfig().size() is None
    assert TINY.size_of(card.config).parameters == 3 * 784 + 784
    assert card.family == "tiny" and card.step == 4 and card.train["hyper"]["lr_tiny"] == 0.05
    assert main(["info", str(out / "checkpoint.safetensors")]) == 0
    assert "Tiny linear" in capsys.readouterr().out
    assert main(["train", "--family", "tiny", "--steps", "2", "--lr-g", "0.1", "--out", str(tmp_path / "x"),
                 "--quiet"]) == 2
    assert "--lr-g is not a Tiny linear hyper-parameter" in capsys.readouterr().err


def test_the_train_form_and_loss_plot_offer_it(tiny_family, qtbot, window, tmp_path):
    panel = window.train
    index = panel.family.findData("tiny")
    assert index >= 0 and panel.family.itemText(index) == "Tiny linear"
    panel.family.setCurrentIndex(index)
    assert list(panel.hyper_boxes) == ["lr_tiny"]
    assert panel.hyper_boxes["lr_tiny"].value() == pytest.approx(0.01)
    assert [panel.preset.itemText(i) for i in range(panel.preset.count())] == ["linear"]
    assert panel.diagnostics_every.isHidden()
    assert [p.titleLabel.text for p in panel.plot.plots] == [s.title for s in TINY.plots]
    panel.hyper_boxes["lr_tiny"].setValue(0.02)
    panel.steps.setValue(30)
    panel.device.setCurrentText("cpu")
    panel.out_dir.setText(str(tmp_path / "run"))
    with qtbot.waitSignal(panel.trainingFinished, timeout=60000):
        panel.start_button.click()
    assert panel.final_report.kind == "finished"
    assert panel.plot.point_count("mean_gap") >= 2 and panel.plot.point_count("spread") >= 2
    assert panel.plot.curves["spread"] in panel.plot.plots[1].listDataItems()
    assert panel.plot.curves["mean_gap"] in panel.plot.plots[0].listDataItems()
    # Its checkpoint opens in the explorer like any other.
    with qtbot.waitSignal(window.explore.image_view.shown, timeout=30000):
        assert window.open_path(panel.final_report.path)
    assert window.opened.family == "tiny" and window.explore.last_image.shape == (1, 28, 28)
    assert len(window.explore.sliders.sliders) == 3
