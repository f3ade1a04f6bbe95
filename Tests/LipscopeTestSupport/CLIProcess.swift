import Foundation

/// The real `lipscope` binary, run as a user runs it (exit status, stdout, stderr).
public enum CLIProcess {
    /// `swift test` builds the executable next to the test bundle; a plain build puts it in .build/debug.
    public static var binaryPath: String {
        let fallback = Fixtures.repositoryPath(".build/debug/lipscope")
        let candidates = [Bundle.main.bundleURL.appendingPathComponent("lipscope").path,
                          Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("lipscope").path, fallback]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? fallback
    }

    /// Runs `lipscope arguments…` with no standard input and waits for it.
    public static func run(_ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaryPath)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting, so a chatty process never blocks on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}
