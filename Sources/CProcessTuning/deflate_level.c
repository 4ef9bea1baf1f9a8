// Cairo compresses every PDF stream (page content, font subsets, their ToUnicode maps)
// with zlib at its default level, 6, and has no setting for it. For a one-page letter
// that deflate was 30 % of the rendering time. Two changes, for this process only:
//
// - A stream that asks for the default level gets level 1: a fraction of the time, for
//   a file 4 % larger.
// - A stream whose data is a font program (TrueType or OpenType: the subsets Cairo
//   embeds) is stored, not compressed (level 0). Font subsets were 80 % of the bytes
//   deflated for a one-page letter and shrank by only 28 % at level 1, for 20 % of the
//   rendering time. Page content (62 % smaller compressed) and ToUnicode maps are
//   still deflated. The PDF stays valid (stored blocks are plain deflate data); a
//   one-page letter is about 38 KB instead of 30 KB.
//
// These definitions of zlib's `deflateInit_` and `deflate` in the executable take
// precedence over libz's for every library of the process (ELF symbol interposition:
// Cairo finds them first); `deflate` hands over to libz's own. An explicit level is
// kept. In this process only Cairo deflates: libcurl and SQLite do not.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <zlib.h>

#include "process_tuning.h"

enum { fast_level = 1 };

int relance_default_deflate_level(void) { return fast_level; }

int deflateInit_(z_streamp stream, int level, const char *version, int stream_size) {
    if (level == Z_DEFAULT_COMPRESSION) level = fast_level;
    return deflateInit2_(stream, level, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY, version, stream_size);
}

int relance_is_font_program(const unsigned char *bytes, unsigned long length) {
    static const unsigned char truetype[4] = {0, 1, 0, 0};
    if (length < 4) return 0;
    return memcmp(bytes, truetype, 4) == 0 || memcmp(bytes, "true", 4) == 0 || memcmp(bytes, "OTTO", 4) == 0;
}

typedef int (*deflate_function)(z_streamp, int);

int deflate(z_streamp stream, int flush) {
    static deflate_function next;
    deflate_function zlib = __atomic_load_n(&next, __ATOMIC_ACQUIRE);
    if (zlib == NULL) {
        zlib = (deflate_function)dlsym(RTLD_NEXT, "deflate");
        if (zlib == NULL) return Z_STREAM_ERROR;
        __atomic_store_n(&next, zlib, __ATOMIC_RELEASE);
    }
    // The first call of a stream, before anything was compressed: the level may still
    // change without a flush (zlib's deflateParams).
    static __thread int adjusting;
    if (!adjusting && stream != NULL && stream->total_in == 0 && stream->total_out == 0 && stream->next_in != NULL
        && relance_is_font_program(stream->next_in, stream->avail_in)) {
        adjusting = 1;
        deflateParams(stream, 0, Z_DEFAULT_STRATEGY);
        adjusting = 0;
    }
    return zlib(stream, flush);
}
