import Foundation
import NowcastCore

/// Writes one rain-rate field as an ODIM_H5 V2.4 composite (`COMP` object): `/dataset1/data1/data`
/// as uint16 with gain `gain`, nodata 65535 and undetect 0, deflated; `what`, `where` (`projdef`,
/// sizes, scales and the four corners in longitude/latitude) and `how` groups. Written atomically;
/// the ODIM reader decodes it back to the values rounded to `gain`.
public enum ODIMRainRateWriter {
    /// The composite's place: its PROJ definition, size and cell size in metres (the grid centred
    /// on the projection's origin, row 0 at the north).
    public struct Geometry: Sendable {
        public var projection: String
        public var ny: Int
        public var nx: Int
        public var cellSize: Double

        public init(projection: String, ny: Int, nx: Int, cellSize: Double) {
            (self.projection, self.ny, self.nx, self.cellSize) = (projection, ny, nx, cellSize)
        }
    }

    /// Writes `values` (`ny * nx` rates in mm/h, NaN missing) of the period `start`...`time` to `path`;
    /// `software` goes into `how`.
    public static func write(_ values: [Float], geometry: Geometry, time: Date, start: Date, to path: String, gain: Double,
                             deflateLevel: Int, software: String) throws {
        let projection = try Projection(geometry.projection)
        let halfX = Double(geometry.nx) / 2 * geometry.cellSize, halfY = Double(geometry.ny) / 2 * geometry.cellSize
        func corner(_ x: Double, _ y: Double) throws -> (Double, Double) {
            let c = try projection.inverse(x: x, y: y)
            return (c.longitude, c.latitude)
        }
        let (ulLon, ulLat) = try corner(-halfX, halfY), (urLon, urLat) = try corner(halfX, halfY)
        let (llLon, llLat) = try corner(-halfX, -halfY), (lrLon, lrLat) = try corner(halfX, -halfY)
        let stamp = UTCTime.iso8601(time).filter(\.isNumber)
        let day = String(stamp.prefix(8)), clock = String(stamp.dropFirst(8).prefix(6))
        let startStamp = UTCTime.iso8601(start).filter(\.isNumber)
        let writer = try HDF5Writer(path: path)
        try writer.setAttributes(Attributes([("Conventions", .text("ODIM_H5/V2_4"))]), on: "/")
        for group in ["/what", "/where", "/how", "/dataset1", "/dataset1/what", "/dataset1/data1", "/dataset1/data1/what"] {
            try writer.createGroup(group)
        }
        try writer.setAttributes(Attributes([
            ("object", .text("COMP")), ("version", .text("H5rad 2.4")), ("date", .text(day)), ("time", .text(clock)),
            ("source", .text("ORG:NowcastKit")),
        ]), on: "/what")
        try writer.setAttributes(Attributes([
            ("projdef", .text(geometry.projection)), ("xsize", .int(geometry.nx)), ("ysize", .int(geometry.ny)),
            ("xscale", .double(geometry.cellSize)), ("yscale", .double(geometry.cellSize)),
            ("UL_lon", .double(ulLon)), ("UL_lat", .double(ulLat)), ("UR_lon", .double(urLon)), ("UR_lat", .double(urLat)),
            ("LL_lon", .double(llLon)), ("LL_lat", .double(llLat)), ("LR_lon", .double(lrLon)), ("LR_lat", .double(lrLat)),
        ]), on: "/where")
        try writer.setAttributes(Attributes([("software", .text(software))]), on: "/how")
        try writer.setAttributes(Attributes([
            ("product", .text("COMP")), ("startdate", .text(String(startStamp.prefix(8)))),
            ("starttime", .text(String(startStamp.dropFirst(8).prefix(6)))), ("enddate", .text(day)), ("endtime", .text(clock)),
        ]), on: "/dataset1/what")
        try writer.setAttributes(Attributes([
            ("quantity", .text("RATE")), ("gain", .double(gain)), ("offset", .double(0)),
            ("nodata", .double(65535)), ("undetect", .double(0)),
        ]), on: "/dataset1/data1/what")
        try writer.writeDataset("/dataset1/data1/data", values: values.map { UInt16(packedRate($0, step: gain, missing: 65535, limit: 65534)) },
                                shape: [geometry.ny, geometry.nx], storedAs: .uint16, chunks: [geometry.ny, geometry.nx], deflateLevel: deflateLevel)
        try writer.setAttributes(Attributes([("CLASS", .text("IMAGE")), ("IMAGE_VERSION", .text("1.2"))]), on: "/dataset1/data1/data")
        try writer.finish()
    }
}
