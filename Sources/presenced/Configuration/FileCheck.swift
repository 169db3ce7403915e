import Foundation

/// The file-system checks settings need at start-up, so a bad path fails then and not
/// at the first TLS handshake or the first mail.
enum FileCheck {
    /// nil if `path` is a file this process can read; else why not.
    static func readableFileProblem(_ path: String) -> String? {
        guard access(path, R_OK) == 0 else { return String(cString: strerror(errno)) }
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        return isDirectory.boolValue ? "is a directory" : nil
    }

    /// nil if `path` is a writable directory, or does not exist yet (it is created at
    /// start-up); else why not.
    static func usableDirectoryProblem(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return "is not a directory" }
        guard access(path, W_OK | X_OK) == 0 else { return String(cString: strerror(errno)) }
        return nil
    }

    /// nil if `program` is an executable path, or a name found on `PATH`; else why not.
    static func executableProblem(_ program: String, searchPath: String?) -> String? {
        if program.contains("/") {
            return access(program, X_OK) == 0 ? nil : String(cString: strerror(errno))
        }
        for directory in (searchPath ?? "/usr/bin:/bin").split(separator: ":") {
            if access("\(directory)/\(program)", X_OK) == 0 { return nil }
        }
        return "not found on PATH"
    }
}
