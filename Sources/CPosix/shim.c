#define _GNU_SOURCE 1
#include <sys/prctl.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include "CPosix.h"

int cposix_accept(int fd, struct sockaddr_storage *addr, socklen_t *len) {
    return accept4(fd, (struct sockaddr *)addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

long cposix_raise_nofile(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
    r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
    return (long)r.rlim_cur;
}

int cposix_name_this_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

int cposix_epoll_wait_nanoseconds(int epfd, struct epoll_event *events, int maxevents, long long timeout_ns) {
    if (timeout_ns < 0) return epoll_wait(epfd, events, maxevents, -1);
    struct timespec t = { .tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL };
    int n = epoll_pwait2(epfd, events, maxevents, &t, NULL);
    if (n < 0 && errno == ENOSYS) n = epoll_wait(epfd, events, maxevents, (int)((timeout_ns + 999999LL) / 1000000LL));
    return n;
}
