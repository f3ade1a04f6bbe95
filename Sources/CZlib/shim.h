#ifndef LIPSCOPE_CZLIB_SHIM_H
#define LIPSCOPE_CZLIB_SHIM_H
#include <zlib.h>

/// inflateInit2 is a macro; Swift cannot call macros, so wrap it.
/// window_bits: 15 for a zlib stream (MAT v5 miCOMPRESSED), -15 for raw deflate (ZIP).
static inline int lipscope_inflate_init(z_streamp stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}
#endif
