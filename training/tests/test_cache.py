"""The decoded-chip cache (needs numpy and Pillow: skipped in CI's bare python)."""
import multiprocessing as mp
import os

import pytest

np = pytest.importorskip("numpy")
Image = pytest.importorskip("PIL.Image")
from training import cache  # noqa: E402


def _chips(tmp_path, n=6):
    d = tmp_path / "chips"
    d.mkdir()
    rng = np.random.RandomState(0)
    names = []
    for i in range(n):
        name = f"{20 + i}_0_0_2017011700000000{i}.jpg.chip.jpg"
        Image.fromarray(rng.randint(0, 256, (200, 200, 3), dtype=np.uint8)).save(d / name)
        names.append(name)
    return str(d), names


def test_cache_is_built_once_and_reloaded(tmp_path):
    data_dir, names = _chips(tmp_path)
    a = cache.build_cache(data_dir, names, 16, str(tmp_path / "cache"), workers=1)
    assert a.shape == (len(names), 16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a[2], cache.load_chip(os.path.join(data_dir, names[2]), 16))
    assert len(os.listdir(tmp_path / "cache")) == 1  # no temporary file left behind
    b = cache.build_cache(data_dir, names, 16, str(tmp_path / "cache"), workers=1)
    assert np.array_equal(a, b)


def _build_in_step(data_dir, names, cache_dir, barrier, results):
    # Both processes finish writing before either renames: the interleaving in which two
    # members started in parallel (--train-members) used to lose one of the two files.
    save = np.save

    def save_then_wait(path, arr):
        save(path, arr)
        barrier.wait(timeout=60)

    cache.np.save = save_then_wait
    try:
        results.put(cache.build_cache(data_dir, names, 16, cache_dir, workers=1).shape)
    except Exception as e:  # reported to the test, which fails on it
        results.put(repr(e))


def test_parallel_builders_do_not_clobber_each_other(tmp_path):
    data_dir, names = _chips(tmp_path)
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_build_in_step, args=(data_dir, names, str(tmp_path / "cache"), barrier, results))
             for _ in range(2)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert got == [(len(names), 16, 16, 3)] * 2
    assert len(os.listdir(tmp_path / "cache")) == 1
