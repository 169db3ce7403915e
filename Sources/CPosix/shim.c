#define _GNU_SOURCE 1
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
