/* The BLAS floor of the NMF benchmark: sustained OpenBLAS sgemm rate (GFLOP/s) for the products of one
 * Frobenius NMF iteration on an n x p matrix with K stacked components: X H^T (n x p times p x K) and
 * W^T X (K x n times n x p). Usage: sgemm_rate N P K REPEATS. Prints "gflops <rate>". */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s N P K REPEATS\n", argv[0]); return 2; }
    int n = atoi(argv[1]), p = atoi(argv[2]), k = atoi(argv[3]), reps = atoi(argv[4]);
    float *x = malloc(sizeof(float) * (size_t)n * p), *h = malloc(sizeof(float) * (size_t)k * p);
    float *w = malloc(sizeof(float) * (size_t)n * k), *out = malloc(sizeof(float) * (size_t)k * p);
    float *xht = malloc(sizeof(float) * (size_t)n * k);
    for (size_t i = 0; i < (size_t)n * p; i++) x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (size_t i = 0; i < (size_t)k * p; i++) h[i] = (float)(i % 97) / 97.0f;
    for (size_t i = 0; i < (size_t)n * k; i++) w[i] = (float)(i % 89) / 89.0f;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, p, 1, x, p, h, p, 0, xht, k);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, p, n, 1, w, k, x, p, 0, out, p);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("gflops %.2f\n", 4.0 * n * p * (double)k / best / 1e9);
    return 0;
}
