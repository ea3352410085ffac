"""A diffusion model in the app, through the real widgets: the progressive preview while a slider
moves, the Sampler controls, the latent record and `genstudio sample`, |z| along the A-B path, the
Encode and Variations tools, and the latent map. Tiny models (an 8/16-channel U-Net, 3 training
steps, 4 sampling steps) keep it quick: the checks are of the plumbing and the maths, not of image quality."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genstudio.core.families.family import Capability
from genstudio.core.io.checkpoints import load_checkpoint
from genstudio.core.training.engine import TrainConfig, Trainer
from genstudio.ui.inspect_tools.encode_tool import EncodeTool
from genstudio.ui.inspect_tools.layer_tool import LayerTool
from genstudio.ui.inspect_tools.variations_tool import VariationsTool

SAMPLE_STEPS, PREVIEW_STEPS = 4, 2


def train(mnist, out: Path, preset: str) -> Path:
    config = TrainConfig(family="diffusion", preset=preset, steps=3, batch_size=16, sample_every_s=0, n_samples=4,
                         eval_batch=16, device="cpu", out_dir=str(out), seed=3,
                         model={"sample_steps": SAMPLE_STEPS, "preview_steps": PREVIEW_STEPS, "channels": 8,
                                "channel_mults": [1, 2]})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)         # a model this small trains faster on one thread, as the app's GUI thread runs
    try:
        reports = list(Trainer(config, dataset=mnist).run())
    finally:
        torch.set_num_threads(threads)
    return Path(reports[-1].path)


@pytest.fixture(scope="module")
def diffusion(mnist, tmp_path_factory):
    return train(mnist, tmp_path_factory.mktemp("diffusion"), "digits")


@pytest.fixture(scope="module")
def model(diffusion):
    return load_checkpoint(diffusion).model.eval()


@pytest.fixture
def small(mnist):
    return type(mnist)("mnist", mnist.data[:64], mnist.labels[:64], mnist.label_names, "mnist")


def open_full(qtbot, window, path):
    """Open a checkpoint and wait for its full decode (a preview comes first) and its directions."""
    window.tabs.setCurrentWidget(window.explore)
    explore = window.explore
    assert window.open_path(path)
    qtbot.waitUntil(lambda: explore.directions is not None and explore.last_image_kind == "full"
                    and not explore._full_timer.isActive(), timeout=60000)
    return explore


def full_image(qtbot, explore, change):
    """Run `change` and wait for the full decode that follows it."""
    with qtbot.waitSignal(explore.imageRendered, timeout=30000, check_params_cb=lambda kind: kind == "full"):
        change()
    return explore.last_image.copy()


def decoded(model, z, **options):
    with torch.no_grad():
        return model.decode(z.view(1, *model.latent_shape), **options)[0].numpy()


def test_slider_preview_is_followed_by_the_full_image(qtbot, window, diffusion, model):
    explore = open_full(qtbot, window, diffusion)
    assert explore.sampler_box.isVisible()
    assert set(explore.option_boxes) == {"steps", "eta"}                 # no guidance without classes
    assert explore.option_boxes["steps"].value() == SAMPLE_STEPS
    assert explore.slider_mode.currentText() == "Principal directions"
    # A loaded machine may take longer than the rest interval to decode the preview; the full
    # decode would then overtake it. Stretch the interval so the preview is always seen first.
    explore._full_timer.setInterval(1500)
    shown = []
    explore.imageRendered.connect(lambda kind: shown.append((kind, explore.timing.text())))
    explore.sliders.sliders[0].setValue(150)
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=30000)
    (first, first_caption), (second, second_caption) = shown[:2]
    assert first == "preview" and f"preview: {PREVIEW_STEPS} of {SAMPLE_STEPS} sampling steps" in first_caption
    assert second == "full" and f"{SAMPLE_STEPS} sampling steps" in second_caption
    assert "preview" not in second_caption
    z = explore.current_latent()
    assert np.allclose(explore.last_image, decoded(model, z), atol=1e-4)
    assert not np.allclose(explore.last_image, decoded(model, z, steps=PREVIEW_STEPS), atol=1e-3)


def test_sampler_settings_change_the_image(qtbot, window, diffusion, model):
    explore = open_full(qtbot, window, diffusion)
    z = explore.current_latent()
    before = explore.last_image.copy()
    three = full_image(qtbot, explore, lambda: explore.option_boxes["steps"].setValue(3))
    assert window.session.decode_options["steps"] == 3
    assert not np.allclose(three, before, atol=1e-3)
    assert np.allclose(three, decoded(model, z, steps=3), atol=1e-4)
    noisy = full_image(qtbot, explore, lambda: explore.option_boxes["eta"].setValue(0.8))
    assert not np.allclose(noisy, three, atol=1e-3)
    assert np.allclose(noisy, decoded(model, z, steps=3, eta=0.8), atol=1e-4)       # eta's noise is seeded
    # With no more steps than the preview's, a moved latent decodes in full at once.
    full_image(qtbot, explore, lambda: explore.option_boxes["steps"].setValue(PREVIEW_STEPS))
    kinds = []
    explore.imageRendered.connect(kinds.append)
    full_image(qtbot, explore, lambda: explore.sliders.sliders[0].setValue(-150))
    assert kinds == ["full"] and explore.timing.text().startswith(f"{PREVIEW_STEPS} sampling steps")


def test_guidance_for_a_conditional_model(qtbot, window, mnist, tmp_path):
    path = train(mnist, tmp_path, "digits-conditional")
    model = load_checkpoint(path).model.eval()
    explore = open_full(qtbot, window, path)
    assert set(explore.option_boxes) == {"steps", "eta", "guidance"}
    z, labels = explore.current_latent(), window.session.labels()
    before = explore.last_image.copy()
    guided = full_image(qtbot, explore, lambda: explore.option_boxes["guidance"].setValue(4.0))
    assert not np.allclose(guided, before, atol=1e-3)
    with torch.no_grad():
        expected = model.decode(z.view(1, *model.latent_shape), labels, guidance=4.0)[0].numpy()
    assert np.allclose(guided, expected, atol=1e-4)


def test_latent_record_keeps_the_settings_and_the_command_line_agrees(qtbot, window, diffusion, tmp_path):
    from genstudio.cli import main
    from genstudio.core.io.export import to_uint8_hwc

    explore = open_full(qtbot, window, diffusion)
    full_image(qtbot, explore, lambda: explore.option_boxes["steps"].setValue(3))
    shown = full_image(qtbot, explore, lambda: explore.option_boxes["eta"].setValue(0.5))
    record = window.session.save_record(tmp_path / "latent.json")
    out = tmp_path / "cli.png"
    assert main(["sample", str(diffusion), "--latent", str(record), "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), to_uint8_hwc(shown[None])[0])
    # Back to the defaults, then the record restores its settings, its latent and its image.
    explore.option_boxes["steps"].setValue(SAMPLE_STEPS)
    explore.option_boxes["eta"].setValue(0.0)
    explore.randomise()
    qtbot.waitUntil(lambda: not np.allclose(explore.last_image, shown, atol=1e-3), timeout=30000)
    again = full_image(qtbot, explore, lambda: explore.load_latent_json(record))
    assert window.session.decode_options == {"steps": 3, "eta": 0.5}
    assert explore.option_boxes["steps"].value() == 3 and explore.option_boxes["eta"].value() == 0.5
    assert np.allclose(again, shown, atol=1e-5)


def test_path_norms_show_that_lines_leave_the_typical_set(qtbot, window, diffusion):
    explore = open_full(qtbot, window, diffusion)
    assert "typical set" in explore.slerp.toolTip()
    with qtbot.waitSignal(explore.strip_view.shown, timeout=30000):
        explore.randomise_endpoints()
    explore.norm_check.setChecked(True)
    assert explore.norm_label.isVisible()
    spherical = explore.path_norms()
    assert np.allclose(spherical, 1.0, atol=0.1)                            # |z| ~ sqrt(D) all along
    assert "(slerp)" in explore.norm_label.text()
    with qtbot.waitSignal(explore.strip_view.shown, timeout=30000):
        explore.slerp.setChecked(False)
    linear = explore.path_norms()
    assert linear.min() < 0.8 and "(linear)" in explore.norm_label.text()  # the middle is near 1/sqrt(2)
    assert f"lowest {linear.min():.2f}" in explore.norm_label.text()


def test_encode_tool_round_trip_and_end_points(qtbot, window, diffusion, model, small, tmp_path):
    open_full(qtbot, window, diffusion)
    inspect = window.inspect
    tools = inspect.active_tools()
    assert [type(t) for t in tools] == [EncodeTool, VariationsTool, LayerTool]      # no projection, no likelihood
    encode = inspect.tool(Capability.ENCODE)
    encode.use_dataset(small)
    window.tabs.setCurrentWidget(inspect)              # a view says "shown" once painted
    inspect.pages.setCurrentWidget(encode)
    with qtbot.waitSignal(encode.view.shown, timeout=30000):
        encode.encode(5)
    report = encode.report
    x = torch.from_numpy(small.data[5:6].numpy() / 255.0).float()
    with torch.no_grad():
        z = model.encode(x, steps=SAMPLE_STEPS)
        back = model.decode(z, steps=SAMPLE_STEPS)
    assert torch.allclose(report.latent, z.reshape(-1), atol=1e-4)
    assert np.allclose(report.decoded, back.numpy(), atol=1e-4)
    mean_abs = float((back - x).abs().mean()) * 255
    assert abs(report.mean_abs - mean_abs) < 1e-2
    text = encode.label.text()
    assert "mnist #5" in text and f"mean {report.mean_abs:.2f}, max {report.max_abs:.1f}" in text and "PSNR" in text
    encode.a_button.click()
    assert torch.allclose(window.session.a, report.latent)
    with qtbot.waitSignal(encode.view.shown, timeout=30000):
        encode.encode(9)
    encode.b_button.click()
    assert torch.allclose(window.session.a, report.latent)
    assert torch.allclose(window.session.b, encode.report.latent)
    assert not torch.allclose(window.session.a, window.session.b)
    with qtbot.waitSignal(window.explore.latentChanged, timeout=10000):
        encode.show_button.click()
    assert torch.allclose(window.explore.current_latent(), encode.report.latent)

    # A dropped image file goes to the Encode tool.
    digit = tmp_path / "dropped.png"
    Image.fromarray(small.data[2, 0].numpy()).save(digit)
    with qtbot.waitSignal(encode.view.shown, timeout=30000):
        window.drop_path(digit)
    assert window.tabs.currentWidget() is inspect and inspect.pages.currentWidget() is encode
    assert "dropped.png" in encode.label.text()


def test_variations_tool(qtbot, window, diffusion, small, tmp_path):
    explore = open_full(qtbot, window, diffusion)
    # 20 steps: a strength of 0.05 then redoes only the last, least noisy step.
    full_image(qtbot, explore, lambda: explore.option_boxes["steps"].setValue(20))
    tool = window.inspect.tool(Capability.VARIATIONS)
    tool.use_dataset(small)
    window.tabs.setCurrentWidget(window.inspect)
    window.inspect.pages.setCurrentWidget(tool)
    tool.source.setCurrentIndex(tool.source.findData("data"))
    tool.index.setValue(3)
    tool.count.setValue(4)
    tool.strength.setValue(5)
    with qtbot.waitSignal(tool.view.shown, timeout=30000):
        tool.make()
    near = tool.result
    assert near.images.shape == (4, 1, 28, 28) and near.strength == 0.05
    source = small.data[3:4].numpy() / 255.0
    assert np.allclose(near.source, source)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.allclose(near.images[i], near.images[j], atol=1e-3)   # different noise, different images
    close = np.abs(near.images - source).mean()
    with qtbot.waitSignal(tool.view.shown, timeout=30000):
        tool.strength.setValue(100)                    # shown variations are redone at the new strength
    far = np.abs(tool.result.images - source).mean()
    assert tool.result.strength == 1.0 and close < 0.5 * far
    assert "4 variations at strength 1.00" in tool.label.text()
    out = tool.export_row(tmp_path / "row.png")
    with Image.open(out) as im:
        assert im.size == (5 * 30 + 2, 32)
    # The explorer's image as the source: the variations are of what the explorer shows.
    tool.source.setCurrentIndex(tool.source.findData("explorer"))
    with qtbot.waitSignal(tool.view.shown, timeout=30000):
        tool.make()
    assert np.allclose(tool.result.source[0], explore.last_image, atol=1e-4)


def test_latent_map_of_a_diffusion_model(qtbot, window, diffusion, mnist):
    open_full(qtbot, window, diffusion)
    panel = window.map
    assert panel.build_button.isEnabled()
    assert panel.limit.value() == 1000 and f"steps {PREVIEW_STEPS}" in panel.description.text()
    panel.limit.setValue(48)
    subset = type(mnist)("mnist", mnist.data[:500], mnist.labels[:500], mnist.label_names, "mnist")
    with qtbot.waitSignal(panel.tasks.finished, timeout=60000):
        panel.build_map(dataset=subset)
    assert panel.point_count() == 48 and panel.projection.kind == "pca"
    assert "48 images of mnist encoded with steps 2" in panel.description.text()
    window.tabs.setCurrentWidget(panel)
    with qtbot.waitSignal(panel.hover_view.shown, timeout=30000):
        panel.hover_at(np.array([0.0, 0.0], np.float32))
    # Cancel stops a long encode.
    panel.limit.setValue(0)
    with qtbot.waitSignal(panel.tasks.cancelled, timeout=10000):
        panel.build_map(dataset=subset)
        panel.cancel_button.click()
    assert panel.build_button.isEnabled()
