/// Bad input: names the file, where in it (field path or line), what was expected and found.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var location: String?
    public var expected: String
    public var found: String

    public init(file: String, location: String? = nil, expected: String, found: String) {
        self.file = file; self.location = location; self.expected = expected; self.found = found
    }

    public var description: String {
        let place = location.map { "\(file): \($0)" } ?? file
        return "\(place): expected \(expected), found \(found)"
    }
}
