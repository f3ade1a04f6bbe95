import Crypto
import Foundation

/// The SHA-256 hex digest by which a session log identifies the exact network file it ran on.
/// The hashing is swift-crypto's (`Crypto.SHA256`); this type only fixes the lowercase-hex form
/// the logs store, and keeps callers free of the crypto import.
public enum SHA256 {
    public static func digest(_ data: Data) -> [UInt8] {
        Array(Crypto.SHA256.hash(data: data))
    }

    public static func hex(_ data: Data) -> String {
        digest(data).map { String(format: "%02x", $0) }.joined()
    }

    /// The hex digest of a file's bytes, or nil when it cannot be read.
    public static func hex(ofFile path: String) -> String? {
        FileManager.default.contents(atPath: path).map(hex)
    }
}
