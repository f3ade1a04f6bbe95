import Foundation
@testable import LipscopeEngine
import LipscopeLinearAlgebra
import LipscopeTestSupport

enum TrainingFixtures {
    /// The bundled data set (data/digits/digits.csv.gz in the checkout).
    static let digitsPath = Fixtures.repositoryPath(DatasetLoader.digitsRelativePath)

    static func scratchDirectory() -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lipscope-train-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func file(_ name: String, bytes: [UInt8], in dir: URL? = nil) -> String {
        let url = (dir ?? scratchDirectory()).appendingPathComponent(name)
        try! Data(bytes).write(to: url)
        return url.path
    }

    static func random(_ rows: Int, _ columns: Int, _ generator: inout SeededGenerator, scale: Double = 1) -> Matrix {
        Matrix(rows: rows, columns: columns, storage: (0..<(rows * columns)).map { _ in scale * generator.gaussian() })
    }
}
