"""Run under torchrun by tests/core/test_distributed.py: WEIGHTS then one `genstudio train ...` argument
line per run. Each line is trained through the command itself (genstudio.cli.main), in every process;
then every rank saves what its own process trained to WEIGHTS/runN-rankR.pt (the weights, and the
batches it drew at step 0 and would draw at the run's last step), so the test compares the processes
of that very torchrun run.

STOP_RANK_1="RUN:STEP" (in the environment) asks rank 1 alone to stop run RUN once it is at step STEP,
as a signal that reaches one process first does."""

import os
import shlex
import sys

import torch
import torch.distributed as dist

from genstudio import cli
from genstudio.core.training import engine


def main() -> int:
    folder, lines = sys.argv[1], sys.argv[2:]
    trainers = []
    build = engine.Trainer.__init__

    def keep(self, *args, **kwargs):      # the command builds its Trainer inside; keep a hold of it
        build(self, *args, **kwargs)
        trainers.append(self)

    engine.Trainer.__init__ = keep
    rank = int(os.environ["RANK"])
    stop_run, _, stop_step = os.environ.get("STOP_RANK_1", "-1:0").partition(":")
    agreed = engine.Trainer._stop_agreed

    def stop_alone(self):
        if rank == 1 and len(trainers) - 1 == int(stop_run) and self.step >= int(stop_step):
            self.stop_token.cancel()
        return agreed(self)

    engine.Trainer._stop_agreed = stop_alone
    for number, line in enumerate(lines):
        code = cli.main(shlex.split(line))
        if code:
            return code
        trainer = trainers[-1]
        torch.save({"weights": trainer.model.state_dict(), "first_batch": trainer._batch_index(0),
                    "next_batch": trainer._batch_index(trainer.step)},
                   os.path.join(folder, f"run{number}-rank{rank}.pt"))
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
