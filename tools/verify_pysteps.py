"""The peer of `nowcast verify`: the same scores over the same products with pysteps.verification,
in the straightforward loop a pySTEPS user writes (netCDF4 to read, one accumulator per lead time).

    python tools/verify_pysteps.py PRODUCTS_DIR OBS_DIR [THRESHOLDS] [SCALES] [LIMIT]

Per lead time: det_cat_fct at each threshold, det_cont_fct (ME, MAE, RMSE, correlation) in mm/h
and in dBR, fss at each threshold and scale (all on the ensemble mean), and of the ensemble the
CRPS, rank histogram, reliability diagram and ROC curve at each threshold. Prints products/s and
the peak RSS of the process.
"""
import glob
import os
import resource
import sys
import time

import netCDF4
import numpy as np
from pysteps.postprocessing.ensemblestats import excprob
from pysteps.verification import detcatscores, detcontscores, ensscores, probscores, spatialscores


def main():
    products = sorted(glob.glob(os.path.join(sys.argv[1], "*.nc")))
    obs_files = sorted(glob.glob(os.path.join(sys.argv[2], "*.nc")))
    thresholds = [float(x) for x in (sys.argv[3] if len(sys.argv) > 3 else "0.5,1,5").split(",")]
    scales = [int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "1,4,16").split(",")]
    if len(sys.argv) > 5:
        products = products[: int(sys.argv[5])]
    started = time.perf_counter()

    # Observations by valid time (seconds since 1970), read when a lead needs them.
    obs_by_time = {}
    for path in obs_files:
        with netCDF4.Dataset(path) as ds:
            t = ds["time"]
            dates = netCDF4.num2date(t[:], t.units)
            for value in netCDF4.date2num(dates, "seconds since 1970-01-01 00:00:00"):
                obs_by_time[int(round(float(value)))] = path

    def observation(seconds):
        with netCDF4.Dataset(obs_by_time[seconds]) as ds:
            return np.ma.filled(ds["rainfall_rate"][0].astype(np.float64), np.nan)

    def dbr(x):
        out = np.full_like(x, -15.0)
        wet = x >= 0.1
        out[wet] = 10 * np.log10(x[wet])
        out[np.isnan(x)] = np.nan
        return out

    scores = None
    for n, path in enumerate(products):
        with netCDF4.Dataset(path) as ds:
            reference = int(ds["forecast_reference_time"][...])
            leads = ds["forecast_period"][:]
            members = ds.dimensions["realization"].size
            if scores is None:
                scores = [
                    {
                        "cat": [detcatscores.det_cat_fct_init(t) for t in thresholds],
                        "cont": detcontscores.det_cont_fct_init(),
                        "cont_dbr": detcontscores.det_cont_fct_init(),
                        "fss": [[spatialscores.fss_init(t, s) for s in scales] for t in thresholds],
                        "rank": ensscores.rankhist_init(members),
                        "crps": probscores.CRPS_init(),
                        "rel": [probscores.reldiag_init(t, n_bins=11) for t in thresholds],
                        "roc": [probscores.ROC_curve_init(t, n_prob_thrs=11) for t in thresholds],
                    }
                    for _ in leads
                ]
            for k, lead in enumerate(leads):
                ens = np.ma.filled(ds["rainfall_rate"][:, k].astype(np.float64), np.nan)
                obs = observation(reference + int(lead))
                mean = np.nanmean(ens, axis=0)  # as nowcast verify: the members not missing at a pixel
                s = scores[k]
                for table in s["cat"]:
                    detcatscores.det_cat_fct_accum(table, mean, obs)
                detcontscores.det_cont_fct_accum(s["cont"], mean, obs)
                detcontscores.det_cont_fct_accum(s["cont_dbr"], dbr(mean), dbr(obs))
                for row in s["fss"]:
                    for f in row:
                        spatialscores.fss_accum(f, mean, obs)
                ensscores.rankhist_accum(s["rank"], ens, obs)
                probscores.CRPS_accum(s["crps"], ens, obs)
                for t, rel, roc in zip(thresholds, s["rel"], s["roc"]):
                    p = excprob(ens, t, ignore_nan=True)
                    probscores.reldiag_accum(rel, p, obs)
                    probscores.ROC_curve_accum(roc, p, obs)
        print(f"\rpysteps loop: {n + 1}/{len(products)} products", end="", file=sys.stderr)
    seconds = time.perf_counter() - started
    print(file=sys.stderr)
    csi = [detcatscores.det_cat_fct_compute(s["cat"][len(thresholds) // 2], ["CSI"])["CSI"] for s in scores]
    mae = [detcontscores.det_cont_fct_compute(s["cont"], ["MAE"])["MAE"] for s in scores]
    crps = [probscores.CRPS_compute(s["crps"]) for s in scores]
    print("csi", " ".join(f"{x:.4f}" for x in csi))
    print("mae", " ".join(f"{x:.4f}" for x in mae))
    print("crps", " ".join(f"{x:.4f}" for x in crps))
    print(f"products {len(products)} seconds {seconds:.2f} products_per_s {len(products) / seconds:.3f} "
          f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
