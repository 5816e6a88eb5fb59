import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import NowcastPlot
import XCTest

/// Every kind of plot renders as a valid PNG of the asked size and as a whole SVG document.
final class PlotTests: XCTestCase {
    /// Width and height from a PNG's signature and IHDR chunk; nil when it is not a PNG.
    static func pngSize(_ data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], bytes[12..<16] == [0x49, 0x48, 0x44, 0x52] else { return nil }
        func int(_ k: Int) -> Int { bytes[k..<(k + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (int(16), int(20))
    }

    /// True for a complete SVG document that an XML parser reads.
    static func isSVG(_ data: Data, width: Int, height: Int) -> Bool {
        let text = String(decoding: data, as: UTF8.self)
        guard text.contains("<svg"), text.contains("width=\"\(width)pt\"") || text.contains("width=\"\(width)\""),
              text.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("</svg>") else { return false }
        return XMLParser(data: data).parse()
    }

    private func lines() -> Panel {
        var panel = Panel(title: "CSI, rain > 1 mm/h", xLabel: "lead time (min)", yLabel: "CSI")
        panel.lines = [Panel.Line(name: "model", points: (1...12).map { (Double($0 * 5), exp(-Double($0) / 8)) }, colour: PlotColour.palette[0]),
                       Panel.Line(name: "persistence", points: (1...12).map { (Double($0 * 5), exp(-Double($0) / 4)) }, colour: .grey, dashed: true)]
        panel.yRange = 0...1
        return panel
    }

    func testFiguresRenderAsPNGAndSVG() throws {
        var bars = Panel(title: "rank histogram", xLabel: "rank", yLabel: "frequency")
        let heights: [(x: Double, height: Double)] = (0...20).map { (k: Int) -> (x: Double, height: Double) in
            let h: Double = 1.0 / 21 + Double(k % 3) / 100
            return (Double(k), h)
        }
        bars.bars = [Panel.Bars(name: "model", bars: heights, width: 0.8, colour: PlotColour.palette[1])]
        var logarithmic = lines()
        logarithmic.logarithmicX = true
        logarithmic.xTicks = [1, 4, 16]
        logarithmic.lines[0].points = [(1, 0.3), (4, 0.5), (16, .nan)]
        for figure in [Figure(title: "one panel", panels: [lines()], width: 640, panelHeight: 300),
                       Figure(title: "three panels", panels: [lines(), bars, logarithmic], width: 800, panelHeight: 250, panelWeights: [2, 1, 1])] {
            let height = 36 + figure.panelHeight * figure.panels.count
            let png = try figure.render(.png)
            let size = try XCTUnwrap(Self.pngSize(png), "a PNG")
            XCTAssertEqual([size.width, size.height], [figure.width, height])
            XCTAssertGreaterThan(png.count, 5000, "something drawn")
            XCTAssertTrue(Self.isSVG(try figure.render(.svg), width: figure.width, height: height), figure.title)
        }
    }

    func testAFieldMapHasItsColourBarAndAxes() throws {
        let (ny, nx) = (60, 80)
        let values = (0..<(ny * nx)).map { i -> Float in i % 97 == 0 ? .nan : Float(i % nx) / 4 }
        let map = FieldMap(title: "rain, valid 2024-06-01T00:30:00Z", values: values, ny: ny, nx: nx,
                           x: (0..<nx).map { Double($0) - 40 }, y: (0..<ny).map { 30 - Double($0) }, axisUnits: "km", scale: .rainRate())
        let png = try map.render(.png, size: 400)
        let size = try XCTUnwrap(Self.pngSize(png))
        XCTAssertEqual([size.width, size.height], [70 + 400 + 110, 40 + 300 + 50], "the map keeps the field's aspect ratio")
        let svg = try map.render(.svg, size: 400)
        XCTAssertTrue(Self.isSVG(svg, width: size.width, height: size.height))
        XCTAssertThrowsError(try FieldMap(title: "", values: [1, 2], ny: 2, nx: 2, x: [0, 1], y: [0, 1], axisUnits: "km", scale: .probability).render(.png))
        XCTAssertThrowsError(try map.write(to: NSTemporaryDirectory() + "/map.gif")) { XCTAssertTrue("\($0)".contains(".png or .svg")) }
    }
}
