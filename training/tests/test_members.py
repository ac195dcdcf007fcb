"""Ensemble member layout: names, checkpoints, seeds and architectures (needs torch: skipped in CI's bare python)."""
import os

import pytest

pytest.importorskip("torch")
from training.train import member_specs, parse_args  # noqa: E402


def test_default_members_are_seeded_copies_of_one_network():
    specs = member_specs(parse_args(["--members", "3", "--out-dir", "o"]))
    assert [s.path for s in specs] == [os.path.join("o", f"member-{j}.pt") for j in range(3)]
    assert [s.args.seed for s in specs] == [1337, 1338, 1339]
    assert {(s.args.widths, s.args.blocks) for s in specs} == {("32,64,128,192", "1,1,1,1")}


def test_extra_members_have_their_own_architecture_checkpoint_and_seeds():
    args = parse_args(["--members", "2", "--out-dir", "o", "--extra-members", "32,64,128,256/1,2,2,2/2"])
    specs = member_specs(args)
    assert len(specs) == 4
    extra = specs[2:]
    assert [s.path for s in extra] == [os.path.join("o", f"member-32-64-128-256_1-2-2-2-{j}.pt") for j in range(2)]
    assert [s.args.seed for s in extra] == [1337, 1338]
    assert all((s.args.widths, s.args.blocks) == ("32,64,128,256", "1,2,2,2") for s in extra)
    assert extra[0].name == "member 2 (32,64,128,256/1,2,2,2)"
    # the run's own arguments are untouched
    assert (args.widths, args.seed) == ("32,64,128,192", 1337)


@pytest.mark.parametrize("bad", ["32,64,128/1,1,1/2", "32,64,128,256/1,2,2,2", "a/b/c"])
def test_malformed_extra_members_are_refused(bad):
    with pytest.raises(SystemExit):
        parse_args(["--extra-members", bad])
