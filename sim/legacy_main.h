/* legacy_main.h - `dfusim --protocol legacy` (legacy_main.c). */
#ifndef DFUKIT_SIM_LEGACY_MAIN_H
#define DFUKIT_SIM_LEGACY_MAIN_H

/* The whole program for the legacy protocol: argv as dfusim got it. */
int ds_legacy_main(int argc, char **argv);

#endif
