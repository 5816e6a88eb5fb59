/// The shape of the samples in a store and how they are stored.
public struct SampleLayout: Codable, Equatable, Sendable {
    /// Input frames per sample.
    public var inputs: Int
    /// Target frames per sample.
    public var targets: Int
    /// Rows per frame.
    public var ny: Int
    /// Columns per frame.
    public var nx: Int
    /// Stored as int16 with this scale and offset (fill -32768), or float32 when nil.
    public var packing: Packing?
    /// Deflate level of the shards.
    public var deflateLevel: Int = 1

    /// int16 packing of transformed values: `value = stored * scale + offset`.
    public struct Packing: Codable, Equatable, Sendable {
        public var scale: Double
        public var offset: Double

        /// Packing covering `minimum...maximum` with the 65534 steps int16 offers besides the fill value.
        public init(minimum: Double, maximum: Double) {
            let span = max(maximum - minimum, 1e-6)
            scale = span / 65_534
            offset = (maximum + minimum) / 2
        }
    }

    public init(inputs: Int, targets: Int, ny: Int, nx: Int, packing: Packing? = nil, deflateLevel: Int = 1) {
        self.inputs = inputs
        self.targets = targets
        self.ny = ny
        self.nx = nx
        self.packing = packing
        self.deflateLevel = deflateLevel
    }

    /// Frames per sample.
    public var length: Int { inputs + targets }
    /// Values per sample.
    public var sampleValues: Int { length * ny * nx }
}
