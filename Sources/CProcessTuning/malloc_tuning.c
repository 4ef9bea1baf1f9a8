// Rendering a letter allocates and frees a few hundred KB (layouts, the PDF buffer) on
// whichever thread runs the job. glibc gives the top of a heap back to the kernel as
// soon as more than 128 KB of it is free (madvise, then mprotect to grow it again, each
// with a TLB shootdown on the other core): three such calls per letter. Keeping freed
// memory costs nothing in peak RSS (the high-water mark is the same) and measured 4 to 6 %
// less CPU per letter (docs/PERFORMANCE.md). The daemon calls it once at start.
#include <malloc.h>

#include "process_tuning.h"

int relance_keep_freed_memory(int bytes) {
#ifdef M_TRIM_THRESHOLD
    return mallopt(M_TRIM_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}
