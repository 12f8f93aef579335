/* dfusim.h - the inside of dfusim's Secure DFU adapter, shared by its files
 * (not a public header; the legacy adapter is legacy_main.c):
 *
 *   dfusim.c      main: setup from the options, the main loop (poll on the
 *                 pty, the signals and the --control socket), the pty reads
 *   sim_opts.c    the command line: the option table (cli.h), --scenario's
 *                 defaults, what goes together
 *   sim_chip.c    the chip's life: boot, reset, power cut, faults that fire
 *                 outside a request, the flash hook, timers; logging and the
 *                 capture
 *   sim_serve.c   requests and answers: deframing, the fault matcher around
 *                 ds_bl_handle, the answer queue, the realtime line model
 *   sim_ctl.c     what the --control socket's commands do (control.h reads
 *                 and parses them)
 *
 * Data path:  pty -> inbuf -> deframer -> rxq -> ds_bl_handle -> txq -> pty.
 */
#ifndef DFUKIT_SIM_DFUSIM_H
#define DFUKIT_SIM_DFUSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl.h"
#include "control.h"
#include "dfukit/capfile.h"
#include "dfukit/cli.h"
#include "dfukit/pty.h"
#include "dfukit/scenario.h"
#include "dfukit/slip.h"
#include "fault.h"
#include "flash.h"
#include "line.h"
#include "proc.h"

#define TOOL "dfusim"
#define RXQ_LEN 16
#define TXQ_LEN 16
#define NO_HOST_POLL_MS 20 /* re-check for a host this often while none has the port */
#define RSP_CAP 64
#define VCLOCK_EPOCH_US 1715680800000000LL /* --clock virtual starts 2024-05-14 10:00:00 UTC */

typedef struct {
    ds_bl_config cfg;
    const char *flash_path, *dump_hex, *capture, *link, *control;
    bool show_settings, realtime;
    bool hwfc;     /* --hwfc: NRF_DFU_SERIAL_UART_USES_HWFC */
    ds_link transport; /* --transport uart|usb */
    bool vclock; /* --clock virtual: capture time from the line model, not the wall */
    long baud;
    int verbose; /* -1 quiet, 0 normal, 1 -v, 2 -vv */
    ds_faults faults;
    const char *scenario_path; /* --scenario FILE */
    dk_scenario *scen;         /* its contents, or NULL */
    /* parse time: the first pass's options, and the SoftDevice asked for */
    const char *chip, *time_scale;
    bool sd;
    uint32_t sd_end;
    bool mtu_set, transport_set, app_cli; /* given on the command line */
} options;

typedef struct {
    uint8_t *buf;
    size_t len;
    uint64_t ready_us; /* its last byte has arrived */
} rx_frame;

typedef struct {
    uint8_t buf[DK_SLIP_MAX_ENCODED(RSP_CAP)];
    size_t len;
    uint64_t at_us; /* release time */
    uint64_t start_ns; /* realtime: its first byte leaves the chip (model time) */
    int64_t v_t_us;    /* --clock virtual: its capture time stamp, fixed when queued, */
    uint64_t v_due_ns; /* or, when delayed (-1), when it is sent, not before this */
} tx_frame;

typedef struct {
    options o;
    dk_pty pty;
    ds_flash *flash;
    ds_bl *bl;
    dk_cap_writer *cap;
    uint64_t t0_us;

    /* --clock virtual: nanoseconds since VCLOCK_EPOCH_US, advanced by line
     * time and flash busy time only; host bytes are captured per frame as the
     * chip takes them, so the same conversation gives the same pcap. */
    uint64_t v_ns, vbyte_ns;
    uint8_t vhost[4096];
    size_t vhost_len;

    dk_slip_dec dec;
    uint8_t *dec_buf;
    size_t frame_cap;

    uint8_t inbuf[4096];
    size_t inpos, inlen;

    rx_frame rxq[RXQ_LEN];
    size_t rx_head, rx_n;
    tx_frame txq[TXQ_LEN];
    size_t tx_head, tx_n;

    /* chip state the adapter owns */
    bool in_dfu, stalled, off;
    bool paused; /* a pause fault: input waits (CTS off) until "resume" */
    uint64_t off_until_us;
    uint64_t ignored; /* bytes ignored while stalled / off / app running */

    /* realtime: the line model, in nanoseconds since t0_us */
    ds_line *line;
    uint64_t byte_us;   /* instant mode: 0 */
    uint64_t rt_idle_ns; /* the pty was last seen empty then */
    uint64_t rt_t_ns;    /* the model time of the event being handled (0: now) */
    bool rt_peek;        /* an answer went out: look at the pty at once */
    bool rt_deaf;        /* the model was told the chip does not listen */
    bool rt_handling;    /* a request is being handled: flash ops stop the CPU */
    bool rt_overrun;     /* ... and a byte overran the UARTE meanwhile */
    uint64_t rt_answer_bytes, rt_wait_ns; /* for the prediction logged at exit */

    bool host_open;
    char lineset[64]; /* the host's line settings, as last logged */

    ds_ctl ctl; /* --control */
} sim;

static inline uint64_t now_us(const sim *s)
{
    return ds_mono_us() - s->t0_us;
}

static inline uint64_t now_ns(const sim *s)
{
    return now_us(s) * 1000u;
}

static inline uint64_t now_ms(const sim *s)
{
    return now_us(s) / 1000u;
}

/* When the model's current event happens (a reset after an overrun, after a
 * request's flash work), or now. */
static inline uint64_t rt_when(const sim *s)
{
    return s->rt_t_ns ? s->rt_t_ns : now_ns(s);
}

/* ---- sim_opts.c: the command line ---- */

extern const dk_cli_tool ds_sim_cli;
/* DK_CLI_GO: serve; else the exit status (after the message). */
int sim_parse_args(int argc, char **argv, options *o);

/* ---- sim_chip.c: logging, the capture, the chip's life ---- */

/* level 0: anomalies and state changes (-q hides), 1: -v, 2: -vv */
void sim_log(const sim *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sim_describe(const uint8_t *p, size_t n, char *out, size_t cap);
/* --clock virtual: n more bytes cross the line; the time their last one has. */
int64_t sim_vclock_line(sim *s, size_t n);
/* t < 0: now (or, with --clock virtual, after n bytes of line time). */
void sim_capture_at(sim *s, dk_dir dir, const uint8_t *p, size_t n, int64_t t);
void sim_capture(sim *s, dk_dir dir, const uint8_t *p, size_t n);
/* --clock virtual: host bytes go into the capture one frame per packet. */
void sim_vcap_flush(sim *s);
void sim_vcap_host(sim *s, const uint8_t *p, size_t n);
void sim_log_fired(sim *s, const ds_fault_fire *f, const char *where);
void sim_drop_rx(sim *s);
/* Boot (reset or power-on) until no fault interrupts it. */
void sim_boot(sim *s, bool power_on, const char *why);
/* off_ms 0: power back on at once. */
void sim_power_cut(sim *s, uint32_t off_ms, const char *why);
void sim_pause_input(sim *s);
void sim_apply_fire(sim *s, const ds_fault_fire *f);
/* The flash's hook (flash.h): flash-op faults, realtime CPU halts. */
ds_flash_verdict sim_flash_hook(void *ctx, int is_erase, uint32_t addr, uint32_t len, uint64_t op_no);
/* Power back on, timed faults, the bootloader's inactivity timer. */
void sim_timers(sim *s);

/* ---- sim_serve.c: requests and answers ---- */

/* Write the answers that are due. */
void sim_flush_tx(sim *s);
/* Move data along until nothing moves (instant mode). */
void sim_pump(sim *s);
/* Realtime: run the model up to now, answers out as they fall due. */
void sim_rt_pump(sim *s);
/* Realtime, while the CPU waits on the flash: the UART goes on. */
void sim_rt_busy(sim *s);

/* ---- sim_ctl.c: the --control commands ---- */

/* Write the flash as Intel HEX; false after a log line (err says why). */
bool sim_dump_hex(sim *s, const char *path, dk_err *err);
/* One request from the socket (ds_ctl_read's callback): done, answered. */
void sim_control(void *ctx, const ds_ctl_req *req);

/* ---- dfusim.c: the pty ---- */

/* One read from the pty; base_ns: when its bytes can have begun to arrive.
 * -1 after a line on stderr when the pty fails. */
int sim_read_pty(sim *s, uint64_t base_ns);
void sim_note_host(sim *s, bool open);

#endif
