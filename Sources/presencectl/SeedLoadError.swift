/// Why `presencectl` stopped.
enum SeedLoadError: Error, CustomStringConvertible {
    /// The database already holds load-test accounts; seeding twice would collide.
    case alreadySeeded(count: Int, path: String)
    /// A token or graph file could not be written.
    case cannotWrite(path: String, reason: String)
    /// The freshly seeded token did not sign in: `DeviceTokenSecret` no longer matches
    /// how Accounts hashes device tokens.
    case tokenSchemeMismatch(reason: String)

    var description: String {
        switch self {
        case .alreadySeeded(let count, let path):
            return "\(path) already holds \(count) load-test accounts (@\(LoadUserNaming.domain)); seed a fresh --data-dir"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .tokenSchemeMismatch(let reason):
            return "a seeded device token did not sign in (\(reason)): DeviceTokenSecret no longer matches Accounts' SecretToken"
        }
    }
}
