import CDeflate

/// Decoding of HDF5 chunks written with the deflate and shuffle filters, done by the toolkit itself
/// so that it runs outside the HDF5 lock, on several cores, with libdeflate (which decodes the same
/// zlib streams about twice as fast as zlib).
enum ChunkCodec {
    /// Inflates a zlib stream into `output`, which must hold exactly the uncompressed size.
    static func inflate(_ compressed: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard let decompressor = libdeflate_alloc_decompressor() else { return false }
        defer { libdeflate_free_decompressor(decompressor) }
        var written = 0
        let result = libdeflate_zlib_decompress(decompressor, compressed.baseAddress, compressed.count,
                                                output.baseAddress, output.count, &written)
        return result == LIBDEFLATE_SUCCESS && written == output.count
    }

    /// Compresses `input` as a zlib stream (what HDF5's deflate filter stores) at `level` (1-12;
    /// libdeflate's 1-9 match zlib's). Returns nil if the output would not fit `output`.
    static func deflate(_ input: UnsafeRawBufferPointer, level: Int, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let compressor = libdeflate_alloc_compressor(Int32(max(1, min(12, level)))) else { return nil }
        defer { libdeflate_free_compressor(compressor) }
        let written = libdeflate_zlib_compress(compressor, input.baseAddress, input.count, output.baseAddress, output.count)
        return written > 0 ? written : nil
    }

    /// The largest zlib stream `deflate` can produce for `count` bytes.
    static func deflateBound(_ count: Int) -> Int { count + count / 8 + 1024 }

    /// HDF5's byte shuffle: byte 0 of every element, then byte 1, ...; the inverse of `unshuffle`.
    static func shuffle(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, elementSize: Int) {
        let count = input.count / elementSize
        for element in 0..<count {
            for byte in 0..<elementSize { output[byte * count + element] = input[element * elementSize + byte] }
        }
        for i in (count * elementSize)..<input.count { output[i] = input[i] }
    }

    /// Undoes HDF5's byte shuffle: the input holds byte 0 of every element, then byte 1, ...;
    /// trailing bytes that do not fill an element are copied as they are.
    static func unshuffle(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, elementSize: Int) {
        let count = input.count / elementSize
        let source = input.bindMemory(to: UInt8.self), target = output.bindMemory(to: UInt8.self)
        switch elementSize {
        case 1:
            target.baseAddress?.update(from: source.baseAddress!, count: input.count)
            return
        case 2:
            for i in 0..<count {
                target[2 * i] = source[i]
                target[2 * i + 1] = source[count + i]
            }
        case 4:
            // Four bytes per element assembled into one 32-bit store.
            let words = UnsafeMutableRawPointer(target.baseAddress!).bindMemory(to: UInt32.self, capacity: count)
            for i in 0..<count {
                words[i] = UInt32(source[i]) | UInt32(source[count + i]) << 8
                    | UInt32(source[2 * count + i]) << 16 | UInt32(source[3 * count + i]) << 24
            }
        default:
            unshuffleReference(input, into: output, elementSize: elementSize)
            return
        }
        for i in (count * elementSize)..<input.count { target[i] = source[i] }
    }

    /// The plain version of `unshuffle`, the reference the fast one is tested against.
    static func unshuffleReference(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, elementSize: Int) {
        let count = input.count / elementSize
        for element in 0..<count {
            for byte in 0..<elementSize { output[element * elementSize + byte] = input[byte * count + element] }
        }
        for i in (count * elementSize)..<input.count { output[i] = input[i] }
    }
}
