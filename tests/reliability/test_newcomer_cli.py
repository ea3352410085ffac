"""The command line as the README shows it to a newcomer (issue 28, case 11): a negative range is a
value, a mistyped output folder is bad input (not a folder to make), and argument errors carry the
prefix the README names."""

from pathlib import Path

from genstudio.cli import build_parser, main
from genstudio.core.runtime.resources import resource_path

GAN = str(resource_path("checkpoints", "gan-mnist.safetensors"))


def test_a_negative_range_is_a_value_not_an_option():
    args = build_parser().parse_args(["sample", "my_generator.pt", "--trust-code", "--latent-dim", "128",
                                      "--output-range", "-1,1", "--out", "grid.png"])
    assert args.output_range == (-1.0, 1.0) and args.latent_dim == 128


def test_a_missing_output_folder_is_bad_input_and_is_not_made(tmp_path, capsys):
    out = tmp_path / "no" / "such" / "dir" / "g.png"
    assert main(["sample", GAN, "--grid", "1x1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"genstudio: error: {out}: the folder ") and "does not exist" in err
    assert not (tmp_path / "no").exists()


def test_argument_errors_name_the_command(capsys):
    try:
        main(["train", "--steps", "many"])
    except SystemExit as exit:
        assert exit.code == 2
    err = capsys.readouterr().err
    assert err.startswith("genstudio train: error: argument --steps") and err.count("\n") == 1
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "`genstudio <command>: error: <reason>`" in readme
