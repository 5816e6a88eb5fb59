"""Writes the format corpus: one small file per encoding that real radar archives use, and
expected.json with what each file holds (options to read it with, times, units, values, warnings).

Each file is written the way another tool writes it (netCDF4-python, h5py, h5netcdf), so that
the readers meet what they will meet in the wild, not what NowcastKit's own writers produce.
Run through tools/make-format-fixtures.
"""

import json
import os
import sys

import h5netcdf
import h5py
import netCDF4
import numpy as np

NY, NX = 6, 8
FIELD = (np.arange(NY * NX, dtype="f8").reshape(NY, NX) % 7) * 0.5  # 0 .. 3 mm/h
EXPECTED = {}


def expect(name, **what):
    EXPECTED[name] = what


def cf_file(path, fmt="NETCDF4", time=True, strings="default", extra_global=None, coords=True, field=None,
            fill=None, dtype="f4", scalar_time=False):
    """A CF precipitation file: (time, y, x) or (y, x) with x/y coordinates in metres."""
    ds = netCDF4.Dataset(path, "w", format=fmt)
    ds.createDimension("y", NY)
    ds.createDimension("x", NX)
    dims = ("y", "x")
    if time and not scalar_time:
        ds.createDimension("time", 1)
        t = ds.createVariable("time", "f8", ("time",))
        t.standard_name = "time"
        t.units = "minutes since 2021-07-14 00:00:00"
        t[:] = [720.0]
        dims = ("time", "y", "x")
    if coords:
        x = ds.createVariable("x", "f8", ("x",))
        x.units = "m"
        x.standard_name = "projection_x_coordinate"
        x[:] = (np.arange(NX) - NX / 2 + 0.5) * 2000.0
        y = ds.createVariable("y", "f8", ("y",))
        y.units = "m"
        y.standard_name = "projection_y_coordinate"
        y[:] = (NY / 2 - 0.5 - np.arange(NY)) * 2000.0
    kwargs = {} if fill is None else {"fill_value": fill}
    v = ds.createVariable("precipitation", dtype, dims, **kwargs)
    values = FIELD if field is None else field
    v[:] = values.reshape((1, NY, NX) if len(dims) == 3 else (NY, NX))
    text = {"units": "mm h-1", "long_name": "rainfall rate", "standard_name": "rainfall_rate"}
    glob = {"Conventions": "CF-1.8", "title": "NowcastKit format corpus"}
    glob.update(extra_global or {})
    for owner, attrs in ((v, text), (ds, glob)):
        for key, value in attrs.items():
            if strings == "ncstring":
                owner.setncattr_string(key, value)
            else:
                owner.setncattr(key, value)
    ds.close()


def rewrite_strings(path, kind, cset, pad=h5py.h5t.STR_NULLTERM):
    """Rewrites every string attribute of a NetCDF-4 file with one HDF5 string encoding."""
    def retype(obj):
        for key in list(obj.attrs.keys()):
            if key.startswith("_") or key in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"):
                continue
            value = obj.attrs[key]
            if isinstance(value, bytes):
                value = value.decode()
            if not isinstance(value, str):
                continue
            raw = value.encode("utf-8")
            del obj.attrs[key]
            if kind == "vlen":
                obj.attrs.create(key, value, dtype=h5py.string_dtype("utf-8" if cset == "utf8" else "ascii"))
                continue
            tid = h5py.h5t.C_S1.copy()
            tid.set_size(max(1, len(raw) + (1 if pad == h5py.h5t.STR_NULLTERM else 2)))
            tid.set_cset(h5py.h5t.CSET_UTF8 if cset == "utf8" else h5py.h5t.CSET_ASCII)
            tid.set_strpad(pad)
            size = tid.get_size()
            padded = raw + (b" " if pad == h5py.h5t.STR_SPACEPAD else b"\0") * (size - len(raw))
            space = h5py.h5s.create(h5py.h5s.SCALAR)
            attr = h5py.h5a.create(obj.id, key.encode(), tid, space)
            attr.write(np.array(padded, dtype=f"S{size}"), mtype=tid)

    with h5py.File(path, "a") as f:
        retype(f)
        for name in f:
            retype(f[name])


def field_expectation(units="mm h-1", times=("2021-07-14T12:00:00Z",), **more):
    result = {"units": units, "times": list(times), "ny": NY, "nx": NX,
              "values": {"0,0": 0.0, "0,3": 1.5, "5,7": 2.5}, "missing": 0, "non_finite": 0}
    result.update(more)
    return result


def strings(out):
    cf_file(f"{out}/strings-nc4-char.nc")
    expect("strings-nc4-char.nc", **field_expectation(conventions="CF-1.8"))
    cf_file(f"{out}/strings-nc4-ncstring.nc", strings="ncstring")
    expect("strings-nc4-ncstring.nc", **field_expectation(conventions="CF-1.8"))
    cf_file(f"{out}/strings-nc4-ncstring-array.nc")
    with netCDF4.Dataset(f"{out}/strings-nc4-ncstring-array.nc", "a") as ds:
        ds.setncattr_string("Conventions", ["CF-1.8", "ACDD-1.3"])
        ds.variables["precipitation"].setncattr_string("flag_meanings", ["dry", "wet"])
    expect("strings-nc4-ncstring-array.nc", **field_expectation(conventions="CF-1.8"))
    for kind, cset, pad, name in [("fixed", "utf8", h5py.h5t.STR_NULLTERM, "strings-hdf5-fixed-utf8.nc"),
                                  ("fixed", "ascii", h5py.h5t.STR_NULLPAD, "strings-hdf5-fixed-nullpad.nc"),
                                  ("fixed", "ascii", h5py.h5t.STR_SPACEPAD, "strings-hdf5-fixed-spacepad.nc"),
                                  ("vlen", "utf8", None, "strings-hdf5-vlen-utf8.nc"),
                                  ("vlen", "ascii", None, "strings-hdf5-vlen-ascii.nc")]:
        cf_file(f"{out}/{name}")
        rewrite_strings(f"{out}/{name}", kind, cset, pad)
        expect(name, **field_expectation(conventions="CF-1.8"))
    # Non-ASCII text in every kind of attribute: netCDF4-python writes it as NC_STRING.
    cf_file(f"{out}/strings-utf8-text.nc", extra_global={"institution": "Météo Grönland", "comment": "précipitation 5′"})
    expect("strings-utf8-text.nc", **field_expectation(conventions="CF-1.8"))
    cf_file(f"{out}/strings-classic.nc", fmt="NETCDF3_CLASSIC")
    with netCDF4.Dataset(f"{out}/strings-classic.nc", "a") as ds:
        ds.setncattr("institution", "Météo")  # UTF-8 bytes in NC_CHAR
    expect("strings-classic.nc", **field_expectation(conventions="CF-1.8"))
    # A whole file written by h5netcdf (variable-length UTF-8 strings, its own dimension scales).
    with h5netcdf.File(f"{out}/strings-h5netcdf.nc", "w") as f:
        f.dimensions = {"time": 1, "y": NY, "x": NX}
        f.attrs["Conventions"] = "CF-1.8"
        t = f.create_variable("time", ("time",), "f8")
        t.attrs["units"] = "seconds since 1970-01-01T00:00:00Z"
        t[:] = [1626264000.0]
        v = f.create_variable("precipitation", ("time", "y", "x"), "f4", fillvalue=np.float32(-1.0))
        v.attrs["units"] = "mm h-1"
        v.attrs["long_name"] = "rainfall rate"
        v[:] = FIELD.reshape(1, NY, NX)
    expect("strings-h5netcdf.nc", **field_expectation(conventions="CF-1.8"))


def odim_file(path, string_kind="fixed", quantity="RATE", data=None, dtype="u2", gain=0.5, nodata=65535.0):
    """An ODIM_H5 composite written with h5py; `string_kind` picks how its text attributes are stored."""
    def text(group, key, value):
        if string_kind == "vlen":
            group.attrs.create(key, value, dtype=h5py.string_dtype("utf-8"))
        elif string_kind == "nullpad":
            group.attrs[key] = np.bytes_(value)  # h5py: fixed length, NUL-padded, ASCII
        elif string_kind == "array":
            group.attrs[key] = np.array([value.encode()])
        else:
            tid = h5py.h5t.C_S1.copy()
            tid.set_size(len(value) + 1)
            tid.set_strpad(h5py.h5t.STR_NULLTERM)
            attr = h5py.h5a.create(group.id, key.encode(), tid, h5py.h5s.create(h5py.h5s.SCALAR))
            attr.write(np.array(value.encode() + b"\0", dtype=f"S{len(value) + 1}"), mtype=tid)

    with h5py.File(path, "w") as f:
        text(f, "Conventions", "ODIM_H5/V2_3")
        what = f.create_group("what")
        text(what, "object", "COMP")
        text(what, "date", "20210714")
        text(what, "time", "120000")
        where = f.create_group("where")
        text(where, "projdef", "+proj=laea +lat_0=50.5 +lon_0=4.5 +ellps=WGS84 +units=m")
        where.attrs["xsize"] = np.int64(NX)
        where.attrs["ysize"] = np.int64(NY)
        where.attrs["xscale"] = 1000.0
        where.attrs["yscale"] = 1000.0
        where.attrs["UL_lon"] = 4.44
        where.attrs["UL_lat"] = 50.53
        d = f.create_group("dataset1")
        dw = d.create_group("what")
        text(dw, "startdate", "20210714")
        text(dw, "starttime", "115500")
        text(dw, "enddate", "20210714")
        text(dw, "endtime", "120000")
        g = d.create_group("data1")
        gw = g.create_group("what")
        if quantity is not None:
            text(gw, "quantity", quantity)
        gw.attrs["gain"] = gain
        gw.attrs["offset"] = 0.0
        gw.attrs["nodata"] = nodata
        gw.attrs["undetect"] = 0.0
        stored = np.round(FIELD / gain).astype(dtype) if data is None else data
        g.create_dataset("data", data=stored)


def odim(out):
    for kind in ["fixed", "vlen", "nullpad", "array"]:
        name = f"odim-strings-{kind}.h5"
        odim_file(f"{out}/{name}", string_kind=kind)
        expect(name, **field_expectation(format="ODIM_H5/V2_3", quantity="RATE", start="2021-07-14T11:55:00Z"))
    odim_file(f"{out}/odim-no-quantity.h5", quantity=None)
    expect("odim-no-quantity.h5", **field_expectation(units="1", format="ODIM_H5/V2_3", warning="no 'quantity'"))
    # Float data with infinities and a NaN besides the declared nodata: counted, made missing.
    data = (FIELD / 0.5).astype("f8")
    data[0, 1], data[0, 2], data[1, 0] = np.inf, -np.inf, np.nan
    odim_file(f"{out}/odim-float-nonfinite.h5", data=data, dtype="f8", nodata=-9999.0)
    expect("odim-float-nonfinite.h5", **field_expectation(format="ODIM_H5/V2_3", quantity="RATE", missing=3, non_finite=3,
                                                          start="2021-07-14T11:55:00Z"))


def times(out):
    cf_file(f"{out}/time-acdd-coverage.nc", time=False,
            extra_global={"time_coverage_start": "2021-07-14T11:55:00Z", "time_coverage_end": "2021-07-14T12:00:00Z"})
    expect("time-acdd-coverage.nc", **field_expectation(start="2021-07-14T11:55:00Z", time_source="time_coverage_end"))
    cf_file(f"{out}/time-nominal-basic.nc", time=False, extra_global={"nominal_product_time": "20210714T120000Z"})
    expect("time-nominal-basic.nc", **field_expectation(time_source="nominal_product_time"))
    cf_file(f"{out}/time-coverage-offset.nc", time=False,
            extra_global={"time_coverage_end": "2021-07-14T14:00:00+02:00", "date_created": "2021-07-14T12:07:31Z"})
    expect("time-coverage-offset.nc", **field_expectation(time_source="time_coverage_end"))
    cf_file(f"{out}/time-date-created.nc", time=False, extra_global={"date_created": "2021-07-14 12:00:00"})
    expect("time-date-created.nc", **field_expectation(time_source="date_created", warning="date_created"))
    cf_file(f"{out}/time-month-name.nc", time=False, extra_global={"product_datetime_end": "14-JUL-2021;12:00:00.000"})
    expect("time-month-name.nc", **field_expectation(time_source="product_datetime_end"),
           options={"time_attribute": "@product_datetime_end", "time_format": "%d-%b-%Y;%H:%M:%S"})
    cf_file(f"{out}/time-filename_20210714_1200.nc", time=False)
    expect("time-filename_20210714_1200.nc", **field_expectation(), options={"time_from_filename": "%Y%m%d_%H%M"})


def knmi_file(path, dtype, formula, missing, out_of_image, parameter, stored):
    """A KNMI radar HDF5 file: calibration as a formula in a string attribute."""
    with h5py.File(path, "w") as f:
        overview = f.create_group("overview")
        overview.attrs["product_datetime_start"] = np.bytes_("14-JUL-2021;11:55:00.000")
        overview.attrs["product_datetime_end"] = np.bytes_("14-JUL-2021;12:00:00.000")
        overview.attrs["number_image_groups"] = np.array([1], dtype="i4")
        geo = f.create_group("geographic")
        geo.attrs["geo_number_columns"] = np.array([NX], dtype="i4")
        geo.attrs["geo_number_rows"] = np.array([NY], dtype="i4")
        geo.attrs["geo_pixel_size_x"] = np.array([1.0000035], dtype="f4")
        geo.attrs["geo_pixel_size_y"] = np.array([-1.0000048], dtype="f4")
        geo.attrs["geo_column_offset"] = np.array([0.0], dtype="f4")
        geo.attrs["geo_row_offset"] = np.array([3649.982], dtype="f4")
        # Corners as lon/lat: lower left, upper left, upper right, lower right.
        geo.attrs["geo_product_corners"] = np.array([0.0, 49.362, 0.0, 55.974, 10.856, 55.389, 9.009, 48.895], dtype="f8")
        proj = geo.create_group("map_projection")
        proj.attrs["projection_indication"] = np.bytes_("Y")
        proj.attrs["projection_name"] = np.bytes_("STEREOGRAPHIC")
        proj.attrs["projection_proj4_params"] = np.bytes_("+proj=stere +lat_0=90 +lon_0=0.0 +lat_ts=60.0 +a=6378.137 +b=6356.752 +x_0=0 +y_0=0")
        image = f.create_group("image1")
        image.attrs["image_geo_parameter"] = np.bytes_(parameter)
        image.attrs["image_product_name"] = np.bytes_("RAD_NL25_PCP_NA")
        image.create_dataset("image_data", data=stored.astype(dtype))
        calibration = image.create_group("calibration")
        calibration.attrs["calibration_formulas"] = np.bytes_(formula)
        calibration.attrs["calibration_missing_data"] = np.array([missing], dtype="i4")
        calibration.attrs["calibration_out_of_image"] = np.array([out_of_image], dtype="i4")


def layouts(out):
    stored = np.round(FIELD / 0.01).astype("u2")
    stored[5, 0], stored[5, 1] = 65535, 65534
    knmi_file(f"{out}/knmi-accumulation.h5", "u2", "GEO=0.010000*PV+0.000000", 65535, 65534, "PRECIP_[MM]", stored)
    expect("knmi-accumulation.h5", **field_expectation(units="mm", format="HDF5 (KNMI)", missing=2, start="2021-07-14T11:55:00Z",
                                                       projection="+proj=stere", xy_units="km", decoding="GEO=0.010000*PV+0.000000"))
    dbz = np.round((FIELD * 10 + 32) / 0.5).astype("u1")
    dbz[0, 0] = 255
    knmi_file(f"{out}/knmi-reflectivity.h5", "u1", "GEO= 0.5 * PV + -32", 255, 255, "REFLECTIVITY_[DBZ]", dbz)
    values = {"0,3": 15.0, "5,7": 25.0}
    expect("knmi-reflectivity.h5", **field_expectation(units="dBZ", format="HDF5 (KNMI)", missing=1, values=values,
                                                       start="2021-07-14T11:55:00Z"))
    with h5py.File(f"{out}/generic-layout.h5", "w") as f:
        g = f.create_group("precip")
        g.create_dataset("image", data=np.where(FIELD > 0, np.round(FIELD / 0.5), 0).astype("u1"))
        g.attrs["timestamp"] = np.bytes_("202107141200")
    expect("generic-layout.h5", **field_expectation(units="mm h-1", format="HDF5 (generic)"),
           options={"dataset": "/precip/image", "gain": 0.5, "nodata": 255, "time_attribute": "/precip@timestamp",
                    "time_format": "%Y%m%d%H%M", "units": "mm h-1"})
    with h5py.File(f"{out}/generic-raw.h5", "w") as f:
        f.create_dataset("counts", data=np.round(FIELD * 2).astype("u1"))
    expect("generic-raw.h5", **field_expectation(units="1", format="HDF5 (generic)", values={"0,3": 3.0, "5,7": 5.0},
                                                 decoding="raw values, no calibration found", warning="raw values, no calibration found"),
           options={"dataset": "/counts", "time_from_filename": "%Y%m%d%H%M"}, rename="generic-raw_202107141200.h5")


def projections(out):
    geos = "+proj=geos +a=6378137.000000 +b=6356752.300000 +lon_0=0.000000 +h=35785863.000000 +sweep=y"
    cf_file(f"{out}/proj-gdal-geos.nc", extra_global={"gdal_projection": geos, "gdal_xgeo_up_left": -5570248.0,
                                                      "gdal_ygeo_up_left": 5570248.0})
    expect("proj-gdal-geos.nc", **field_expectation(projection="+proj=geos", projection_source="global attribute 'gdal_projection'"))
    cf_file(f"{out}/proj-global-proj4.nc", extra_global={"proj4_string": "+proj=stere +lat_0=90 +lon_0=10 +lat_ts=60 +ellps=WGS84 +units=m"})
    expect("proj-global-proj4.nc", **field_expectation(projection="+proj=stere", projection_source="global attribute 'proj4_string'"))


def values(out):
    field = FIELD.copy()
    field[0, 1], field[0, 2], field[1, 0] = np.inf, -np.inf, np.nan
    cf_file(f"{out}/values-nonfinite.nc", field=field, fill=-9999.0)
    expect("values-nonfinite.nc", **field_expectation(missing=3, non_finite=3))
    field = FIELD.copy()
    field[1, 0] = np.nan
    cf_file(f"{out}/values-nan-fill.nc", field=field, fill=np.nan)
    expect("values-nan-fill.nc", **field_expectation(missing=1, non_finite=0))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.remove(os.path.join(out, name))
    for part in (strings, odim, times, layouts, projections, values):
        part(out)
    for name, what in list(EXPECTED.items()):
        if "rename" in what:
            os.rename(f"{out}/{name}", f"{out}/{what['rename']}")
            EXPECTED[what.pop("rename")] = EXPECTED.pop(name)
    with open(f"{out}/expected.json", "w") as f:
        json.dump(EXPECTED, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
