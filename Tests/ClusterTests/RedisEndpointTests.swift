import Cluster
import Testing

@Suite struct RedisEndpointTests {
    @Test(arguments: [
        ("redis://127.0.0.1:6380", RedisEndpoint(host: "127.0.0.1", port: 6380)),
        ("redis://cache.internal", RedisEndpoint(host: "cache.internal", port: 6379)),
        ("redis://cache.internal:7000/", RedisEndpoint(host: "cache.internal", port: 7000)),
        ("redis://[::1]:6390", RedisEndpoint(host: "::1", port: 6390)),
        ("redis://[::1]", RedisEndpoint(host: "::1", port: 6379)),
    ])
    func parses(url: String, expected: RedisEndpoint) {
        #expect(RedisEndpoint(url: url) == expected)
        #expect(RedisEndpoint(url: expected.description) == expected)
    }

    @Test(arguments: [
        "", "127.0.0.1:6379", "http://127.0.0.1:6379", "redis://", "redis://:6379", "redis://host:0",
        "redis://host:65536", "redis://host:port", "redis://user:pw@host:6379", "redis://host:6379/2", "redis://[::1",
        "rediss://host:6379",
    ])
    func refuses(url: String) {
        #expect(RedisEndpoint(url: url) == nil)
    }
}
