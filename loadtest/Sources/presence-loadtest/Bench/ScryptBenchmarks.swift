import Accounts

/// What one password verification costs at the scrypt parameters around the default
/// (N = 2^15, r = 8, p = 1): the figure behind the sign-in rate limits and the size of the
/// account worker pool. Moved here from the unit tests, which only printed it.
enum ScryptBenchmarks {
    static let password = "Correct#Horse9"

    static func all() -> [Benchmark] {
        [14, 15, 16].map { logN in
            let hasher = PasswordHasher(parameters: ScryptParameters(logN: logN, r: 8, p: 1))
            let encoded = hasher.hash(password)
            return Benchmark(name: "scrypt verify N=2^\(logN) r=8 p=1 (\(1 << (logN - 10)) MiB)", operationsPerCall: 1) {
                precondition(hasher.verify(password, against: encoded))
            }
        }
    }
}
