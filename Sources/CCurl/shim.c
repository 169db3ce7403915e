#include "CCurl.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// curl_global_init is not guaranteed thread-safe on every build: run it exactly once.
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct {
    ccurl_response *out;
    size_t capacity;
    size_t max_body;
} transfer;

static size_t on_body(char *data, size_t size, size_t count, void *context) {
    transfer *t = context;
    size_t n = size * count;
    if (t->out->body_length + n > t->max_body) return 0; // aborts with CURLE_WRITE_ERROR
    if (t->out->body_length + n > t->capacity) {
        size_t capacity = t->capacity ? t->capacity * 2 : 16384;
        while (capacity < t->out->body_length + n) capacity *= 2;
        unsigned char *grown = realloc(t->out->body, capacity);
        if (!grown) return 0;
        t->out->body = grown;
        t->capacity = capacity;
    }
    memcpy(t->out->body + t->out->body_length, data, n);
    t->out->body_length += n;
    return n;
}

static size_t on_header(char *data, size_t size, size_t count, void *context) {
    transfer *t = context;
    size_t n = size * count;
    static const char name[] = "cache-control:";
    // A new status line starts a new header block (after a 100 Continue, say).
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) t->out->cache_control[0] = 0;
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *value = data + sizeof name - 1;
        size_t length = n - (sizeof name - 1);
        while (length && (*value == ' ' || *value == '\t')) { value++; length--; }
        while (length && (value[length - 1] == '\r' || value[length - 1] == '\n' || value[length - 1] == ' ')) length--;
        if (length >= sizeof t->out->cache_control) length = sizeof t->out->cache_control - 1;
        memcpy(t->out->cache_control, value, length);
        t->out->cache_control[length] = 0;
    }
    return n;
}

int ccurl_https_get(const char *url, const char *ca_file, long timeout_ms, size_t max_body, ccurl_response *out) {
    pthread_once(&global_once, global_init);
    memset(out, 0, sizeof *out);
    CURL *curl = curl_easy_init();
    if (!curl) {
        strcpy(out->error, "curl_easy_init failed");
        return CURLE_FAILED_INIT;
    }
    transfer t = {.out = out, .capacity = 0, .max_body = max_body};
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    // Only HTTPS, and no redirects: the key set must come from the configured origin.
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (ca_file) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    // Worker threads: libcurl must not use signals (SIGALRM) for its timeouts.
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "presence-gateway");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    CURLcode code = curl_easy_perform(curl);
    if (code == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    } else {
        const char *text = error[0] ? error : curl_easy_strerror(code);
        strncpy(out->error, text, sizeof out->error - 1);
    }
    curl_easy_cleanup(curl);
    return (int)code;
}

void ccurl_response_free(ccurl_response *response) {
    free(response->body);
    response->body = NULL;
    response->body_length = 0;
}
