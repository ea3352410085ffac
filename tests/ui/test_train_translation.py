"""A translation model from the Train panel: the data follows the family, the plots are both
discriminators', both generators' and the cycle errors, and the live samples are triples."""

import dataclasses

from genstudio.core.io.checkpoints import load_checkpoint


def test_translation_trains_on_two_domains_with_triples_for_samples(qtbot, window, tmp_path):
    panel = window.train
    panel.family.setCurrentIndex(panel.family.findData("translation"))
    assert panel.data.currentText() == "mnist-thick"          # two domains for this family, offline
    assert panel.preset.currentText() == "cyclegan-digits"
    assert {"lr", "decay_start", "decay_steps"} <= set(panel.hyper_boxes)
    assert panel.hyper_boxes["decay_start"].value() == 1500
    panel.steps.setValue(4)
    panel.device.setCurrentText("cpu")
    panel.out_dir.setText(str(tmp_path / "run"))
    config = dataclasses.replace(panel.config(), model={"ngf": 8, "n_blocks": 1, "ndf": 8}, report_every=1,
                                 sample_every_s=0)
    with qtbot.waitSignal(panel.trainingFinished, timeout=120000) as finished:
        panel.start(config)
    assert finished.args[0].kind == "finished"
    for key in ("d_a", "d_b", "g_ab", "g_ba", "cycle_a", "cycle_b", "identity_a"):
        assert panel.plot.point_count(key) >= 3, key
    # 8 triples of 28 px images: A, A -> B, A -> B -> A, B, B -> A, B -> A -> B in each row of 6.
    assert panel.last_samples.shape == (48, 1, 28, 28)
    grid = panel.sample_view.image()
    assert (grid.width(), grid.height()) == (6 * 30 + 2, 8 * 30 + 2)
    saved = load_checkpoint(tmp_path / "run" / "checkpoint.safetensors")
    assert saved.card.data.kind == "two domains" and saved.card.data.source.startswith("A=mnist[0:10000:2],B=")

    # Back to a one-domain family: the data goes back to the bundled digits.
    panel.family.setCurrentIndex(panel.family.findData("vae"))
    assert panel.data.currentText() == "mnist"
