/// Translation of CF grid mappings to PROJ definitions, for the mappings radar composites use.
enum CFGridMapping {
    /// A number as PROJ should get it: integral values without a fraction, others to full precision.
    static func exact(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    /// A PROJ definition for a CF grid mapping, or nil when the mapping is not one of those known.
    /// An explicit `proj4`/`proj4text`/`proj4_params`/`proj_params` attribute wins.
    static func projString(_ mapping: Attributes, xyUnits: String) -> String? {
        for key in ["proj4", "proj4text", "proj4_params", "proj_params"] {
            if let text = mapping[key]?.stringValue, text.contains("+proj") { return text }
        }
        guard let name = mapping["grid_mapping_name"]?.stringValue else { return nil }
        func value(_ key: String) -> Double? { mapping[key]?.doubleValue }
        func values(_ key: String) -> [Double] { mapping[key]?.doubles ?? [] }
        var parts: [String]
        switch name {
        case "albers_conical_equal_area", "lambert_conformal_conic":
            let sp = values("standard_parallel")
            parts = [name == "albers_conical_equal_area" ? "+proj=aea" : "+proj=lcc"]
            if let first = sp.first { parts.append("+lat_1=\(exact(first))") }
            parts.append("+lat_2=\(exact(sp.count > 1 ? sp[1] : sp.first ?? 0))")
            parts.append("+lat_0=\(exact(value("latitude_of_projection_origin") ?? 0))")
            parts.append("+lon_0=\(exact(value("longitude_of_central_meridian") ?? 0))")
        case "lambert_azimuthal_equal_area":
            parts = ["+proj=laea", "+lat_0=\(exact(value("latitude_of_projection_origin") ?? 0))",
                     "+lon_0=\(exact(value("longitude_of_projection_origin") ?? 0))"]
        case "polar_stereographic":
            let lat0 = value("latitude_of_projection_origin") ?? 90
            parts = ["+proj=stere", "+lat_0=\(exact(lat0))",
                     "+lon_0=\(exact(value("straight_vertical_longitude_from_pole") ?? value("longitude_of_projection_origin") ?? 0))"]
            if let ts = value("standard_parallel") { parts.append("+lat_ts=\(exact(ts))") }
            if let k = value("scale_factor_at_projection_origin") { parts.append("+k_0=\(exact(k))") }
        case "stereographic":
            parts = ["+proj=stere", "+lat_0=\(exact(value("latitude_of_projection_origin") ?? 0))",
                     "+lon_0=\(exact(value("longitude_of_projection_origin") ?? 0))",
                     "+k_0=\(exact(value("scale_factor_at_projection_origin") ?? 1))"]
        case "transverse_mercator":
            parts = ["+proj=tmerc", "+lat_0=\(exact(value("latitude_of_projection_origin") ?? 0))",
                     "+lon_0=\(exact(value("longitude_of_central_meridian") ?? 0))",
                     "+k_0=\(exact(value("scale_factor_at_central_meridian") ?? 1))"]
        case "latitude_longitude":
            parts = ["+proj=longlat"]
        default:
            return nil
        }
        if name != "latitude_longitude" {
            parts.append("+x_0=\(exact(value("false_easting") ?? 0))")
            parts.append("+y_0=\(exact(value("false_northing") ?? 0))")
        }
        if let a = value("semi_major_axis") {
            parts.append("+a=\(exact(a))")
            if let b = value("semi_minor_axis") { parts.append("+b=\(exact(b))") }
            else if let rf = value("inverse_flattening") { parts.append("+rf=\(exact(rf))") }
        } else if let r = value("earth_radius") {
            parts.append("+R=\(exact(r))")
        } else {
            parts.append("+ellps=WGS84")
        }
        if name != "latitude_longitude" { parts.append("+units=\(xyUnits == "km" ? "km" : "m")") }
        return parts.joined(separator: " ")
    }
}

extension CFGridMapping {
    /// A CF grid mapping for a PROJ definition (ODIM's `where/projdef`), for the projections radar
    /// composites use; nil for others. The definition itself is kept in `proj4_params`.
    static func mapping(fromProj definition: String) -> GridMapping? {
        var p: [String: String] = [:]
        for part in definition.split(separator: " ") where part.hasPrefix("+") {
            let pair = part.dropFirst().split(separator: "=", maxSplits: 1)
            p[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
        }
        func number(_ key: String, _ fallback: Double? = nil) -> Double? { p[key].flatMap(Double.init) ?? fallback }
        var entries: [(name: String, value: AttributeValue)]
        switch p["proj"] {
        case "laea":
            entries = [("grid_mapping_name", .text("lambert_azimuthal_equal_area")),
                       ("latitude_of_projection_origin", .double(number("lat_0", 0)!)),
                       ("longitude_of_projection_origin", .double(number("lon_0", 0)!))]
        case "aea", "lcc":
            let parallels = [number("lat_1"), number("lat_2")].compactMap { $0 }
            entries = [("grid_mapping_name", .text(p["proj"] == "aea" ? "albers_conical_equal_area" : "lambert_conformal_conic")),
                       ("standard_parallel", .numbers(.float64, parallels.isEmpty ? [0] : parallels)),
                       ("latitude_of_projection_origin", .double(number("lat_0", 0)!)),
                       ("longitude_of_central_meridian", .double(number("lon_0", 0)!))]
        case "stere":
            let lat0 = number("lat_0", 90)!
            entries = abs(abs(lat0) - 90) < 1e-9
                ? [("grid_mapping_name", .text("polar_stereographic")), ("latitude_of_projection_origin", .double(lat0)),
                   ("straight_vertical_longitude_from_pole", .double(number("lon_0", 0)!))]
                    + (number("lat_ts").map { [("standard_parallel", AttributeValue.double($0))] } ?? [("scale_factor_at_projection_origin", .double(number("k_0", number("k", 1))!))])
                : [("grid_mapping_name", .text("stereographic")), ("latitude_of_projection_origin", .double(lat0)),
                   ("longitude_of_projection_origin", .double(number("lon_0", 0)!)),
                   ("scale_factor_at_projection_origin", .double(number("k_0", number("k", 1))!))]
        case "tmerc":
            entries = [("grid_mapping_name", .text("transverse_mercator")),
                       ("latitude_of_projection_origin", .double(number("lat_0", 0)!)),
                       ("longitude_of_central_meridian", .double(number("lon_0", 0)!)),
                       ("scale_factor_at_central_meridian", .double(number("k_0", number("k", 1))!))]
        default:
            return nil
        }
        entries += [("false_easting", .double(number("x_0", 0)!)), ("false_northing", .double(number("y_0", 0)!))]
        if let a = number("a") {
            entries.append(("semi_major_axis", .double(a)))
            if let b = number("b") { entries.append(("semi_minor_axis", .double(b))) }
            else if let rf = number("rf") { entries.append(("inverse_flattening", .double(rf))) }
        } else if let r = number("R") {
            entries.append(("earth_radius", .double(r)))
        } else if p["ellps"] == "WGS84" || p["datum"] == "WGS84" || p["ellps"] == nil {
            entries += [("semi_major_axis", .double(6_378_137)), ("inverse_flattening", .double(298.257223563))]
        } else {
            return nil
        }
        entries.append(("proj4_params", .text(definition)))
        return GridMapping(variableName: "crs", attributes: Attributes(entries))
    }
}
