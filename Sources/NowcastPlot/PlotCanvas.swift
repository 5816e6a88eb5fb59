import CCairo
import Foundation

/// Where a plot goes: PNG (a raster, cairo's image surface) or SVG (vectors, cairo's SVG surface).
public enum PlotFormat: String, Sendable, CaseIterable {
    case png, svg

    /// The format a file name's extension asks for, nil for others.
    public init?(path: String) { self.init(rawValue: (path as NSString).pathExtension.lowercased()) }
}

/// A colour as red, green, blue and alpha from 0 to 1.
public struct PlotColour: Equatable, Sendable {
    public var red: Double, green: Double, blue: Double, alpha: Double

    public init(_ red: Double, _ green: Double, _ blue: Double, alpha: Double = 1) {
        (self.red, self.green, self.blue, self.alpha) = (red, green, blue, alpha)
    }

    /// `#rrggbb`.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(Double((hex >> 16) & 0xff) / 255, Double((hex >> 8) & 0xff) / 255, Double(hex & 0xff) / 255, alpha: alpha)
    }

    public static let black = PlotColour(0, 0, 0), white = PlotColour(1, 1, 1), grey = PlotColour(hex: 0x888888)
    /// Distinct line colours (matplotlib's tab10), used in order.
    public static let palette: [PlotColour] = [0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf]
        .map { PlotColour(hex: $0) }
}

/// Drawing through cairo onto a PNG or SVG surface, in points from the top-left corner; `finish`
/// gives the file's bytes. Text uses the DejaVu Sans font (fontconfig finds it; another sans-serif
/// face stands in where it is missing).
final class PlotCanvas {
    let width: Double, height: Double
    let format: PlotFormat
    private let surface: OpaquePointer
    let context: OpaquePointer
    private let output: Output

    /// Bytes the SVG surface streams out.
    private final class Output { var data = Data() }

    init(format: PlotFormat, width: Int, height: Int) throws {
        (self.format, self.width, self.height) = (format, Double(width), Double(height))
        output = Output()
        switch format {
        case .png:
            surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))
        case .svg:
            surface = cairo_svg_surface_create_for_stream({ closure, bytes, length in
                guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
                Unmanaged<Output>.fromOpaque(closure).takeUnretainedValue().data.append(bytes, count: Int(length))
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(output).toOpaque(), Double(width), Double(height))
        }
        context = cairo_create(surface)
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, cairo_status(context) == CAIRO_STATUS_SUCCESS else {
            cairo_destroy(context)
            cairo_surface_destroy(surface)
            throw PlotError("cairo could not make a \(width) x \(height) \(format.rawValue) surface")
        }
        cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        fill(rectangle: (0, 0, self.width, self.height), PlotColour.white)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    /// The finished file.
    func finish() throws -> Data {
        cairo_surface_flush(surface)
        switch format {
        case .png:
            let status = cairo_surface_write_to_png_stream(surface, { closure, bytes, length in
                guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
                Unmanaged<Output>.fromOpaque(closure).takeUnretainedValue().data.append(bytes, count: Int(length))
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(output).toOpaque())
            guard status == CAIRO_STATUS_SUCCESS else { throw PlotError("cairo could not encode the PNG: \(String(cString: cairo_status_to_string(status)))") }
        case .svg:
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            guard status == CAIRO_STATUS_SUCCESS else { throw PlotError("cairo could not write the SVG: \(String(cString: cairo_status_to_string(status)))") }
        }
        return output.data
    }

    // MARK: - Drawing

    func set(_ colour: PlotColour) { cairo_set_source_rgba(context, colour.red, colour.green, colour.blue, colour.alpha) }

    func fill(rectangle r: (x: Double, y: Double, width: Double, height: Double), _ colour: PlotColour) {
        set(colour)
        cairo_rectangle(context, r.x, r.y, r.width, r.height)
        cairo_fill(context)
    }

    func stroke(rectangle r: (x: Double, y: Double, width: Double, height: Double), _ colour: PlotColour, width: Double = 1) {
        set(colour)
        cairo_set_line_width(context, width)
        cairo_rectangle(context, r.x, r.y, r.width, r.height)
        cairo_stroke(context)
    }

    /// A line through `points`; breaks where a point is not finite.
    func polyline(_ points: [(Double, Double)], _ colour: PlotColour, width: Double = 1.5, dashed: Bool = false) {
        set(colour)
        cairo_set_line_width(context, width)
        var dashes: [Double] = dashed ? [6, 4] : []
        cairo_set_dash(context, &dashes, Int32(dashes.count), 0)
        var drawing = false
        for (x, y) in points {
            guard x.isFinite, y.isFinite else { drawing = false; continue }
            if drawing { cairo_line_to(context, x, y) } else { cairo_move_to(context, x, y) }
            drawing = true
        }
        cairo_stroke(context)
        cairo_set_dash(context, nil, 0, 0)
    }

    func circle(_ x: Double, _ y: Double, radius: Double, _ colour: PlotColour) {
        guard x.isFinite, y.isFinite else { return }
        set(colour)
        cairo_arc(context, x, y, radius, 0, 2 * Double.pi)
        cairo_fill(context)
    }

    enum Anchor { case start, middle, end }

    /// Text with its baseline at `y`, anchored at `x`; rotated a quarter turn anticlockwise when `vertical`.
    func text(_ string: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start, vertical: Bool = false,
              colour: PlotColour = .black, bold: Bool = false) {
        cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, string, &extents)
        let shift = anchor == .start ? 0 : anchor == .middle ? extents.x_advance / 2 : extents.x_advance
        set(colour)
        cairo_save(context)
        cairo_translate(context, x, y)
        if vertical { cairo_rotate(context, -Double.pi / 2) }
        cairo_move_to(context, -shift, 0)
        cairo_show_text(context, string)
        cairo_restore(context)
    }

    /// Width of `string` at `size`.
    func textWidth(_ string: String, size: Double = 12) -> Double {
        cairo_set_font_size(context, size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, string, &extents)
        return extents.x_advance
    }

    /// An `ny` x `nx` raster of colours (row 0 at the top) scaled into `r` without smoothing.
    func image(_ pixels: [PlotColour], ny: Int, nx: Int, in r: (x: Double, y: Double, width: Double, height: Double)) {
        guard ny > 0, nx > 0, pixels.count == ny * nx else { return }
        let raster = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(nx), Int32(ny))
        defer { cairo_surface_destroy(raster) }
        cairo_surface_flush(raster)
        let stride = Int(cairo_image_surface_get_stride(raster))
        guard let base = cairo_image_surface_get_data(raster) else { return }
        for row in 0..<ny {
            let line = UnsafeMutableRawPointer(base + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<nx {
                let c = pixels[row * nx + column]
                // Premultiplied ARGB, native byte order.
                let a = max(0, min(1, c.alpha))
                func channel(_ v: Double) -> UInt32 { UInt32((max(0, min(1, v)) * a * 255).rounded()) }
                line[column] = (UInt32((a * 255).rounded()) << 24) | (channel(c.red) << 16) | (channel(c.green) << 8) | channel(c.blue)
            }
        }
        cairo_surface_mark_dirty(raster)
        cairo_save(context)
        cairo_translate(context, r.x, r.y)
        cairo_scale(context, r.width / Double(nx), r.height / Double(ny))
        cairo_set_source_surface(context, raster, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_NEAREST)
        cairo_rectangle(context, 0, 0, Double(nx), Double(ny))
        cairo_fill(context)
        cairo_restore(context)
    }
}

/// A plot that cannot be made.
public struct PlotError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
