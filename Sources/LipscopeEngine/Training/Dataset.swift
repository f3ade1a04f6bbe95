import LipscopeLinearAlgebra

/// Labelled examples for classification: one column of `features` per example.
public struct Dataset: Sendable {
    public var name: String
    /// p × N, column k is example k (the layout batched BLAS products want).
    public var features: Matrix
    public var labels: [Int]
    public var classCount: Int

    public init(name: String, features: Matrix, labels: [Int], classCount: Int) {
        precondition(features.columns == labels.count)
        self.name = name; self.features = features; self.labels = labels; self.classCount = classCount
    }

    public var count: Int { labels.count }
    public var featureCount: Int { features.rows }

    /// The examples at `indices`, in that order, as a p × m matrix.
    func gather<C: Collection>(_ indices: C) -> Matrix where C.Element == Int {
        let p = featureCount
        var m = Matrix(rows: p, columns: indices.count)
        features.storage.withUnsafeBufferPointer { source in
            m.storage.withUnsafeMutableBufferPointer { target in
                for (k, i) in indices.enumerated() {
                    for r in 0..<p { target[r + k * p] = source[r + i * p] }
                }
            }
        }
        return m
    }

    public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
        Dataset(name: name ?? self.name, features: gather(indices), labels: indices.map { labels[$0] }, classCount: classCount)
    }

    /// A seeded shuffle split: the last `fraction` of the shuffled examples are held out.
    public func split(testFraction fraction: Double, seed: UInt64) -> (train: Dataset, test: Dataset) {
        var order = Array(0..<count)
        var generator = SeededGenerator(seed: seed)
        order.shuffle(using: &generator)
        let testCount = Int((Double(count) * fraction).rounded())
        let trainPart = Array(order[..<(count - testCount)]), testPart = Array(order[(count - testCount)...])
        return (subset(trainPart, name: name + " (train)"), subset(testPart, name: name + " (test)"))
    }
}

/// The training and held-out examples of one run, and where they came from.
public struct TrainingData: Sendable {
    public var source: String
    public var train: Dataset
    public var test: Dataset
    /// How the test set was chosen ("held-out 20 % (seed 0)", "t10k files").
    public var testDescription: String

    public init(source: String, train: Dataset, test: Dataset, testDescription: String) {
        self.source = source; self.train = train; self.test = test; self.testDescription = testDescription
    }
}
