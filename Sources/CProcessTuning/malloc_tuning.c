// Rendering a letter allocates and frees a few hundred KB (layouts, the PDF buffer) on
// whichever thread runs the job. glibc gives the top of a heap back to the kernel as
// soon as more than 128 KB of it is free (madvise, then mprotect to grow it again, each
// with a TLB shootdown on the other core): three such calls per letter. Keeping freed
// memory costs nothing in peak RSS (the high-water mark is the same) and measured 4 to 6 %
// less CPU per letter (docs/PERFORMANCE.md). The daemon calls it once at start.
//
// Blocks of 128 KB or more are mapped and unmapped one by one: libcurl allocates a
// 128 KB scratch buffer for each SMTP message (dot-stuffing) and frees it at the end of
// the transfer, so every e-mail cost an mmap and an munmap, whose TLB shootdown
// interrupted the other core (2.3 % of the e-mail benchmark's CPU). Blocks up to
// `mmap_bytes` now come from the heap and are reused.
#include <malloc.h>

#include "process_tuning.h"

int relance_keep_freed_memory(int bytes, int mmap_bytes) {
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
    return mallopt(M_TRIM_THRESHOLD, bytes) == 1 && mallopt(M_MMAP_THRESHOLD, mmap_bytes) == 1;
#else
    (void)bytes;
    (void)mmap_bytes;
    return 0;
#endif
}
