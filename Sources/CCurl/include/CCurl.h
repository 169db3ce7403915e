// libcurl's curl_easy_setopt is variadic, which Swift cannot call: the whole GET is
// done here, behind one plain function.
#ifndef CCURL_H
#define CCURL_H
#include <stddef.h>

/// What one HTTPS GET brought back. Free with `ccurl_response_free`.
typedef struct {
    /// The body, malloc'd; NULL when empty or on failure.
    unsigned char *body;
    size_t body_length;
    /// The HTTP status, 0 when no response arrived.
    long status;
    /// The last `Cache-Control` header of the final response, NUL-terminated ("" if none).
    char cache_control[512];
    /// libcurl's description of a failure, NUL-terminated ("" on success).
    char error[256];
} ccurl_response;

/// GETs `url`, which must be https:// (no other protocol, no redirects), verifying the
/// peer's certificate and host name against `ca_file` (PEM) or, when NULL, the system's
/// trust store. Bodies larger than `max_body` fail the transfer.
/// Safe to call from several threads at once (each call uses its own handle; no signals).
/// - Returns: 0 when a response arrived (any status), else the CURLcode.
int ccurl_https_get(const char *url, const char *ca_file, long timeout_ms, size_t max_body, ccurl_response *out);

/// Frees what `ccurl_https_get` allocated in `response`.
void ccurl_response_free(ccurl_response *response);

#endif
