#!/usr/bin/env python3
"""A straightforward Python conversion of a radar archive into training shards, with xarray and
numpy: the reference `nowcast convert` is measured against (tools/bench-convert). Same semantics:
T_in + T_out consecutive frames every STRIDE frames, square non-overlapping patches, filters on
physical values (max missing fraction, min wet fraction of the inputs), dBR(0.1, -15) then z-score
fitted on the training split, splits by whole days with the same seeded hash, shards of
(sample, time, y, x) float32 written with zlib level 1 + shuffle, one sample per chunk.

  python3 tools/convert_reference.py ARCHIVE_DIR OUT_DIR [--t-in 4 --t-out 4 --stride 4 --patch 128]
"""
import argparse, glob, json, os, resource, time
import numpy as np
import xarray as xr

M64 = (1 << 64) - 1

def split_of_block(block, seed, validation, test):
    z = (block & M64) + (seed * 0x9E3779B97F4A7C15 & M64) + 0x632BE59BD9B4E019 & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    z ^= z >> 31
    u = (z >> 11) * 2.0 ** -53
    return "test" if u < test else "validation" if u < test + validation else "train"

def dbr(r):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isnan(r), np.nan, np.where(r >= 0.1, 10 * np.log10(r), -15.0)).astype(np.float32)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("archive"); ap.add_argument("out")
    ap.add_argument("--t-in", type=int, default=4); ap.add_argument("--t-out", type=int, default=4)
    ap.add_argument("--stride", type=int, default=4); ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--max-missing", type=float, default=0.3); ap.add_argument("--min-wet", type=float, default=0.05)
    ap.add_argument("--shard-size", type=int, default=256)
    a = ap.parse_args()
    t0 = time.perf_counter()
    files = sorted(glob.glob(os.path.join(a.archive, "**", "*.nc"), recursive=True))
    times = []
    for f in files:
        with xr.open_dataset(f) as ds:
            times.append(ds["time"].values[0].astype("datetime64[s]").astype(np.int64))
    times = np.array(times)
    step = np.bincount(np.diff(times)).argmax() if len(times) > 1 else 0
    T = a.t_in + a.t_out
    windows = []
    for s in range(0, len(files) - T + 1, a.stride):
        if times[s + T - 1] - times[s] != (T - 1) * step: continue
        b0, b1 = times[s] // 86400, times[s + T - 1] // 86400
        if b0 != b1: continue
        windows.append((s, split_of_block(int(b0), 0, 0.15, 0.15)))

    def load(i):
        with xr.open_dataset(files[i]) as ds:
            return ds["rainfall_rate"].values[0].astype(np.float32)

    # Statistics of dBR on training frames.
    train = sorted({i for s, sp in windows if sp == "train" for i in range(s, s + T)})
    total, total2, n = 0.0, 0.0, 0
    for i in train:
        d = dbr(load(i)); v = d[~np.isnan(d)].astype(np.float64)
        total += v.sum(); total2 += (v * v).sum(); n += v.size
    mean = total / n; std = np.sqrt(total2 / n - mean * mean)

    ny, nx = load(0).shape
    P = a.patch
    origins = [(y, x) for y in range(0, ny - P + 1, P) for x in range(0, nx - P + 1, P)]
    cache = {}
    pending = {"train": [], "validation": [], "test": []}
    kept = {"train": 0, "validation": 0, "test": 0}
    shard = 0; in_range = 0
    def flush():
        nonlocal shard, in_range
        for sp, samples in pending.items():
            if not samples: continue
            os.makedirs(os.path.join(a.out, sp), exist_ok=True)
            data = np.stack([s[0] for s in samples]); vt = np.stack([s[1] for s in samples])
            ds = xr.Dataset({"data": (("sample", "time", "y", "x"), data), "valid_time": (("sample", "time"), vt)})
            ds.to_netcdf(os.path.join(a.out, sp, f"shard-{shard:05d}.nc"),
                         encoding={"data": {"zlib": True, "complevel": 1, "shuffle": True, "chunksizes": (1, T, P, P)}})
            samples.clear()
        shard += 1; in_range = 0
    for s, sp in windows:
        for k in list(cache):
            if k < s: del cache[k]
        frames = []
        for i in range(s, s + T):
            if i not in cache:
                r = load(i); cache[i] = (r, (dbr(r) - mean) / std)
            frames.append(cache[i])
        phys = np.stack([f[0] for f in frames]); tr = np.stack([f[1] for f in frames])
        for (y, x) in origins:
            p = phys[:, y:y + P, x:x + P]
            if np.isnan(p).mean() > a.max_missing: continue
            if (p[:a.t_in] > 0.1).mean() < a.min_wet: continue
            pending[sp].append((tr[:, y:y + P, x:x + P].astype(np.float32), times[s:s + T]))
            kept[sp] += 1; in_range += 1
            if in_range == a.shard_size: flush()
    flush()
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"method": "python_xarray_numpy", "frames": len(files), "seconds": dt, "frames_per_s": len(files) / dt,
                      "peak_rss_mb": rss, "kept": kept, "mean": mean, "std": std}))

if __name__ == "__main__":
    main()
