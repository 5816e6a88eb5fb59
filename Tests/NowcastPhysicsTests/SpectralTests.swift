import Foundation
import NowcastCore
@testable import NowcastPhysics
import XCTest

final class SpectralTests: XCTestCase {
    func testFastFourierTransformMatchesTheNaiveDFT() throws {
        var random = SeededGenerator(seed: 9)
        for length in [1, 2, 8, 64] {
            let fft = try XCTUnwrap(FFT(length: length))
            let real = (0..<length).map { _ in random.gaussian() }, imag = (0..<length).map { _ in random.gaussian() }
            for inverse in [false, true] {
                var r = real, i = imag
                r.withUnsafeMutableBufferPointer { rp in
                    i.withUnsafeMutableBufferPointer { ip in fft.transform(real: rp.baseAddress!, imag: ip.baseAddress!, inverse: inverse) }
                }
                let expected = FFT.naiveDFT(real: real, imag: imag, inverse: inverse)
                for k in 0..<length {
                    XCTAssertEqual(r[k], expected.real[k], accuracy: 1e-9)
                    XCTAssertEqual(i[k], expected.imag[k], accuracy: 1e-9)
                }
            }
        }
        XCTAssertNil(FFT(length: 12))
        // 2-D: a forward then inverse transform is the identity.
        let fft = try XCTUnwrap(FFT(length: 16))
        let original = (0..<256).map { _ in random.gaussian() }
        var r = original, i = [Double](repeating: 0, count: 256)
        fft.transform2D(real: &r, imag: &i, inverse: false)
        fft.transform2D(real: &r, imag: &i, inverse: true)
        for k in 0..<256 { XCTAssertEqual(r[k], original[k], accuracy: 1e-12); XCTAssertEqual(i[k], 0, accuracy: 1e-12) }
    }
}
