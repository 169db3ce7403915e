// zlib's deflateInit2/inflateInit2 are macros, which Swift cannot call.
#ifndef CZLIB_H
#define CZLIB_H
#include <zlib.h>
/// A raw (headerless) deflate stream, as RFC 7692 uses.
static inline int czlib_deflate_init_raw(z_streamp s, int level, int window_bits, int mem_level, int strategy) {
    return deflateInit2(s, level, Z_DEFLATED, -window_bits, mem_level, strategy);
}
/// A raw (headerless) inflate stream.
static inline int czlib_inflate_init_raw(z_streamp s, int window_bits) {
    return inflateInit2(s, -window_bits);
}
#endif
