import CQREncode
import Foundation
import RelanceCore

/// A QR code symbol (ISO/IEC 18004), encoded by libqrencode: `size` × `size` modules,
/// each dark or light, without the quiet zone.
public struct QRCode: Sendable, Equatable {
    /// How much of the symbol may be lost and still read back: about 7, 15, 25 or 30 %.
    public enum ErrorCorrection: Sendable, Equatable, CaseIterable, CustomStringConvertible {
        case low, medium, quartile, high

        var level: QRecLevel {
            switch self {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        }

        /// The most bytes a version 40 symbol holds at this level, in 8-bit mode.
        public var maxBytes: Int {
            switch self {
            case .low: 2953
            case .medium: 2331
            case .quartile: 1663
            case .high: 1273
            }
        }

        public var description: String {
            switch self {
            case .low: "L"
            case .medium: "M"
            case .quartile: "Q"
            case .high: "H"
            }
        }
    }

    /// The version (1 to 40): the symbol is `4 × version + 17` modules wide.
    public let version: Int
    /// Modules per side.
    public let size: Int
    /// Row after row, true for dark.
    let modules: [Bool]

    init(version: Int, size: Int, modules: [Bool]) {
        precondition(modules.count == size * size, "a QR code has size × size modules")
        self.version = version
        self.size = size
        self.modules = modules
    }

    /// Whether the module at column `x`, row `y` (0 at the top left) is dark. Outside the
    /// symbol (the quiet zone around it) every module is light.
    public func isDark(x: Int, y: Int) -> Bool {
        guard (0..<size).contains(x), (0..<size).contains(y) else { return false }
        return modules[y * size + x]
    }

    /// `bytes` in 8-bit (byte) mode, as they are (UTF-8 text stays UTF-8), in the smallest
    /// version that holds them at `level`.
    public static func encode(_ bytes: [UInt8], level: ErrorCorrection = .medium) throws(QRCodeError) -> QRCode {
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= level.maxBytes else { throw .tooLong(bytes: bytes.count, level: level) }
        errno = 0
        let made = bytes.withUnsafeBufferPointer { buffer in
            // Version 0: the smallest that fits.
            QRcode_encodeData(Int32(buffer.count), buffer.baseAddress, 0, level.level)
        }
        guard let made else {
            let code = errno
            if code == ERANGE { throw .tooLong(bytes: bytes.count, level: level) }
            throw .failed(errno: code, reason: String(cString: strerror(code)))
        }
        defer { QRcode_free(made) }
        let width = Int(made.pointee.width)
        // Each byte of `data` is one module; its bit 0 says dark (1) or light (0), the other
        // bits are libqrencode's own bookkeeping.
        let data = UnsafeBufferPointer(start: made.pointee.data, count: width * width)
        return QRCode(version: Int(made.pointee.version), size: width, modules: data.map { $0 & 1 == 1 })
    }

    /// The EPC QR code of `payment`: its payload in UTF-8 at level M, as EPC069-12 requires.
    public static func encode(_ payment: EPCPayment) throws -> QRCode {
        try encode(Array(payment.payload().utf8), level: .medium)
    }
}

/// Why libqrencode made no symbol.
public enum QRCodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing to encode.
    case empty
    /// More bytes than the largest symbol (version 40) holds at that level.
    case tooLong(bytes: Int, level: QRCode.ErrorCorrection)
    /// libqrencode failed otherwise (out of memory, say), with its errno.
    case failed(errno: Int32, reason: String)

    public var description: String {
        switch self {
        case .empty:
            "QR code: there is nothing to encode (0 bytes)"
        case .tooLong(let bytes, let level):
            "QR code: \(bytes) bytes do not fit in a QR code at error correction \(level) "
                + "(at most \(level.maxBytes) bytes, version 40)"
        case .failed(let errno, let reason):
            "QR code: libqrencode could not encode the data: \(reason) (errno \(errno))"
        }
    }
}
