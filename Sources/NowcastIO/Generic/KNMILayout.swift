import Foundation

/// Recognises the radar HDF5 files of KNMI (the Royal Netherlands Meteorological Institute) and
/// their layout: `/image1/image_data`, calibrated by the formula in `/image1/calibration`
/// (`calibration_formulas = "GEO=0.010000*PV+0.000000"`, with `calibration_missing_data` and
/// `calibration_out_of_image` as missing), the quantity and units from `image_geo_parameter`
/// (`PRECIP_[MM]`, `REFLECTIVITY_[DBZ]`), the period from `/overview` (`product_datetime_start`,
/// `product_datetime_end`, e.g. `26-AUG-2010;00:00:00.000`), and the grid from `/geographic`
/// (`geo_product_corners`, `geo_pixel_size_x/y` and the PROJ definition in `map_projection`).
public enum KNMILayout {
    /// The layout of `file`, or nil when the file is not one of KNMI's. A KNMI file whose
    /// attributes cannot be used is an error naming the attribute.
    public static func detect(_ file: HDF5File) throws -> HDF5Layout? {
        let path = file.path
        guard file.exists("/image1/image_data"), file.exists("/image1/calibration"),
              let formula = try file.attributes(of: "/image1/calibration")["calibration_formulas"] else { return nil }
        let calibrationAttributes = try file.attributes(of: "/image1/calibration")
        guard let text = formula.stringValue, let (gain, offset) = parseFormula(text) else {
            throw NowcastIOError.badAttribute(path: path, object: "/image1/calibration", attribute: "calibration_formulas",
                                              expected: "a formula GEO=A*PV+B (found \(formula.rendered))")
        }
        let calibration = Calibration(gain: gain, offset: offset, nodata: calibrationAttributes["calibration_missing_data"]?.doubleValue,
                                      outside: calibrationAttributes["calibration_out_of_image"]?.doubleValue)
        let shape = try file.datasetInfo("/image1/image_data").shape
        let geographic = file.exists("/geographic") ? try file.attributes(of: "/geographic") : Attributes()
        for (name, axis) in [("geo_number_rows", 0), ("geo_number_columns", 1)] {
            guard let value = geographic[name]?.doubleValue else { continue }
            guard shape.count == 2, Double(shape[axis]) == value else {
                throw NowcastIOError.unexpectedShape(path: path, variable: "/image1/image_data",
                                                     expected: "\(formatNumber(value)) \(axis == 0 ? "rows" : "columns") as /geographic \(name) says",
                                                     found: "shape \(shape)")
            }
        }
        let image = try file.attributes(of: "/image1")
        let (quantity, units) = parameter(image["image_geo_parameter"]?.stringValue ?? "")
        let pattern = try TimePattern("%d-%b-%Y;%H:%M:%S")
        let overview = file.exists("/overview") ? try file.attributes(of: "/overview") : Attributes()
        let end = try AttributeReference("/overview@product_datetime_end")
        let start = overview["product_datetime_start"] == nil ? nil : try AttributeReference("/overview@product_datetime_start")
        return HDF5Layout(formatName: "HDF5 (KNMI)", dataset: "/image1/image_data", calibration: calibration,
                          calibrationSource: "\(text.trimmingCharacters(in: .whitespaces)) (/image1/calibration); \(calibration.summary)",
                          units: units, quantity: quantity, time: .attribute(end, format: pattern),
                          start: start.map { .attribute($0, format: pattern) }, grid: try grid(file))
    }

    /// `GEO=A*PV+B` (spaces anywhere, `+-B` or `-B`) as (gain A, offset B).
    public static func parseFormula(_ text: String) -> (Double, Double)? {
        let compact = text.filter { !$0.isWhitespace }.uppercased()
        guard compact.hasPrefix("GEO="), let times = compact.range(of: "*PV") else { return nil }
        let gainText = compact[compact.index(compact.startIndex, offsetBy: 4)..<times.lowerBound]
        var offsetText = String(compact[times.upperBound...])
        if offsetText.hasPrefix("+") { offsetText.removeFirst() }
        guard let gain = Double(gainText), let offset = offsetText.isEmpty ? 0 : Double(offsetText), gain.isFinite, offset.isFinite else {
            return nil
        }
        return (gain, offset)
    }

    /// Quantity and units of `PRECIP_[MM]`, `REFLECTIVITY_[DBZ]` and the like.
    static func parameter(_ text: String) -> (quantity: String, units: String) {
        let upper = text.uppercased()
        let bracket = upper.split(separator: "[").dropFirst().first.map { $0.prefix { $0 != "]" } }.map(String.init) ?? ""
        let units: String
        switch bracket {
        case "MM": units = "mm"
        case "MM/H", "MM/HR", "MMH-1": units = "mm h-1"
        case "DBZ": units = "dBZ"
        case "": units = "1"
        default: units = bracket.lowercased()
        }
        if upper.hasPrefix("REFLECTIVITY") { return ("DBZH", units) }
        if upper.hasPrefix("PRECIP") { return (units == "mm h-1" ? "RATE" : "ACRR", units) }
        return (text.isEmpty ? "image_data" : text, units)
    }

    private static func grid(_ file: HDF5File) throws -> HDF5Layout.CornerGrid? {
        guard file.exists("/geographic/map_projection") else { return nil }
        let path = file.path
        let geographic = try file.attributes(of: "/geographic")
        let projection = try file.attributes(of: "/geographic/map_projection")
        guard let definition = projection["projection_proj4_params"]?.stringValue, definition.contains("+proj") else { return nil }
        guard let corners = geographic["geo_product_corners"]?.doubles, corners.count == 8, corners.allSatisfy(\.isFinite) else {
            throw NowcastIOError.badAttribute(path: path, object: "/geographic", attribute: "geo_product_corners",
                                              expected: "8 numbers: longitude and latitude of the lower-left, upper-left, upper-right and lower-right corners")
        }
        guard let dx = geographic["geo_pixel_size_x"]?.doubleValue, let dy = geographic["geo_pixel_size_y"]?.doubleValue,
              dx.isFinite, dy.isFinite, dx != 0, dy != 0 else {
            throw NowcastIOError.badAttribute(path: path, object: "/geographic", attribute: "geo_pixel_size_x/y", expected: "non-zero cell sizes")
        }
        // KNMI's definitions give the ellipsoid in kilometres (+a=6378.137): coordinates are km.
        let semiMajor = definition.split(separator: " ").first { $0.hasPrefix("+a=") }.flatMap { Double($0.dropFirst(3)) }
        let units = definition.contains("+units=km") || (semiMajor.map { $0 < 10_000 } ?? false) ? "km" : "m"
        return HDF5Layout.CornerGrid(projection: definition.trimmingCharacters(in: .whitespaces),
                                     projectionSource: "/geographic/map_projection projection_proj4_params",
                                     upperLeft: (corners[2], corners[3]), cellWidth: abs(dx), cellHeight: abs(dy), xyUnits: units)
    }
}
