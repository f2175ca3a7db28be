/* This CPU's fp32 fused-multiply-add peak, the ceiling no matmul library can pass: each thread runs
   12 independent chains of 8-wide FMAs (enough to hide the instruction's latency), so only the number
   of FMA units and the clock limit the count. Built and run by train_throughput.py.

   usage: fma_peak THREADS ITERATIONS  ->  prints GFLOP/s */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12
static long iterations;

static void *spin(void *out) {
    __m256 acc[CHAINS];
    const __m256 scale = _mm256_set1_ps(0.999999f), shift = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_set1_ps((float)c);
    for (long i = 0; i < iterations; i++)
#pragma GCC unroll 12 /* the accumulators must live in registers */
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], scale, shift);
    float lanes[8], sum = 0.0f;
    for (int c = 0; c < CHAINS; c++) {
        _mm256_storeu_ps(lanes, acc[c]);
        sum += lanes[0];
    }
    *(float *)out = sum; /* a used result: the loop cannot be optimised away */
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    iterations = argc > 2 ? atol(argv[2]) : 100000000L;
    if (threads < 1 || threads > 256) return 2;
    pthread_t *ids = malloc(sizeof(pthread_t) * threads);
    float *sums = malloc(sizeof(float) * threads);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, spin, &sums[t]);
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("%.2f\n", 2.0 * 8 * CHAINS * (double)iterations * threads / seconds / 1e9);
    return sums[0] == -1.0f; /* never true; keeps the sums alive */
}
