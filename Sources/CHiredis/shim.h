// hiredis (Debian libhiredis-dev 0.14): the Redis client the cluster link uses. Only the
// async API is used, through `redisAsyncCommandArgv` (not variadic, so no C shim is
// needed), driven by Cluster's own epoll loop through the `ev` hooks of the context.
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
