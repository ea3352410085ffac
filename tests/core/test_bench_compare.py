"""`genstudio bench --compare`: figures matched by path, which way is better read from the path, a
figure 10 % worse marked, and a bad record refused in one line."""

import json

from genstudio.bench.compare import better, compare, flatten
from genstudio.cli import main

OLD = {"train": {"reference": 1500, "genstudio": 3000, "ratio": 2.0, "batch_size": 64},
       "slider_latency_ms": {"flow": {"p95": 15.1, "n": 190}, "vae": {"p95": 3.8}},
       "startup": {"process_wall_ms": 4700, "bar_ms": 3000, "ok": True, "device": "cpu"}}


def test_which_way_is_better_comes_from_the_path():
    assert better("train.ratio") == better("train.genstudio") == "higher"
    assert better("slider_latency_ms.flow.p95") == better("startup.process_wall_ms") == "lower"
    assert better("train.reference") == better("slider_latency_ms.flow.n") == better("startup.bar_ms") == ""
    assert better("progressive_latency_ms.diffusion-mnist.full_options.eta") == ""
    assert "startup.ok" not in flatten(OLD) and "startup.device" not in flatten(OLD)


def test_a_regression_is_marked_and_an_improvement_too(tmp_path, capsys):
    new = json.loads(json.dumps(OLD))
    new["train"]["ratio"] = 1.6                                   # 20 % lower: worse
    new["slider_latency_ms"]["flow"]["p95"] = 7.5                 # halved: better
    new["slider_latency_ms"]["vae"]["p95"] = 3.9                  # within the noise
    rows = {r["figure"]: r["verdict"] for r in compare(OLD, new)}
    assert rows["train.ratio"] == "worse" and rows["slider_latency_ms.flow.p95"] == "better"
    assert rows["slider_latency_ms.vae.p95"] == "same" and rows["train.reference"] == ""
    old_path, new_path = tmp_path / "old.json", tmp_path / "new.json"
    old_path.write_text(json.dumps(OLD))
    new_path.write_text(json.dumps(new))
    assert main(["bench", "--compare", str(old_path), str(new_path)]) == 0
    out = capsys.readouterr().out
    assert "WORSE" in out.splitlines()[[line.split()[0] for line in out.splitlines()].index("train.ratio")]
    assert out.strip().endswith("1 worse by more than 10 %: train.ratio")


def test_a_bad_record_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    assert main(["bench", "--compare", str(bad), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "not a readable bench record" in err
