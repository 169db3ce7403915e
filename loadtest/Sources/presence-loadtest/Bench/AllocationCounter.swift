import Glibc

/// Counts heap allocations through `loadtest_malloc_count`, exported by the counting malloc
/// that loadtest/bench.sh preloads (loadtest/malloc-counter/malloc_counter.c). glibc 2.34
/// removed `__malloc_hook`, and `mallinfo2()` gives bytes in use, which cannot see an
/// allocation freed within the same operation; interposing malloc counts every call.
enum AllocationCounter {
    typealias CountFunction = @convention(c) () -> UInt64

    /// nil when the process runs without the preloaded counter.
    static let counter: CountFunction? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "loadtest_malloc_count") else { return nil }
        return unsafeBitCast(symbol, to: CountFunction.self)
    }()

    static var isAvailable: Bool { counter != nil }

    static func count() -> UInt64 { counter?() ?? 0 }
}
