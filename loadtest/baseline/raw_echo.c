/*
 * raw_echo.c: the "raw epoll ceiling" for presence-loadtest's echo scenario.
 *
 * What it is: the smallest single-threaded, level-triggered epoll WebSocket echo server
 * that still speaks enough RFC 6455 for presence-loadtest's client. It accepts (non-blocking,
 * TCP_NODELAY), reads the HTTP upgrade request, answers 101 with Sec-WebSocket-Accept
 * (SHA-1 + base64 from OpenSSL's libcrypto), and then, for every readiness event, does ONE
 * read(), walks the frames in the bytes it has, unmasks each payload straight into an output
 * buffer behind an unmasked server header, and sends the whole batch back with ONE write().
 *
 * Why it is a ceiling: it does strictly less work per message than a conforming server
 * such as presenced. It skips UTF-8 validation of text, message reassembly, size limits,
 * reserved-bit/opcode/length checks, permessage-deflate, the close handshake (a Close frame
 * or EOF just closes the socket), timers, output-buffer caps, routing and logging. What is
 * left is the system calls (epoll_wait, read, write) and the per-byte unmask, which any
 * WebSocket server on this kernel must pay too. presenced with --loops 1 does the same
 * syscalls per message on one thread, so "messages per second of raw_echo" is the figure
 * issue 4's echo target ("the raw epoll ceiling, within 10%") compares against.
 *
 * Benchmark baseline only, NEVER a server: it trusts its peer completely (a hostile or
 * merely unusual client can make it misbehave or grow memory without bound), binds to
 * 127.0.0.1 only, and has no security, limits or robustness of any kind.
 *
 * Build:  cc -O2 -o raw_echo raw_echo.c -lcrypto
 * Usage:  raw_echo PORT [MAX_SECONDS]    (any path; MAX_SECONDS > 0 exits after that long)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { READ_SIZE = 64 * 1024, MAX_EVENTS = 1024 };

/* Per connection, indexed by fd. `in` holds bytes not consumed yet (the handshake head, or
 * the start of a frame split across reads); `out` holds bytes a short write left behind. */
typedef struct {
    uint8_t open;           /* 0: awaiting the upgrade request; 1: WebSocket frames */
    uint8_t want_out;       /* EPOLLOUT registered */
    char *in;  size_t in_len, in_cap;
    char *out; size_t out_len, out_cap;
} conn_t;

static conn_t *conns;
static int nconns, epfd;
static char rbuf[READ_SIZE];
static char *obuf; static size_t obuf_cap;   /* one output batch, reused */

static void die(const char *what) { perror(what); exit(1); }

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n) {
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n) c *= 2;
        if (!(*buf = realloc(*buf, c))) die("realloc");
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
}

static void close_conn(int fd) {
    conn_t *c = &conns[fd];
    free(c->in); free(c->out);
    memset(c, 0, sizeof *c);
    close(fd);  /* also removes it from the epoll set */
}

/* Writes what it can; the rest waits in c->out for EPOLLOUT. Returns -1 if it closed fd. */
static int send_bytes(int fd, const char *p, size_t n) {
    conn_t *c = &conns[fd];
    if (c->out_len) { append(&c->out, &c->out_len, &c->out_cap, p, n); return 0; }
    ssize_t w = write(fd, p, n);
    if (w < 0) {
        if (errno != EAGAIN) { close_conn(fd); return -1; }
        w = 0;
    }
    if ((size_t)w < n) {
        append(&c->out, &c->out_len, &c->out_cap, p + w, n - (size_t)w);
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.fd = fd };
        epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
        c->want_out = 1;
    }
    return 0;
}

static void on_writable(int fd) {
    conn_t *c = &conns[fd];
    ssize_t w = write(fd, c->out, c->out_len);
    if (w < 0) { if (errno != EAGAIN) close_conn(fd); return; }
    memmove(c->out, c->out + w, c->out_len - (size_t)w);
    c->out_len -= (size_t)w;
    if (c->out_len == 0 && c->want_out) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
        c->want_out = 0;
    }
}

/* The upgrade: find the end of the head and Sec-WebSocket-Key, answer 101. Returns the
 * bytes consumed (0 if the head is incomplete, -1 if fd was closed). */
static long handshake(int fd, const char *p, size_t n) {
    const char *end = memmem(p, n, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - p) + 4;
    const char *key = NULL; size_t key_len = 0;
    for (const char *line = p; line < end;) {
        const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        if (eol - line > 18 && strncasecmp(line, "Sec-WebSocket-Key:", 18) == 0) {
            key = line + 18;
            while (*key == ' ') key++;
            key_len = (size_t)(eol - key);
            while (key_len && key[key_len - 1] == ' ') key_len--;
        }
        line = eol + 2;
    }
    if (!key || key_len > 64) { close_conn(fd); return -1; }
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char cat[64 + sizeof guid];
    memcpy(cat, key, key_len);
    memcpy(cat + key_len, guid, sizeof guid - 1);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, key_len + sizeof guid - 1, digest);
    char accept[32];
    EVP_EncodeBlock((unsigned char *)accept, digest, SHA_DIGEST_LENGTH);  /* 28 chars + NUL */
    char resp[160];
    int r = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
    if (send_bytes(fd, resp, (size_t)r) < 0) return -1;
    conns[fd].open = 1;
    return (long)head;
}

/* dst = src ^ mask, eight bytes at a time. */
static void unmask(char *dst, const char *src, size_t n, const unsigned char m[4]) {
    uint32_t m32; memcpy(&m32, m, 4);
    uint64_t m64 = ((uint64_t)m32 << 32) | m32;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v; memcpy(&v, src + i, 8); v ^= m64; memcpy(dst + i, &v, 8);
    }
    for (; i < n; i++) dst[i] = (char)(src[i] ^ m[i & 3]);
}

/* Walks the complete frames in p[0..n), echoes them in one write. Returns the bytes
 * consumed (a trailing partial frame is left), or -1 if fd was closed. */
static long frames(int fd, const char *p, size_t n) {
    if (obuf_cap < n) {  /* a server frame is never longer than the masked client frame */
        free(obuf);
        obuf_cap = n < READ_SIZE ? READ_SIZE : n * 2;
        if (!(obuf = malloc(obuf_cap))) die("malloc");
    }
    size_t pos = 0, o = 0;
    for (;;) {
        if (n - pos < 2) break;
        const unsigned char *h = (const unsigned char *)p + pos;
        unsigned op = h[0] & 0x0f;
        int masked = h[1] & 0x80;
        uint64_t len = h[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) {
            if (n - pos < 4) break;
            len = ((uint64_t)h[2] << 8) | h[3];
            hl = 4;
        } else if (len == 127) {
            if (n - pos < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = (len << 8) | h[2 + i];
            hl = 10;
        }
        size_t ml = masked ? 4 : 0;
        if (n - pos < hl + ml || n - pos - hl - ml < len) break;
        const char *payload = p + pos + hl + ml;
        if (op == 0x8) { close_conn(fd); return -1; }  /* Close: no handshake, just go */
        if (op != 0xA) {                                 /* a Pong is dropped */
            unsigned char b0 = op == 0x9 ? (unsigned char)((h[0] & 0xf0) | 0xA) : h[0];
            char *q = obuf + o;
            q[0] = (char)b0;
            if (len < 126) { q[1] = (char)len; o += 2; }
            else if (len < 65536) { q[1] = 126; q[2] = (char)(len >> 8); q[3] = (char)len; o += 4; }
            else { q[1] = 127; for (int i = 0; i < 8; i++) q[2 + i] = (char)(len >> (56 - 8 * i)); o += 10; }
            if (masked) unmask(obuf + o, payload, len, h + hl);
            else memcpy(obuf + o, payload, len);
            o += len;
        }
        pos += hl + ml + len;
    }
    if (o && send_bytes(fd, obuf, o) < 0) return -1;
    return (long)pos;
}

static void on_readable(int fd) {
    conn_t *c = &conns[fd];
    ssize_t r = read(fd, rbuf, sizeof rbuf);  /* one read per readiness event */
    if (r <= 0) {
        if (r < 0 && errno == EAGAIN) return;
        close_conn(fd);
        return;
    }
    const char *p = rbuf; size_t n = (size_t)r;
    if (c->in_len) {  /* bytes left from the last read go first */
        append(&c->in, &c->in_len, &c->in_cap, rbuf, n);
        p = c->in; n = c->in_len;
    }
    size_t used = 0;
    if (!c->open) {
        long h = handshake(fd, p, n);
        if (h < 0) return;
        used = (size_t)h;
        if (!c->open) { if (!c->in_len) append(&c->in, &c->in_len, &c->in_cap, p, n); return; }
    }
    long f = frames(fd, p + used, n - used);
    if (f < 0) return;
    used += (size_t)f;
    if (p == c->in) {  /* keep the unconsumed tail of c->in */
        memmove(c->in, c->in + used, n - used);
        c->in_len = n - used;
    } else if (used < n) {
        append(&c->in, &c->in_len, &c->in_cap, p + used, n - used);
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) { fprintf(stderr, "usage: raw_echo PORT [MAX_SECONDS]\n"); return 1; }
    int port = atoi(argv[1]);
    if (argc == 3 && atoi(argv[2]) > 0) alarm((unsigned)atoi(argv[2]));  /* SIGALRM ends it */
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;  /* as many descriptors as allowed; the table is indexed by fd */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    getrlimit(RLIMIT_NOFILE, &rl);
    nconns = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
    if (!(conns = calloc((size_t)nconns, sizeof *conns))) die("calloc");

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");

    if ((epfd = epoll_create1(0)) < 0) die("epoll_create1");
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };  /* level-triggered */
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    printf("raw_echo pid %d on ws://127.0.0.1:%d/echo\n", (int)getpid(), port);
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                int cfd;
                while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (cfd >= nconns) { close(cfd); continue; }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event cev = { .events = EPOLLIN, .data.fd = cfd };
                    epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &cev);
                }
                continue;
            }
            uint32_t m = events[i].events;
            /* A stale event for an fd closed earlier in this batch and reused at once by
             * accept would be harmless: read finds EAGAIN. */
            if (m & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(fd);
            if ((m & EPOLLOUT) && conns[fd].want_out) on_writable(fd);
        }
    }
}
