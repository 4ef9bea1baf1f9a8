#ifndef RELANCE_CZLIB_H
#define RELANCE_CZLIB_H
// zlib (deflate), for the message archive. Found through pkg-config (`zlib`).
#include <zlib.h>
#endif
