import COpenSSL
import Synchronization

/// A TLS server context (certificate and key), shared by every connection of the process.
/// OpenSSL's SSL_CTX is internally locked and safe to use from several threads.
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer

    /// Loads a PEM certificate chain and private key. - Throws: with OpenSSL's reason.
    public init(certificatePath: String, privateKeyPath: String) throws {
        var err = [CChar](repeating: 0, count: 256)
        guard let c = copenssl_server_ctx(certificatePath, privateKeyPath, &err, err.count) else {
            throw TransportError("TLS certificate \(certificatePath) / key \(privateKeyPath): \(Syscall.text(err))")
        }
        ctx = c
        verifiesPeer = false
    }

    /// A client context that verifies the server's certificate chain against `caPath` (a
    /// PEM file of trusted CAs), or the system's CA store when nil. Each session also checks
    /// the server's name (`TLSSession(context:serverName:)`).
    public convenience init(clientTrusting caPath: String?) throws {
        try self.init(clientCA: caPath, verifies: true)
    }

    /// A client context that checks nothing: any certificate, any name. For tests that are
    /// not about TLS trust; never for talking to a real server.
    public static func insecureClientForTesting() throws -> TLSContext {
        try TLSContext(clientCA: nil, verifies: false)
    }

    /// Whether sessions of this context verify the server.
    public let verifiesPeer: Bool

    private init(clientCA caPath: String?, verifies: Bool) throws {
        var err = [CChar](repeating: 0, count: 256)
        guard let c = copenssl_client_ctx(caPath, verifies ? 1 : 0, &err, err.count) else {
            throw TransportError("TLS client context: \(Syscall.text(err))")
        }
        ctx = c
        verifiesPeer = verifies
    }

    deinit { SSL_CTX_free(ctx) }
}

/// The TLS context new connections get, shared by every loop and replaced on reload.
/// Read once per accepted TLS connection, so a lock costs nothing that matters, and a
/// reload is in force for every loop the moment `replace` returns.
final class TLSContextBox: Sendable {
    private let current: Mutex<TLSContext?>
    init(_ context: TLSContext?) { current = Mutex(context) }
    var context: TLSContext? { current.withLock { $0 } }
    func replace(with context: TLSContext) { current.withLock { $0 = context } }
}

/// One TLS connection over memory BIOs: the event loop moves ciphertext between the socket
/// and the BIOs, so plain and TLS connections share one read and write path.
public final class TLSSession {
    let ssl: OpaquePointer
    let rbio: OpaquePointer
    let wbio: OpaquePointer

    /// The result of reading plaintext.
    public enum ReadResult {
        case bytes(Int)
        /// OpenSSL needs more ciphertext.
        case needMore
        /// The peer sent close_notify.
        case closed
        /// A TLS failure; the connection must be dropped.
        case failed
    }

    public init?(context: TLSContext, isServer: Bool) {
        var r: OpaquePointer?
        var w: OpaquePointer?
        guard let s = copenssl_new_mem(context.ctx, isServer ? 1 : 0, &r, &w), let r, let w else { return nil }
        ssl = s
        rbio = r
        wbio = w
    }

    /// A client session that must reach `serverName` (a DNS name or an IP literal): sent as
    /// SNI, and matched against the certificate when the context verifies.
    public convenience init?(context: TLSContext, serverName: String) {
        self.init(context: context, isServer: false)
        guard copenssl_set_peer_name(ssl, serverName) == 1 else { return nil }
    }

    /// Why verification failed (or "ok"), after a handshake.
    public var verificationResult: String { String(cString: copenssl_verify_result(ssl)) }

    deinit { SSL_free(ssl) }  // frees both BIOs

    /// Hands ciphertext from the socket to OpenSSL.
    public func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count > 0 else { return true }
        return BIO_write(rbio, bytes.baseAddress, Int32(bytes.count)) == Int32(bytes.count)
    }

    /// Decrypts into `buffer` (also drives the handshake).
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        // SSL_get_error reads the thread's error queue: an entry left by another connection
        // on this thread would turn this one's "want more" into a failure.
        ERR_clear_error()
        let n = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
        if n > 0 { return .bytes(Int(n)) }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .needMore
        case SSL_ERROR_ZERO_RETURN: return .closed
        default:
            ERR_clear_error()
            return .failed
        }
    }

    /// Encrypts plaintext; the ciphertext waits in the write BIO. The memory BIO never
    /// blocks, so this only fails on a broken session. With partial writes enabled OpenSSL
    /// takes one record (16 KiB) per call, hence the loop.
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        ERR_clear_error()
        var offset = 0
        while offset < bytes.count {
            let n = SSL_write(ssl, bytes.baseAddress! + offset, Int32(min(bytes.count - offset, Int(Int32.max))))
            if n <= 0 { ERR_clear_error(); return false }
            offset += Int(n)
        }
        return true
    }

    /// Bytes of ciphertext waiting to go to the socket.
    public var pendingCiphertext: Int { copenssl_bio_pending(wbio) }

    /// Moves waiting ciphertext into `buffer`. - Returns: how many bytes.
    public func drain(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = BIO_read(wbio, buffer.baseAddress, Int32(buffer.count))
        return n > 0 ? Int(n) : 0
    }

    /// Queues close_notify.
    public func shutdown() { SSL_shutdown(ssl) }

    /// Starts the handshake (client side).
    public func connect() {
        ERR_clear_error()
        if SSL_do_handshake(ssl) <= 0 { ERR_clear_error() }  // progress is read from isHandshakeDone
    }

    public var isHandshakeDone: Bool { SSL_is_init_finished(ssl) == 1 }
}
