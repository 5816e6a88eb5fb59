/// The toolkit's version, as `nowcast --version` and the products' `source` attribute give it.
public enum NowcastKitVersion {
    public static let current = "0.1.0"
}
