import Foundation

/// The minimum size of a NetCDF classic (CDF-1), 64-bit offset (CDF-2) or 64-bit data (CDF-5) file,
/// from its header. netCDF-C reads a truncated classic file without complaint and returns zeros for
/// the missing bytes, which look like valid "no rain"; the reader checks the size against this first.
enum ClassicLayout {
    /// Bytes the file must have to hold all its variables' data, or nil if the header cannot be parsed
    /// (netCDF-C then reports the damage itself). Reads only as much of the file as the header needs.
    static func requiredSize(path: String) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var prefix = 1 << 16
        while true {
            try? handle.seek(toOffset: 0)
            let data = (try? handle.read(upToCount: prefix)) ?? Data()
            var parser = Parser(bytes: [UInt8](data))
            if let size = try? parser.requiredSize() { return size }
            // The header may be longer than what was read; give up once the whole file was read.
            guard data.count == prefix, prefix < 1 << 28 else { return nil }
            prefix *= 16
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0
        var version = 1

        init(bytes: [UInt8]) { self.bytes = bytes }

        struct Truncated: Error {}

        mutating func int32() throws -> Int {
            guard position + 4 <= bytes.count else { throw Truncated() }
            let value = bytes[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
            position += 4
            return value
        }

        mutating func int64() throws -> Int {
            guard position + 8 <= bytes.count else { throw Truncated() }
            let value = bytes[position..<(position + 8)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            position += 8
            guard value <= UInt64(Int.max) else { throw Truncated() }
            return Int(value)
        }

        /// A count: 32 bits in CDF-1/2, 64 bits in CDF-5.
        mutating func count() throws -> Int { version == 5 ? try int64() : try int32() }

        mutating func skipName() throws {
            let length = try count()
            position += (length + 3) / 4 * 4
        }

        static func typeSize(_ type: Int) throws -> Int {
            switch type {
            case 1, 2, 7: return 1
            case 3, 8: return 2
            case 4, 5, 9: return 4
            case 6, 10, 11: return 8
            default: throw Truncated()
            }
        }

        mutating func skipAttributes() throws {
            _ = try int32()  // tag (NC_ATTRIBUTE or ABSENT)
            let n = try count()
            for _ in 0..<n {
                try skipName()
                let size = try Self.typeSize(try int32())
                let values = try count()
                position += (values * size + 3) / 4 * 4
            }
        }

        mutating func requiredSize() throws -> Int {
            guard bytes.count >= 4, bytes[0] == 0x43, bytes[1] == 0x44, bytes[2] == 0x46 else { throw Truncated() }
            version = Int(bytes[3])
            position = 4
            let records = try count()
            let recordCount = records == 0xFFFF_FFFF ? 0 : records  // streaming: unknown, assume none
            _ = try int32()  // NC_DIMENSION or ABSENT
            var dimensions: [Int] = []
            for _ in 0..<(try count()) {
                try skipName()
                dimensions.append(try count())
            }
            try skipAttributes()
            _ = try int32()  // NC_VARIABLE or ABSENT
            var variables: [(begin: Int, bytes: Int, isRecord: Bool)] = []
            for _ in 0..<(try count()) {
                try skipName()
                let dimids = try (0..<(try count())).map { _ in try count() }
                try skipAttributes()
                let size = try Self.typeSize(try int32())
                _ = try count()  // vsize, unreliable above 4 GiB
                let begin = version == 1 ? try int32() : try int64()
                guard dimids.allSatisfy({ $0 >= 0 && $0 < dimensions.count }) else { throw Truncated() }
                let isRecord = dimids.first.map { dimensions[$0] == 0 } ?? false
                let lengths = dimids.map { dimensions[$0] }.dropFirst(isRecord ? 1 : 0)
                variables.append((begin, lengths.reduce(size, *), isRecord))
            }
            let recordVariables = variables.filter(\.isRecord)
            // Each record holds every record variable, padded to 4 bytes unless there is only one.
            let recordSize = recordVariables.count == 1 ? recordVariables[0].bytes
                : recordVariables.reduce(0) { $0 + ($1.bytes + 3) / 4 * 4 }
            return variables.reduce(position) { end, v in
                let last = v.isRecord ? (recordCount > 0 ? v.begin + (recordCount - 1) * recordSize + v.bytes : 0) : v.begin + v.bytes
                return max(end, last)
            }
        }
    }
}
