public enum LipscopeVersion {
    public static let string = "0.1.0"
}
