/// The last observation held for every lead time: one member.
public struct PersistenceNowcast: NowcastMethod {
    public let last: [Float]
    public var name: String { "persistence" }
    public var memberLimit: Int? { 1 }

    public init(last: [Float]) { self.last = last }

    public func forecast(member: Int, leads: Int, lead: (Int, [Float]) throws -> Void) throws {
        for index in 0..<leads { try lead(index, last) }
    }
}
