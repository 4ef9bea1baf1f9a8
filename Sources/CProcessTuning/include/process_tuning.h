#ifndef RELANCE_PROCESS_TUNING_H
#define RELANCE_PROCESS_TUNING_H

/// The zlib level that streams asking for zlib's default get in this process (see
/// deflate_level.c).
int relance_default_deflate_level(void);

/// Whether `bytes` start a font program (TrueType or OpenType), which this process
/// stores uncompressed in PDF streams (see deflate_level.c).
int relance_is_font_program(const unsigned char *bytes, unsigned long length);

/// Keeps up to `bytes` of freed memory at the top of each malloc heap instead of giving
/// it back to the kernel at once, and serves blocks up to `mmap_bytes` from the heap
/// rather than mapping each one (see malloc_tuning.c). Returns 1 on success.
int relance_keep_freed_memory(int bytes, int mmap_bytes);

/// From now until the service group installs its own handlers, SIGTERM and SIGINT are
/// remembered instead of killing the process (see early_signals.c).
void relance_catch_early_signals(void);

/// The early SIGTERM or SIGINT received, or 0.
int relance_early_signal(void);

#endif
