/* What the first write to fresh memory costs on this machine, against writing the same memory again.
 *
 * Every new page a process writes (its own buffers, or the page cache behind a file it writes) is allocated and
 * zeroed by the kernel at its first touch; on a virtual machine whose free memory goes back to the host (free
 * page reporting, a balloon), the host maps it again as well. stemrun register touches fresh pages for its ring
 * of prepared scan rows and for every page of the output file; this measures the price per 4 KiB page.
 * Build and run: bench/machine/first-touch.sh [MiB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    size_t bytes = (size_t)(argc > 1 ? atoi(argv[1]) : 72) << 20, pages = bytes / 4096;
    const char *ways[] = {"one write per page", "madvise(MADV_POPULATE_WRITE)", "madvise(MADV_HUGEPAGE), one write per page"};
    for (int k = 0; k < 3; k++) {
        char *a = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a == MAP_FAILED) { perror("mmap"); return 1; }
        double t0 = now();
        if (k == 1) {
            if (madvise(a, bytes, MADV_POPULATE_WRITE) != 0) perror("madvise(MADV_POPULATE_WRITE)");
        } else {
            if (k == 2 && madvise(a, bytes, MADV_HUGEPAGE) != 0) perror("madvise(MADV_HUGEPAGE)");
            for (size_t i = 0; i < bytes; i += 4096) a[i] = 1;
        }
        double t1 = now();
        memset(a, 2, bytes);
        double t2 = now();
        printf("%zu MiB, first touch by %s: %.1f ms (%.2f us per 4 KiB page); memset of the same memory after: %.1f ms\n",
               bytes >> 20, ways[k], (t1 - t0) * 1e3, (t1 - t0) * 1e6 / pages, (t2 - t1) * 1e3);
        munmap(a, bytes);
    }
    return 0;
}
