/*
 * clock.h - monotonic milliseconds, for deadlines and durations.
 */
#ifndef TH_CLOCK_H
#define TH_CLOCK_H

/* Milliseconds of CLOCK_MONOTONIC (a vDSO call: no syscall in the sandbox). */
long long mono_ms(void);

#endif
