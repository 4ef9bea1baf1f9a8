#ifndef RELANCE_DEFLATE_LEVEL_H
#define RELANCE_DEFLATE_LEVEL_H

/// The zlib level that streams asking for zlib's default get in this process (see
/// deflate_level.c).
int relance_default_deflate_level(void);

#endif
