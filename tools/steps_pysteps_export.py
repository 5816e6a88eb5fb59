"""pySTEPS's STEPS ensemble of the BoM case, written as a NetCDF forecast that `nowcast verify`
reads, so that both ensembles are scored by the same code. The call is steps_once.py's (20
members, 12 lead times, 6 cascade levels, precip_thr -10 dBR, LK motion, bps perturbations,
incremental mask, seed 24 unless given); run from the peer's folder (../shared/bench/pysteps copied
under .build/bench/pysteps), which holds prep.py and common.py.

    python tools/steps_pysteps_export.py PEER_DIR OUT.nc [SEED]
"""
import calendar
import sys

sys.path.insert(0, sys.argv[1])
import netCDF4  # noqa: E402
import numpy as np  # noqa: E402
from pysteps import motion, nowcasts  # noqa: E402
from prep import load_inputs, to_rainrate, N_LEAD, T0  # noqa: E402
from common import KM_PER_PIXEL, TIMESTEP_MIN, fname  # noqa: E402

seed = int(sys.argv[3]) if len(sys.argv) > 3 else 24
R, dBR, meta, times = load_inputs()
V = motion.get_method("LK")(dBR[-3:], verbose=False)
fc = nowcasts.get_method("steps")(
    dBR[-3:], V, N_LEAD, n_ens_members=20, n_cascade_levels=6, precip_thr=-10.0, kmperpixel=KM_PER_PIXEL,
    timestep=TIMESTEP_MIN, noise_method="nonparametric", vel_pert_method="bps", mask_method="incremental",
    seed=seed, num_workers=2, fft_method="numpy")
ens = to_rainrate(fc)  # (20, 12, 512, 512) mm/h, NaN outside

with netCDF4.Dataset(fname(T0)) as src:
    x, y = src["x"][:], src["y"][:]
    xunits, yunits = src["x"].units, src["y"].units
reference = calendar.timegm(T0.timetuple())
with netCDF4.Dataset(sys.argv[2], "w") as out:
    out.Conventions = "CF-1.8"
    out.source = f"pysteps.nowcasts.steps (tools/steps_pysteps_export.py, seed {seed})"
    for name, n in [("realization", ens.shape[0]), ("time", N_LEAD), ("y", len(y)), ("x", len(x))]:
        out.createDimension(name, n)
    out.createVariable("realization", "i4", ("realization",))[:] = np.arange(ens.shape[0])
    t = out.createVariable("time", "i8", ("time",))
    t.units, t.standard_name = "seconds since 1970-01-01 00:00:00", "time"
    t[:] = reference + 60 * TIMESTEP_MIN * np.arange(1, N_LEAD + 1)
    r = out.createVariable("forecast_reference_time", "i8", ())
    r.units, r.standard_name = "seconds since 1970-01-01 00:00:00", "forecast_reference_time"
    r[...] = reference
    for name, values, units, standard in [("x", x, xunits, "projection_x_coordinate"), ("y", y, yunits, "projection_y_coordinate")]:
        v = out.createVariable(name, "f8", (name,))
        v.units, v.standard_name = units, standard
        v[:] = values
    f = out.createVariable("lwe_precipitation_rate", "f4", ("realization", "time", "y", "x"), zlib=True, complevel=1, fill_value=np.float32(np.nan),
                           chunksizes=(1, 1, len(y), len(x)))
    f.units, f.standard_name = "mm h-1", "lwe_precipitation_rate"
    f[:] = ens.astype(np.float32)
print("wrote", sys.argv[2], ens.shape)
