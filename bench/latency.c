/*
 * latency.c - the latency histogram.
 *
 * Every timed operation is recorded, so the quantiles come from all of
 * them, not from a sample.  Buckets are log-linear: values below 128 ns
 * have a bucket each; above, each power of two [2^k, 2^(k+1)) is cut into
 * 64 equal buckets, so a quantile is off by at most 1/64 of its value.  A
 * histogram is a flat array, so a child process can send it down a pipe as
 * it is and the parent can add workers' histograms together.
 */
#include "bench.h"

static size_t bucket_of(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (size_t)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 6;                          /* >= 1: v >= 128     */
    uint64_t mant = v >> shift;                   /* in [64, 128)       */
    size_t i = 2 * HIST_SUB + (size_t)(shift - 1) * HIST_SUB +
               (size_t)(mant - HIST_SUB);
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

/* The middle of bucket i, in nanoseconds. */
static double bucket_mid(size_t i)
{
    if (i < 2 * HIST_SUB)
        return (double)i;
    size_t k = i - 2 * HIST_SUB;
    int shift = (int)(k / HIST_SUB) + 1;
    uint64_t mant = HIST_SUB + k % HIST_SUB;
    double low = (double)(mant << shift);
    return low + (double)((uint64_t)1 << shift) / 2.0;
}

void hist_add(struct bench_hist *h, uint64_t ns)
{
    h->b[bucket_of(ns)]++;
    h->n++;
}

void hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->n += from->n;
}

double hist_quantile_us(const struct bench_hist *h, double q)
{
    if (h->n == 0)
        return 0.0;
    /* The smallest value with at least q of the values at or below it. */
    uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank)
            return bucket_mid(i) / 1000.0;
    }
    return bucket_mid(HIST_BUCKETS - 1) / 1000.0;
}
