// Cairo compresses every PDF stream (page content, font subsets, their ToUnicode maps)
// with zlib at its default level, 6, and has no setting for it. For a one-page letter
// that deflate was 30 % of the rendering time. Level 1 costs a fraction of it, for a file
// 4 % larger (mostly font subsets, which compress about as well either way).
//
// This definition of zlib's `deflateInit_` in the executable takes precedence over
// libz's for every library of the process (ELF symbol interposition: Cairo finds it
// first). It changes only the requests for the default level; an explicit level is
// kept. In this process that is Cairo's PDF streams: libcurl and SQLite do not deflate.
#include <zlib.h>

#include "process_tuning.h"

enum { fast_level = 1 };

int relance_default_deflate_level(void) { return fast_level; }

int deflateInit_(z_streamp stream, int level, const char *version, int stream_size) {
    if (level == Z_DEFAULT_COMPRESSION) level = fast_level;
    return deflateInit2_(stream, level, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY, version, stream_size);
}
