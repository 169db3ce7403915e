import CCurl
import Foundation

/// Google's JSON Web Key Set fetched over HTTPS with libcurl, cached for its
/// `Cache-Control: max-age`, and refetched when a token names a key the cached set lacks
/// (Google rotates its keys every few weeks), at most once per `minimumRefreshSeconds`.
///
/// Fetching blocks the calling thread for up to `timeoutMilliseconds`: call it from the
/// account workers, never from an event loop. Concurrent callers that need a fetch share
/// one (`CachedKeySetSource`).
public final class HTTPSKeySetSource: JSONWebKeySetSource {
    /// Google's key set for Sign in with Google ID tokens.
    public static let googleURL = "https://www.googleapis.com/oauth2/v3/certs"
    /// A key set is a few kilobytes; anything far larger is not one.
    static let maximumBodyBytes = 1 << 20

    public let url: String
    private let cache: CachedKeySetSource

    /// - Parameters:
    ///   - url: an https:// URL; redirects and other protocols are refused.
    ///   - caFile: PEM certificates to trust instead of the system's (tests, private CAs).
    ///   - minimumRefreshSeconds: the least time between two fetches.
    ///   - onFailure: told why a fetch failed (for the operator's log: a refused
    ///     certificate or a timeout shows only as rejected Google sign-ins otherwise).
    public init(url: String = HTTPSKeySetSource.googleURL, caFile: String? = nil, timeoutMilliseconds: Int = 5_000,
                minimumRefreshSeconds: Int64 = 30, now: @escaping MillisecondClock = systemMillisecondClock,
                onFailure: @escaping @Sendable (String) -> Void = { _ in }) {
        self.url = url
        cache = CachedKeySetSource(minimumRefreshSeconds: minimumRefreshSeconds, now: now) {
            switch HTTPSKeySetSource.get(url, caFile: caFile, timeoutMilliseconds: timeoutMilliseconds) {
            case .success(let response) where response.status == 200:
                if (try? JSONWebKeySet(json: response.body)) == nil { onFailure("\(url): the body is not a JSON Web Key Set") }
                return (response.body, response.cacheControl)
            case .success(let response):
                onFailure("\(url): HTTP status \(response.status)")
                return nil
            case .failure(let failure):
                onFailure("\(url): \(failure.message) (curl error \(failure.code))")
                return nil
            }
        }
    }

    public func keySet(refresh: Bool) throws(AccountsError) -> JSONWebKeySet {
        try cache.keySet(refresh: refresh)
    }

    /// One HTTPS response.
    struct Response {
        var status: Int
        var body: Data
        var cacheControl: String?
    }

    /// Why no response arrived: libcurl's words (refused certificate, timeout, …).
    struct TransferFailure: Error {
        var code: Int32
        var message: String
    }

    /// GETs `url` over HTTPS, verifying the certificate chain and the host name.
    static func get(_ url: String, caFile: String?, timeoutMilliseconds: Int) -> Result<Response, TransferFailure> {
        var raw = ccurl_response()
        defer { ccurl_response_free(&raw) }
        let code = ccurl_https_get(url, caFile, timeoutMilliseconds, maximumBodyBytes, &raw)
        let error = withUnsafeBytes(of: raw.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard code == 0 else { return .failure(TransferFailure(code: code, message: error)) }
        let cacheControl = withUnsafeBytes(of: raw.cache_control) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let body = raw.body.map { Data(bytes: $0, count: raw.body_length) } ?? Data()
        return .success(Response(status: raw.status, body: body, cacheControl: cacheControl.isEmpty ? nil : cacheControl))
    }
}
