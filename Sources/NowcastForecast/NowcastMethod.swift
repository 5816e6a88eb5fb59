/// One way of making a forecast's ensemble members from the latest observations: persistence,
/// extrapolation along the estimated motion, or a trained model. Each holds its inputs; fields come
/// out in physical units, one lead time at a time.
public protocol NowcastMethod {
    /// What the product's `source` attribute and the terminal call it, e.g. `extrapolation (dense Lucas-Kanade)`.
    var name: String { get }
    /// The most members it can make, nil when any number (each from its own seed).
    var memberLimit: Int? { get }
    /// Member `member`'s forecast, `leads` fields handed to `lead` in order (lead index from 0).
    func forecast(member: Int, leads: Int, lead: (_ index: Int, _ field: [Float]) throws -> Void) throws
    /// True when members may be computed on several threads at once (the method runs on one core
    /// per member); false when each member already uses every core (a trained model).
    var computesMembersConcurrently: Bool { get }
}

extension NowcastMethod {
    public var computesMembersConcurrently: Bool { false }
}
