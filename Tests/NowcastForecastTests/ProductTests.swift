import Foundation
import NowcastCore
import NowcastIO
import NowcastTestSupport
import XCTest

/// The CF product writer: members, statistics, probabilities and metadata, written member by member
/// and atomically.
final class ProductTests: XCTestCase {
    private let grid = Grid(x: [1000, 2000, 3000], y: [5000, 4000], xyUnits: "m",
                            gridMapping: GridMapping(variableName: "crs", attributes: Attributes([
                                ("grid_mapping_name", .text("lambert_azimuthal_equal_area")), ("latitude_of_projection_origin", .double(55)),
                                ("longitude_of_projection_origin", .double(10)), ("false_easting", .double(0)), ("false_northing", .double(0)),
                            ])))
    private let reference = UTCTime.parse("2024-06-01T12:00:00Z") ?? Date()

    private func layout(members: [Int] = [0, 1, 2], leads: Int = 2) -> ForecastProductLayout {
        ForecastProductLayout(grid: grid, quantity: CFQuantity.forField(units: "mm/h", quantity: "RATE"), referenceTime: reference,
                              stepSeconds: 600, leadTimes: leads, realizations: members, thresholds: [0.5, 2],
                              inputTimes: [reference.addingTimeInterval(-600), reference], motion: false,
                              globals: Attributes([("institution", .text("test"))]))
    }

    /// Member m, lead l: pixel i holds m + l + i / 10, with pixel 5 missing in member 0.
    private func field(_ m: Int, _ l: Int) -> [Float] {
        (0..<6).map { m == 0 && $0 == 5 ? .nan : Float(m + l) + Float($0) / 10 }
    }

    private func read(_ path: String, _ name: String) throws -> [Double] { try NetCDFFile(path: path).variable(name).readAllDoubles() }

    func testMembersStatisticsAndProbabilitiesAreWhatTheFieldsSay() throws {
        let path = try temporaryFolder(self) + "/product.nc"
        let writer = try CFProductWriter(path: path, layout: layout())
        // Members arrive in any order; nothing is at the path until finish().
        for m in [2, 0, 1] { for l in 0..<2 { try writer.write(member: m, lead: l, field: field(m, l)) } }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try writer.finish()

        let members = try read(path, "lwe_precipitation_rate")
        XCTAssertEqual(members.count, 3 * 2 * 6)
        XCTAssertEqual(members[(1 * 2 + 1) * 6 + 4], 2.4, accuracy: 1e-6, "member 1, lead 1, pixel 4")
        XCTAssertTrue(members[5].isNaN, "missing stays missing")
        let mean = try read(path, "lwe_precipitation_rate_mean"), spread = try read(path, "lwe_precipitation_rate_standard_deviation")
        // Lead 0, pixel 4: members 0.4, 1.4, 2.4 -> mean 1.4, population std sqrt(2/3).
        XCTAssertEqual(mean[4], 1.4, accuracy: 1e-6)
        XCTAssertEqual(spread[4], (2.0 / 3).squareRoot(), accuracy: 1e-6)
        // Pixel 5 at lead 0: member 0 missing, the others 1.5 and 2.5.
        XCTAssertEqual(mean[5], 2.0, accuracy: 1e-6)
        XCTAssertEqual(spread[5], 0.5, accuracy: 1e-6)
        let probability = try read(path, "probability_of_lwe_precipitation_rate_above_threshold")
        XCTAssertEqual(probability.count, 2 * 2 * 6)
        XCTAssertEqual(probability[0], 2.0 / 3, accuracy: 1e-6, "threshold 0.5, lead 0, pixel 0: 1.0 and 2.0 exceed, 0.0 does not")
        XCTAssertEqual(probability[(1 * 2 + 0) * 6 + 4], 1.0 / 3, accuracy: 1e-6, "threshold 2, lead 0, pixel 4: only 2.4")
        XCTAssertEqual(probability[(1 * 2 + 0) * 6 + 5], 0.5, accuracy: 1e-6, "pixel 5 of two valid members: 2.5 exceeds, 1.5 does not")
        XCTAssertEqual(probability[(0 * 2 + 0) * 6 + 0], 2.0 / 3, accuracy: 1e-6)

        let file = try NetCDFFile(path: path)
        XCTAssertEqual(try read(path, "time"), [reference.timeIntervalSince1970 + 600, reference.timeIntervalSince1970 + 1200])
        XCTAssertEqual(try read(path, "forecast_period"), [600, 1200])
        XCTAssertEqual(try read(path, "forecast_reference_time"), [reference.timeIntervalSince1970])
        XCTAssertEqual(try read(path, "realization"), [0, 1, 2])
        XCTAssertEqual(try read(path, "threshold"), [0.5, 2])
        let globals = try file.root.attributes()
        XCTAssertEqual(globals["Conventions"]?.stringValue, "CF-1.8")
        XCTAssertEqual(globals["institution"]?.stringValue, "test")
        let rate = try file.variable("lwe_precipitation_rate")
        XCTAssertEqual(rate.attributes["standard_name"]?.stringValue, "lwe_precipitation_rate")
        XCTAssertEqual(rate.attributes["units"]?.stringValue, "mm h-1")
        XCTAssertEqual(rate.attributes["grid_mapping"]?.stringValue, "crs")
        XCTAssertEqual(try rate.chunkSizes(), [1, 1, 2, 3], "chunked per member and lead")
        XCTAssertNotNil(try rate.deflateLevel())
        XCTAssertEqual(try file.variable("lwe_precipitation_rate_mean").attributes["cell_methods"]?.stringValue, "realization: mean")
        XCTAssertEqual(try file.variable("lwe_precipitation_rate_standard_deviation").attributes["cell_methods"]?.stringValue,
                       "realization: standard_deviation")
        let threshold = try file.variable("threshold").attributes
        XCTAssertEqual(threshold["spp__relative_to_threshold"]?.stringValue, "greater_than")
        XCTAssertEqual(threshold["standard_name"]?.stringValue, "lwe_precipitation_rate")
        let p = try file.variable("probability_of_lwe_precipitation_rate_above_threshold").attributes
        XCTAssertEqual(p["units"]?.stringValue, "1")
        XCTAssertNil(p["standard_name"])
        XCTAssertEqual(try file.variable("realization").attributes["standard_name"]?.stringValue, "realization")
        XCTAssertEqual(try file.variable("crs").attributes["grid_mapping_name"]?.stringValue, "lambert_azimuthal_equal_area")
    }

    func testAnUnfinishedOrBadProductLeavesNothing() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/product.nc"
        let writer = try CFProductWriter(path: path, layout: layout())
        try writer.write(member: 0, lead: 0, field: field(0, 0))
        assertFails(try writer.finish(), mentions: ["member 0, lead 2", "never written"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [], "no product, no temporary file")

        let second = try CFProductWriter(path: path, layout: layout())
        var infinite = field(1, 0)
        infinite[3] = -.infinity
        assertFails(try second.write(member: 1, lead: 0, field: infinite), mentions: ["member 1, lead 1", "infinite", "row 1, column 0"])
        assertFails(try second.write(member: 1, lead: 0, field: [Float](repeating: .nan, count: 6)), mentions: ["no valid value"])
        assertFails(try second.write(member: 3, lead: 0, field: field(0, 0)), mentions: ["member 3"])
        second.cancel()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }

    func testAProjOnlyGridGetsACFGridMapping() throws {
        var odim = grid
        odim.gridMapping = nil
        odim.projection = "+proj=laea +lat_0=55 +lon_0=10 +x_0=1950000 +y_0=-2100000 +units=m +ellps=WGS84"
        var l = layout(members: [4], leads: 1)
        l.grid = odim
        let path = try temporaryFolder(self) + "/odim.nc"
        let writer = try CFProductWriter(path: path, layout: l)
        try writer.write(member: 0, lead: 0, field: field(1, 0))
        try writer.finish()
        let crs = try NetCDFFile(path: path).variable("crs").attributes
        XCTAssertEqual(crs["grid_mapping_name"]?.stringValue, "lambert_azimuthal_equal_area")
        XCTAssertEqual(crs["false_easting"]?.doubleValue, 1_950_000)
        XCTAssertEqual(crs["false_northing"]?.doubleValue, -2_100_000)
        XCTAssertEqual(crs["semi_major_axis"]?.doubleValue, 6_378_137)
        XCTAssertEqual(try read(path, "realization"), [4], "a member computed alone keeps its number")
    }

    func testQuantitiesAreNamedAsCFNamesThem() {
        XCTAssertEqual(CFQuantity.forField(units: "mm h-1", quantity: "RATE").standardName, "lwe_precipitation_rate")
        XCTAssertEqual(CFQuantity.forField(units: "mm/h", quantity: "rainfall_rate").standardName, "rainfall_rate")
        XCTAssertEqual(CFQuantity.forField(units: "kg m-2", quantity: "precipitation").standardName, "lwe_thickness_of_precipitation_amount")
        XCTAssertEqual(CFQuantity.forField(units: "dBZ", quantity: "DBZH").standardName, "equivalent_reflectivity_factor")
        XCTAssertNil(CFQuantity.forField(units: "furlongs", quantity: "QIND").standardName)
    }
}
