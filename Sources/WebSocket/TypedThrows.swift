extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body that throws only `ProtocolError`: the standard library's
    /// version rethrows untyped errors.
    @inlinable
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ProtocolError) -> R) throws(ProtocolError) -> R {
        do {
            return try withUnsafeBytes { raw in try body(raw) }
        } catch let error as ProtocolError {
            throw error
        } catch {
            preconditionFailure("unreachable: body throws only ProtocolError")
        }
    }
}
