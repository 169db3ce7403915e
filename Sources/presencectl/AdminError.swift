import Accounts

/// Why an administration command stopped; each prints as one line.
enum AdminError: Error, CustomStringConvertible {
    /// The data directory has no database.
    case noDatabase(path: String)
    /// The account operation was refused (bad address, weak password, unknown account…).
    case refused(AccountsError)
    /// No account has this e-mail address.
    case noAccount(email: String)
    /// No password on the command line and none on standard input.
    case noPassword
    /// `db check` found problems.
    case unsound(problems: Int)

    var description: String {
        switch self {
        case .noDatabase(let path):
            return "no database at \(path) (check --data-dir)"
        case .noAccount(let email):
            return "no account \(email)"
        case .refused(let error):
            return error.message
        case .noPassword:
            return "no password: pass --password or write it on standard input"
        case .unsound(let problems):
            return "the database has \(problems) problem(s)"
        }
    }
}
