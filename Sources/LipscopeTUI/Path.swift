import Foundation

/// Path arithmetic on strings only. `URL(fileURLWithPath:)` asks the file system whether the
/// path is a directory, and the update function must not touch the file system.
enum Path {
    static func name(_ path: String) -> String { (path as NSString).lastPathComponent }
    static func directory(of path: String) -> String {
        let up = (path as NSString).deletingLastPathComponent
        return up.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : up
    }
    static func join(_ directory: String, _ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
}
