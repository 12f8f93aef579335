/* proc.h - what both of dfusim's pty adapters (dfusim.c for Secure DFU,
 * legacy_main.c for legacy HCI DFU) do as a process, written once:
 *
 *   signals   SIGTERM/SIGINT quit, SIGUSR1 resets the chip, SIGUSR2 cuts its
 *             power, SIGHUP dumps the flash (or quits, for an adapter with no
 *             dump); each handler sets its flag and writes to a self-pipe
 *             whose read end the main loop polls (ds_sig_fd)
 *   clock     CLOCK_MONOTONIC in microseconds
 *   log       "dfusim: S.mmm text" on stderr, S.mmm since the adapter began
 *   port      the pty a host opens, its --link and its --capture, set up in
 *             one step with one line on stderr for what fails
 *   flash     the chip's flash from --flash FILE, or in RAM
 */
#ifndef DFUKIT_SIM_PROC_H
#define DFUKIT_SIM_PROC_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "dfukit/capfile.h"
#include "dfukit/pty.h"
#include "chip.h"
#include "flash.h"

#define DS_TOOL "dfusim"

extern volatile sig_atomic_t ds_sig_quit, ds_sig_reset, ds_sig_cut, ds_sig_dump;

/* Install the handlers and the self-pipe.  hup_dumps: SIGHUP sets
 * ds_sig_dump, else it quits.  -1 with errno when the pipe cannot be made. */
int ds_sig_setup(bool hup_dumps);
/* The self-pipe's read end (readable after any of the signals). */
int ds_sig_fd(void);
/* Empty the self-pipe (after poll said it is readable). */
void ds_sig_drain(void);

uint64_t ds_mono_us(void);

/* One log line, ms being the time since the adapter began. */
void ds_vlog(uint64_t ms, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Open the pty (no host yet, its opening watched), link it at link (when not
 * NULL) and create the capture at capture (when not NULL: *cap, else *cap is
 * NULL).  0, or -1 after one line on stderr with nothing left open. */
int ds_port_open(dk_pty *pty, const char *link, const char *capture, dk_cap_writer **cap);

/* The chip's flash: the file at path (a missing one is made blank, or with
 * must_exist refused), or RAM when path is NULL.  *fresh: it starts blank.
 * 0 with *out set (NULL only when out of memory), or -1 after one line on
 * stderr. */
int ds_flash_setup(const char *path, const ds_chip *c, bool must_exist, ds_flash **out, bool *fresh);

#endif
