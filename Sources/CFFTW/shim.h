#include <fftw3.h>

/* Planner flags are macros; FFTW_ESTIMATE plans without timing trials, so a plan (and its
   results, bit for bit) does not depend on how busy the machine was when it was made. */
static inline unsigned nk_fftw_estimate(void) { return FFTW_ESTIMATE; }
static inline unsigned nk_fftw_destroy_input(void) { return FFTW_DESTROY_INPUT; }
