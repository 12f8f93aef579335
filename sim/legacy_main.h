/* legacy_main.h - `dfusim --protocol legacy` (legacy_main.c). */
#ifndef DFUKIT_SIM_LEGACY_MAIN_H
#define DFUKIT_SIM_LEGACY_MAIN_H

#include "dfukit/cli.h"

/* Its command line: a mode of dfusim's table (--protocol legacy). */
extern const dk_cli_tool ds_legacy_cli;

/* The whole program for the legacy protocol: argv as dfusim got it. */
int ds_legacy_main(int argc, char **argv);

#endif
