// Linux syscalls that `import Glibc` does not expose to Swift (epoll, eventfd,
// timerfd, signalfd) and the few that need a C wrapper (accept4's
// transparent-union argument, errno as an lvalue).
#ifndef CPOSIX_H
#define CPOSIX_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <malloc.h>

/// accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; the peer address is written to `addr` (may be NULL).
/// Defined in shim.c, which alone is compiled with _GNU_SOURCE: defining it in this header
/// would change glibc's struct definitions (fd_set, rusage) against other modules.
int cposix_accept(int fd, struct sockaddr_storage *addr, socklen_t *len);
/// Raises RLIMIT_NOFILE's soft limit to its hard limit. - Returns: the new soft limit.
long cposix_raise_nofile(void);
/// Names the calling thread for the kernel (`/proc/PID/task/TID/comm`, so `top -H`, `perf`
/// and gdb show it): Foundation's `Thread.name` does not reach the kernel on Linux, and
/// `pthread_setname_np` needs _GNU_SOURCE. Longer names are cut to 15 bytes.
int cposix_name_this_thread(const char *name);
/// epoll_wait with a timeout in nanoseconds (`epoll_pwait2`, Linux 5.11): a sender pacing
/// sends at 2 ms intervals cannot round its sleep to whole milliseconds. A negative timeout
/// waits forever; on a kernel without epoll_pwait2 it falls back to epoll_wait, rounding up.
int cposix_epoll_wait_nanoseconds(int epfd, struct epoll_event *events, int maxevents, long long timeout_ns);

static inline int cposix_errno(void) { return errno; }

/// Blocks `signo` for the calling thread and every thread it starts later.
static inline int cposix_block_signal(int signo) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/// A signalfd (non-blocking) for the given signals, which must already be blocked.
static inline int cposix_signalfd2(int a, int b) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, a);
    if (b > 0) sigaddset(&set, b);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/// Ignore SIGPIPE process-wide: a write to a closed socket returns EPIPE instead.
static inline void cposix_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

/// epoll_event.data.u64 accessors; the struct is packed on x86_64 and its
/// union does not import cleanly.
static inline uint64_t cposix_event_data(const struct epoll_event *e) { return e->data.u64; }
static inline uint32_t cposix_event_mask(const struct epoll_event *e) { return e->events; }
/// A hint that the cache line at `p` is about to be written: the load starts now, overlapped
/// with other work. A prefetch never faults, so a stale or wrong address costs nothing but
/// the hint.
static inline void cposix_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }
static inline int cposix_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}
#endif
