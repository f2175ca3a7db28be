/* This CPU's fp32 fused-multiply-add peak, the ceiling no matmul library can pass: each thread runs
   12 independent chains of vector FMAs (enough to hide the instruction's latency), so only the number
   of FMA units and the clock limit the count. 8 lanes (AVX2) by default, 16 where the compiler targets
   AVX-512 (-march=native on such a CPU): some CPUs double their peak with it, some do not, so
   train_throughput.py builds both and keeps the better.

   usage: fma_peak THREADS ITERATIONS  ->  prints GFLOP/s */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef __AVX512F__
#define LANES 16
typedef __m512 vec;
#define SET1 _mm512_set1_ps
#define FMADD _mm512_fmadd_ps
#define STOREU _mm512_storeu_ps
#else
#define LANES 8
typedef __m256 vec;
#define SET1 _mm256_set1_ps
#define FMADD _mm256_fmadd_ps
#define STOREU _mm256_storeu_ps
#endif

#define CHAINS 12
static long iterations;

static void *spin(void *out) {
    vec acc[CHAINS];
    const vec scale = SET1(0.999999f), shift = SET1(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = SET1((float)c);
    for (long i = 0; i < iterations; i++)
#pragma GCC unroll 12 /* the accumulators must live in registers */
        for (int c = 0; c < CHAINS; c++) acc[c] = FMADD(acc[c], scale, shift);
    float lanes[LANES], sum = 0.0f;
    for (int c = 0; c < CHAINS; c++) {
        STOREU(lanes, acc[c]);
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
    printf("%.2f\n", 2.0 * LANES * CHAINS * (double)iterations * threads / seconds / 1e9);
    return sums[0] == -1.0f; /* never true; keeps the sums alive */
}
