/* diag_host.c - what the host's own words say, and the diagnosis rows that
 * read it: the serial port (not found, busy, no permission, gone, a write
 * that timed out), a legacy host's packet that got no acknowledgement (and
 * at which step: START, init packet, firmware), an answer no DFU bootloader
 * gives, the BLE adapter, Programmer's J-Link, MCUboot and USB failures,
 * mcumgr, crashes of the tools themselves, and logs that stop early.  The
 * rows are tried right after update.completed (diag.c); their facts come
 * from the log reader's TOOL records (logread.h). */
#include "dfukit/diag.h"

#include <stdio.h>
#include <string.h>

#include "dfukit/tables.h"

#define ANY DK_DIAG_ANY
#define NX(k) (1u << (k))

/* ---- facts ------------------------------------------------------------------ */

static void cpy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void command(dk_diag_facts *f, const dk_tool_ev *t)
{
    f->cmd_seen = true;
    if (strcmp(t->u.cmd.tool, "nrfjprog") == 0) {
        f->erased |= strstr(t->u.cmd.sub, "erase") != NULL;
        return;
    }
    cpy(f->cmd_tool, sizeof f->cmd_tool, t->u.cmd.tool);
    cpy(f->cmd_sub, sizeof f->cmd_sub, t->u.cmd.sub);
    f->cmd_transfer = t->u.cmd.transfer;
    if (!t->u.cmd.transfer)
        return;
    f->run_started = true;
    f->has_port = t->u.cmd.has_port;
    cpy(f->port, sizeof f->port, t->u.cmd.port);
    f->touch = t->u.cmd.touch;
    bool legacy = strcmp(t->u.cmd.tool, "adafruit-nrfutil") == 0;
    f->legacy |= legacy;
    bool nrf = strcmp(t->u.cmd.tool, "nrfutil") == 0;
    if (nrf || legacy || strcmp(t->u.cmd.tool, "dfuhost") == 0) {
        cpy(f->host_tool, sizeof f->host_tool,
            nrf && strcmp(t->u.cmd.sub, "ble") == 0 ? "nrfutil-ble" : t->u.cmd.tool);
        /* defaults: nrfutil serial RTS/CTS on (§1.4); the others off */
        f->flow_control = t->u.cmd.fc >= 0 ? t->u.cmd.fc
                          : nrf && strcmp(t->u.cmd.sub, "serial") == 0 ? 1
                                                                       : 0;
        if (t->u.cmd.baud)
            f->baud = t->u.cmd.baud;
        if (t->u.cmd.prn >= 0)
            f->prn = t->u.cmd.prn;
    }
}

static dk_host_stage lg_step(dk_lg_what w)
{
    switch (w) {
    case DK_LG_SEND_START: return DK_HS_START;
    case DK_LG_SEND_INIT: return DK_HS_INIT;
    case DK_LG_SEND_FW: return DK_HS_FIRMWARE;
    case DK_LG_ACTIVATING: return DK_HS_ACTIVATE;
    default: return DK_HS_NONE;
    }
}

static void legacy(dk_diag_facts *f, const dk_tool_ev *t)
{
    f->legacy = true;
    dk_host_stage st = lg_step(t->u.lg.what);
    if (st != DK_HS_NONE)
        f->lg_stage = st;
    switch (t->u.lg.what) {
    case DK_LG_UPGRADING:
        f->run_started = true;
        if (!f->has_port) {
            f->has_port = true;
            cpy(f->port, sizeof f->port, t->text);
        }
        if (t->u.lg.fc >= 0)
            f->flow_control = t->u.lg.fc;
        if (t->u.lg.touch)
            f->touch = t->u.lg.touch;
        if (!f->host_tool[0])
            cpy(f->host_tool, sizeof f->host_tool, "adafruit-nrfutil");
        break;
    case DK_LG_TOUCHED: f->lg_touched = true; break;
    case DK_LG_MARKS:
        f->lg_marks += t->u.lg.marks;
        f->lg_stage = DK_HS_FIRMWARE;
        break;
    case DK_LG_NO_ACK:
        f->lg_no_ack = true;
        f->lg_no_ack_stage = f->lg_stage;
        f->lg_no_ack_marks = f->lg_marks;
        break;
    case DK_LG_ACTIVATING: f->lg_activating = true; break;
    case DK_LG_NO_NEW_PORT: f->lg_no_new_port = true; break;
    case DK_LG_IDE_TOUCH: f->run_started = true; break;
    default: break;
    }
}

static void ble(dk_diag_facts *f, const dk_tool_ev *t)
{
    switch (t->u.ble.what) {
    case DK_BLE_CONN_FW:
        f->conn_fw = true;
        cpy(f->conn_fw_text, sizeof f->conn_fw_text, t->text);
        f->conn_api = t->u.ble.api;
        break;
    case DK_BLE_OPENED: f->ble_opened = true; break;
    case DK_BLE_NO_RESPONSE: f->ble_no_response = true; break;
    case DK_BLE_ATT_MTU: f->att_mtu = t->u.ble.value; break;
    case DK_BLE_NO_PORTS: f->ble_no_ports = true; break;
    case DK_BLE_FLASHED: f->ble_flashed = true; break;
    case DK_BLE_WRITE_LIST: f->ble_writes_only = true; break;
    case DK_BLE_CONNECTING:
    case DK_BLE_SCANNING:
    case DK_BLE_OPENING: f->run_started = true; break;
    default: break;
    }
}

static void programmer(dk_diag_facts *f, const dk_tool_ev *t)
{
    if (t->kind == DK_TOOL_PROG_ERROR) {
        if (t->u.perr.ext > 0) /* 0 or -1: none */
            f->prog_ext = t->u.perr.ext;
        if (t->u.perr.result > 0)
            f->prog_result = t->u.perr.result;
        if (t->u.perr.devlib > 0)
            f->prog_devlib = t->u.perr.devlib;
        f->prog_mcuboot |= t->u.perr.mcuboot;
        f->prog_usb_probe |= t->u.perr.usb_probe;
        return;
    }
    switch (t->u.step.step) {
    case DK_PSTEP_UNKNOWN_DEVICE: f->prog_unknown_device = true; break;
    case DK_PSTEP_FILE:
    case DK_PSTEP_SEGMENT:
    case DK_PSTEP_MODEM: f->prog_writing = f->run_started = true; break;
    default:
        if (strstr(t->text, "Writing ") || strstr(t->text, "writing"))
            f->prog_writing = f->run_started = true;
        break;
    }
}

static void exception(dk_diag_facts *f, const dk_tool_ev *t)
{
    f->image_sent_last = false;
    if (f->exc != t->u.exc.nx)
        return; /* diag.c kept an earlier, more specific one */
    if (t->u.exc.stage != DK_HS_NONE) {
        f->exc_stage = t->u.exc.stage;
        cpy(f->exc_func, sizeof f->exc_func, t->u.exc.func);
        cpy(f->exc_op, sizeof f->exc_op, t->u.exc.op);
    } else if (!f->exc_func[0]) {
        cpy(f->exc_func, sizeof f->exc_func, t->u.exc.func);
    }
}

void dk_diag_facts_host(dk_diag_facts *f, const dk_tool_ev *t)
{
    switch (t->kind) {
    case DK_TOOL_COMMAND: command(f, t); break;
    case DK_TOOL_VERSION:
        if (strcmp(t->u.ver.what, "nrfutil") == 0 || strcmp(t->u.ver.what, "adafruit-nrfutil") == 0)
            f->host_ver = t->u.ver.major << 16 | t->u.ver.minor << 8 | t->u.ver.patch;
        break;
    case DK_TOOL_LEGACY: legacy(f, t); break;
    case DK_TOOL_BLE: ble(f, t); break;
    case DK_TOOL_PROG_STEP:
    case DK_TOOL_PROG_ERROR: programmer(f, t); break;
    case DK_TOOL_EXCEPTION: exception(f, t); break;
    case DK_TOOL_TRACEBACK:
        f->traceback = true;
        if (t->u.exc.stage != DK_HS_NONE || t->u.exc.func[0]) { /* cut: where it got */
            f->tb_stage = t->u.exc.stage;
            cpy(f->tb_func, sizeof f->tb_func, t->u.exc.func);
        }
        break;
    case DK_TOOL_IMAGE_SENT: f->image_sent_last = true; break;
    case DK_TOOL_PORT:
    case DK_TOOL_IMAGE: f->run_started = true; break;
    case DK_TOOL_PROGRESS: f->run_started = true; break;
    case DK_TOOL_MCUMGR:
        switch (t->u.mcu.what) {
        case DK_MCU_NMP_TIMEOUT: f->mcu_nmp_timeout = true; break;
        case DK_MCU_PANIC: f->mcu_panic = true; break;
        case DK_MCU_RX_TEXT: f->mcu_rx_text = true; break;
        case DK_MCU_PROGRESS:
            f->mcu_done = t->u.mcu.done;
            f->run_started = true;
            break;
        default: break;
        }
        break;
    default: break;
    }
}

/* ---- where the host was ---------------------------------------------------------- */

/* The step a legacy host was in when it got no acknowledgement. */
static dk_host_stage lg_where(const dk_diag_facts *f)
{
    if ((f->exc_mask & NX(DK_NX_NO_DATA)) && f->exc_stage != DK_HS_NONE)
        return f->exc_stage;
    if (f->lg_no_ack && f->lg_no_ack_stage != DK_HS_NONE)
        return f->lg_no_ack_marks ? DK_HS_FIRMWARE : f->lg_no_ack_stage;
    if (f->tb_stage != DK_HS_NONE)
        return f->tb_stage;
    if (f->lg_marks)
        return DK_HS_FIRMWARE;
    return f->lg_stage != DK_HS_NONE ? f->lg_stage : DK_HS_START;
}

void dk_diag_where(const dk_diag_facts *f, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n < cap) {                                                                             \
            int k_ = snprintf(buf + n, cap - n, __VA_ARGS__);                                     \
            n += k_ > 0 ? (size_t)k_ : 0;                                                          \
        }                                                                                          \
    } while (0)
    if (f->cmd_tool[0] || f->host_tool[0])
        ADD("%s", f->cmd_tool[0] ? f->cmd_tool : f->host_tool);
    if (f->host_ver)
        ADD(" %u.%u.%u", f->host_ver >> 16, f->host_ver >> 8 & 0xFF, f->host_ver & 0xFF);
    if (f->cmd_sub[0])
        ADD(" %s", f->cmd_sub);
    if (f->has_port)
        ADD(", port %s", f->port);
    if (f->touch)
        ADD(", --touch %u", (unsigned)f->touch);
    if (f->legacy && (f->lg_no_ack || (f->exc_mask & NX(DK_NX_NO_DATA))))
        ADD(", no acknowledgement at the %s step", dk_host_stage_name(lg_where(f)));
    else if (f->exc_stage != DK_HS_NONE)
        ADD(", stopped in the %s step (in %s)", dk_host_stage_name(f->exc_stage), f->exc_func);
    else if (f->tb_func[0] && !f->has_exc)
        ADD(", the traceback stops in %s", f->tb_func);
    if (f->tb_stage != DK_HS_NONE && f->exc_stage == DK_HS_NONE && !f->has_exc)
        ADD(" (the %s step)", dk_host_stage_name(f->tb_stage));
    if (f->lg_marks) /* a mark per DATA frame acknowledged after the first (§13.13) */
        ADD(", %u progress marks (about %u bytes acknowledged)", f->lg_marks,
            (f->lg_marks + 1) * 512);
    if (f->conn_fw)
        ADD(", %s", f->conn_fw_text);
    if (f->att_mtu)
        ADD(", ATT MTU %u", f->att_mtu);
    if (n && n < cap && buf[0] == ',') /* nothing named the tool */
        memmove(buf, buf + 2, strlen(buf + 2) + 1);
#undef ADD
}

/* ---- predicates ------------------------------------------------------------------- */

static bool open_(const dk_summary *s, const dk_diag_facts *f)
{
    return s->outcome != DK_OUTCOME_COMPLETED && !f->done && !f->image_sent_last;
}

#define EXC(f, k) (((f)->exc_mask & NX(k)) != 0)

static bool jlink_busy(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->prog_error && f->prog_has_code && f->prog_code == 9 &&
           f->prog_has_lowlevel && f->prog_lowlevel == -102;
}

static bool prog_timeout(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->prog_error && f->prog_has_lowlevel &&
           (f->prog_lowlevel == -220 || f->prog_lowlevel == -105);
}

static bool mcuboot_timeout(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->prog_error && f->prog_mcuboot && f->prog_devlib == 603;
}

static bool usb_probe(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->prog_error && f->prog_usb_probe;
}

static bool dfu_refused(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->prog_error && f->prog_result >= 0 && f->prog_ext < 0;
}

static bool touch_no_port(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_PORT_NOT_FOUND) && (f->touch || f->lg_touched);
}

static bool port_not_found(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_PORT_NOT_FOUND);
}

static bool port_busy(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_PORT_BUSY);
}

static bool port_denied(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_PORT_DENIED);
}

/* Windows turns a port that stopped working while open into
 * PermissionError(13, ...) from ClearCommError / WriteFile. */
static bool port_access_lost(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_PORT_GONE) && strstr(f->exc_text, "PermissionError") &&
           f->exc_stage != DK_HS_OPEN;
}

static bool port_gone(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_PORT_GONE);
}

static bool write_timeout(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_WRITE_TIMEOUT);
}

static bool ack_late(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_PORT_NOT_OPEN) && f->lg_no_ack;
}

static bool package_invalid(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_PACKAGE);
}

static bool ble_driver(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_TOOL_BUG) && strstr(f->exc_text, "NoneType") &&
           (strstr(f->exc_func, "write") || strcmp(f->host_tool, "nrfutil-ble") == 0);
}

static bool connectivity(const dk_summary *s, const dk_diag_facts *f)
{
    bool unflashed = f->erased && strcmp(f->cmd_sub, "ble") == 0 && !f->ble_flashed &&
                     f->traceback && !f->has_exc;
    return open_(s, f) && (EXC(f, DK_NX_BLE_OPEN) || EXC(f, DK_NX_BOARD_NOT_FOUND) ||
                           f->ble_no_response || f->ble_no_ports || unflashed);
}

static bool adapter_lost(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_BLE_RPC);
}

static bool ble_mtu(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->has_exc &&
           (strstr(f->exc_func, "mtu") || strstr(f->exc_text, "MTU") || strstr(f->exc_text, "_mtu"));
}

static bool ble_timeout(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_TIMEOUT);
}

/* An opcode byte no Secure DFU message has (protocol.md §2.2). */
static bool no_opcode(uint32_t v)
{
    return v > 0xFF || (v != DK_OP_RESPONSE && !dk_op_name(v));
}

/* The host's first requests: PING (nrfutil 5-6), PRN (nrfutil 3-4 USB),
 * PROTOCOL_VERSION, MTU. */
static bool first_request(uint32_t op)
{
    return op == DK_OP_PING || op == DK_OP_RECEIPT_NOTIF_SET || op == DK_OP_PROTOCOL_VERSION ||
           op == DK_OP_MTU_GET;
}

static bool foreign_byte(const dk_diag_facts *f)
{
    return (f->exc == DK_NX_UNEXPECTED_OP && f->exc_values && no_opcode(f->exc_received)) ||
           (f->exc == DK_NX_NOT_RESPONSE && f->exc_values && f->exc_received != DK_OP_RESPONSE);
}

static bool not_dfu(const dk_summary *s, const dk_diag_facts *f)
{
    if (!open_(s, f))
        return false;
    if (f->mcu_rx_text)
        return true;
    bool first = f->exc == DK_NX_NOT_RESPONSE
                     ? f->exc_stage == DK_HS_NONE || f->exc_stage == DK_HS_OPEN
                     : first_request(f->exc_expected);
    return f->has_exc && foreign_byte(f) && first;
}

static bool garbled(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->has_exc && foreign_byte(f);
}

static bool lg_failed(const dk_diag_facts *f)
{
    return EXC(f, DK_NX_NO_DATA) || (f->legacy && f->lg_no_ack) || (f->hci_out && !f->hci_in);
}

/* The legacy rows read the host's words (a log) or the packets themselves
 * (a capture): one id per cause, whichever shows it. */
static bool no_ack_start(const dk_summary *s, const dk_diag_facts *f)
{
    dk_host_stage w = lg_where(f);
    if (s->legacy && s->outcome == DK_OUTCOME_NO_RESPONSE) /* no packet acknowledged */
        return true;
    return open_(s, f) && lg_failed(f) && (w == DK_HS_START || w == DK_HS_OPEN);
}

static bool no_ack_init(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && lg_failed(f) && lg_where(f) == DK_HS_INIT;
}

static bool no_ack_data(const dk_summary *s, const dk_diag_facts *f)
{
    if (s->legacy && s->outcome == DK_OUTCOME_INTERRUPTED &&
        (s->an_count[DK_AN_HCI_NO_ACK] || s->an_count[DK_AN_LEGACY_DEVICE_RESET]))
        return true; /* the packets show it: ACKs stopped, or the device started over */
    return open_(s, f) && lg_failed(f);
}

static bool init_corrupt(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_INIT_FAILED) && !s->an_count[DK_AN_DFU_CRC_MISMATCH];
}

/* nrfutil 6 looks the port up by the USB serial number when -p is not given,
 * and crashes on a device whose serial number is None. */
static bool no_port_crash(const dk_summary *s, const dk_diag_facts *f)
{
    bool six = !f->host_ver || (f->host_ver >> 16) == 6;
    return open_(s, f) && strcmp(f->cmd_tool, "nrfutil") == 0 &&
           (strcmp(f->cmd_sub, "serial") == 0 || strcmp(f->cmd_sub, "usb-serial") == 0) &&
           !f->has_port && f->traceback && six && s->requests + s->responses == 0 &&
           f->tb_stage == DK_HS_NONE && f->exc_stage == DK_HS_NONE &&
           (!f->has_exc || f->exc == DK_NX_TOOL_BUG);
}

static bool tool_bug(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_TOOL_BUG);
}

static bool interrupted(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && EXC(f, DK_NX_INTERRUPTED);
}

static bool mcu_panic(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->mcu_panic;
}

static bool mcu_silent(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->mcu_nmp_timeout && f->mcu_done == 0;
}

static bool mcu_stalled(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && f->mcu_nmp_timeout;
}

/* Nothing failed so far: the log just stops. */
static bool quiet(const dk_summary *s, const dk_diag_facts *f)
{
    return open_(s, f) && !f->has_exc && !f->prog_error && f->no_ping == 0 &&
           s->requests + s->responses == 0;
}

static bool device_unknown(const dk_summary *s, const dk_diag_facts *f)
{
    return quiet(s, f) && f->prog_unknown_device;
}

static bool adapter_ready(const dk_summary *s, const dk_diag_facts *f)
{
    return quiet(s, f) && f->ble_opened && !f->traceback && !f->cmd_transfer;
}

static bool writes_only(const dk_summary *s, const dk_diag_facts *f)
{
    return dk_diag_one_sided(s, f);
}

static bool traceback_cut(const dk_summary *s, const dk_diag_facts *f)
{
    return quiet(s, f) && f->traceback;
}

static bool no_transfer(const dk_summary *s, const dk_diag_facts *f)
{
    return quiet(s, f) && f->cmd_seen && !f->run_started && !f->legacy && !f->prog_writing &&
           !f->traceback;
}

static bool stops_early(const dk_summary *s, const dk_diag_facts *f)
{
    return quiet(s, f) && f->tool;
}

/* ---- the rows --------------------------------------------------------------------- */

#define ROW(id, when, match, explain, try_) { id, when, ANY, ANY, ANY, ANY, ANY, ANY, match, explain, try_ }

static const dk_diag_row host_rows[] = {
    /* nRF Connect Programmer */
    ROW("programmer.jlink_busy",
        "Programmer: CouldNotCallFunction (0x9) with JLINKARM_DLL_ERROR (-102)", jlink_busy,
        "The J-Link library could not call into the chip (CouldNotCallFunction, "
        "JLINKARM_DLL_ERROR): most often another program holds the J-Link (J-Link RTT Viewer, "
        "J-Link Commander, a debugger, another nRF Connect app or an nrfjprog run), less often a "
        "J-Link software too old for the chip or a board without power.",
        "Close every other program that uses the J-Link (RTT Viewer, debuggers, other nRF "
        "Connect apps), then retry; if it persists, power-cycle the board and update the J-Link "
        "software."),
    ROW("programmer.timeout", "Programmer: the low-level error is a timeout (-220, -105)",
        prog_timeout,
        "The programming operation timed out: the device stopped answering the modem or serial "
        "DFU in the middle (it reset, left the mode the update needs, or its USB link dropped).",
        "Put the device back into the mode the update needs (for a Thingy:91 modem update: the "
        "nRF9160 in its serial DFU application, the connectivity bridge up to date), reconnect "
        "it directly, and retry."),
    ROW("programmer.mcuboot_timeout", "Programmer: MCUboot programming failed with error 603 (Timeout)",
        mcuboot_timeout,
        "The device did not answer MCUboot's serial recovery in time (error 603, Timeout): it "
        "is not in MCUboot mode, or its SMP transport stalled during the write.",
        "Enter MCUboot mode (hold the button while resetting or plugging in), select the device "
        "again and retry; if it stalls at the same point every time, try another version of "
        "Programmer."),
    ROW("programmer.usb_probe", "Programmer: the USB device could not be probed or is unsupported",
        usb_probe,
        "Programmer could not talk to the USB device: it runs no bootloader Programmer knows "
        "(it runs an application, e.g. connectivity or HCI firmware just written), or no "
        "libusb-compatible driver is bound to it.",
        "Put the device into its bootloader (the reset button; on a dongle the red LED then "
        "pulses) and select it again; on Windows, install the driver nRF Connect offers."),
    ROW("programmer.dfu_refused", "Programmer: the DFU bootloader answered with an error result",
        dfu_refused,
        "The device's DFU bootloader refused Programmer's request with a response code (see "
        "programmer: above); when the request is Programmer's version query, the bootloader is "
        "not the kind Programmer expects (an older or different bootloader).",
        "Update it with nrfutil and a package made for this bootloader, or program it through a "
        "debugger."),
    /* the serial port */
    ROW("legacy.touch_no_port", "the port was gone after the 1200-baud touch", touch_no_port,
        "After the 1200-baud touch the port was gone when the host opened it again: the board "
        "left its application, but its bootloader did not come up under that port name (it "
        "enumerates under another one, or the touch did not start it).",
        "Double-tap reset to start the bootloader (its drive or LED shows it), then upload to "
        "the port the bootloader has; drop --touch when the board is already in the bootloader."),
    ROW("port.not_found", "the port does not exist", port_not_found,
        "The serial port named does not exist: the board is unplugged, it has another name (a "
        "different COM number or ttyACM index), or it is not enumerated at all.",
        "List the ports (Device Manager, ls /dev/tty*) with the board plugged in and in the mode "
        "you need, and pass that one."),
    ROW("port.busy", "another program holds the port", port_busy,
        "Another program holds the serial port (a serial monitor, a terminal, an IDE, "
        "ModemManager, a second upload).",
        "Close every other program that has the port open (serial monitors, terminals, other "
        "IDE windows), then retry."),
    ROW("port.permission", "opening the port was not permitted", port_denied,
        "The host was not allowed to open the serial port: no permission for the device file "
        "(Linux: the dialout or uucp group, a udev rule), or a sandbox, container or WSL does "
        "not pass the device through.",
        "Add the user to the dialout group (then log in again) or install the board's udev "
        "rule; in a container or WSL, pass the device through."),
    ROW("port.access_lost", "Windows refused access to the open port (PermissionError 13)",
        port_access_lost,
        "Windows refused further access to the port after it had opened (PermissionError 13 "
        "from a read or write): the permission to use it was taken away, another program took "
        "the port, or the device dropped off USB or reset and came back under the same name.",
        "Close every other program on the port and run the upload with the rights to use the "
        "port (as administrator on Windows, the dialout group or a udev rule on Linux); if it "
        "persists, start the bootloader by double-tapping reset and use a short direct cable."),
    ROW("port.vanished", "the port went away while the host used it", port_gone,
        "The port went away while the host was using it: the device reset or dropped off USB "
        "(cable, hub, power, a bootloader that re-enumerates), or another program was reading "
        "the same port.",
        "Use a short direct USB cable, close other programs on the port, and run again; if it "
        "always happens at the same point, the device resets there."),
    ROW("port.write_timeout", "a write to the port timed out", write_timeout,
        "A write to the port did not finish within the host's write timeout: the device stopped "
        "taking data (busy, stalled, reset), or the link is too slow for the timeout (a low baud "
        "rate, a VM's USB pass-through, flow control holding the host).",
        "Run on the host machine itself (not a VM), with a higher baud rate or a host with a "
        "longer write timeout; check that the device is still in its bootloader."),
    ROW("legacy.ack_late", "legacy: an acknowledgement came too late and the host closed the port",
        ack_late,
        "The device's acknowledgement did not arrive within adafruit-nrfutil's 1 s: the host "
        "closed the port at its timeout (it had part of an answer), and its next write failed "
        "on the closed port. The flash erase after the START packet, or a slow USB-serial "
        "bridge, takes longer than the host waits.",
        "Run again; if it fails at the same packet every time, the board needs a host that "
        "waits longer for that acknowledgement (raise ACK_PACKET_TIMEOUT in adafruit-nrfutil)."),
    ROW("package.invalid", "the file given is not a DFU package", package_invalid,
        "The file given is not a DFU package the host can read (no manifest.json inside: a "
        "release archive that contains the package, or a damaged zip).",
        "Unzip the download and pass the DFU package inside it (a .zip with manifest.json, .bin "
        "and .dat), or build one with the host's pkg generate / genpkg."),
    /* BLE */
    ROW("ble.driver_mismatch", "BLE: pc-ble-driver returned nothing to a write (TypeError on None)",
        ble_driver,
        "pc-ble-driver returned no result to a write request (TypeError on None in the write): "
        "the connectivity firmware on the adapter and pc-ble-driver-py do not speak the same "
        "SoftDevice API version.",
        "Flash the connectivity firmware that comes with your nrfutil / pc-ble-driver-py "
        "(nrfutil dfu ble -f on a J-Link board), or install the pc-ble-driver-py that matches "
        "the adapter."),
    ROW("ble.connectivity_fw", "BLE: the adapter does not answer as a connectivity adapter",
        connectivity,
        "The BLE adapter did not answer the PC: it does not run connectivity firmware that this "
        "pc-ble-driver understands (none, another application or bootloader, or a version for "
        "another SoftDevice API), or it was erased.",
        "Program the adapter with the connectivity firmware your nrfutil / nRF Connect version "
        "ships (nrfutil dfu ble -f for J-Link boards, nRF Connect for Desktop for dongles), then "
        "run again."),
    ROW("ble.adapter_lost", "BLE: the adapter stopped answering the PC (NRF_ERROR_SD_RPC_*)",
        adapter_lost,
        "The connectivity adapter stopped answering the PC in the middle of the update: its "
        "serial link dropped or it reset (USB, baud rate, its firmware).",
        "Reconnect the adapter directly (no hub), check that its connectivity firmware matches "
        "the host, and run again."),
    ROW("ble.mtu", "BLE: the MTU exchange failed", ble_mtu,
        "The ATT MTU exchange with the target failed: the MTU the host asks for is more than "
        "the connectivity firmware, its SoftDevice or the target supports.",
        "Use a connectivity firmware and host of the same release, or ask for the default MTU."),
    ROW("ble.timeout", "BLE: the target did not answer in time", ble_timeout,
        "The BLE target did not answer in time: not advertising under the name given, out of "
        "range, or busy (a final EXECUTE that copies the image takes long).",
        "Check that the target advertises in DFU mode under the name or address given, move it "
        "closer, and retry."),
    /* answers that no DFU bootloader gives */
    ROW("not_dfu.answer", "the first answer holds a byte no DFU message has (or a shell answered)",
        not_dfu,
        "Something other than the DFU bootloader answered: the reply holds bytes no DFU "
        "response has (a shell prompt, text, 0x41 'A'). The application is running on that "
        "port (or its shell or log output), another program shares it, or it is the wrong port.",
        "Start the bootloader (its button or pin reset, or the application's DFU trigger), "
        "close other programs on the port, and check that the port is the bootloader's; keep "
        "shells and logs off the DFU line."),
    ROW("link.garbled_answer", "an answer mid-transfer holds a byte no DFU response has", garbled,
        "An answer in the middle of the transfer held a byte no DFU response has: something "
        "else writes to the same line (a debug bootloader logging on its UART, another "
        "program), or bytes were corrupted.",
        "Use a release bootloader (or log over RTT), keep other programs off the port, and check "
        "the baud rate, flow control and cable."),
    /* legacy serial DFU (adafruit-nrfutil) */
    ROW("legacy.no_ack_start", "legacy: no acknowledgement for the START packet (or any packet)",
        no_ack_start,
        "The device acknowledged nothing, not even the START packet: it is not running its "
        "serial bootloader (the application runs: the 1200-baud touch was missing or not "
        "handled, or the double reset was not done), or this is not its port.",
        "Start the bootloader (double-tap reset; the Arduino IDE / PlatformIO touch with "
        "--touch 1200), check that the port is the bootloader's and that the baud rate is "
        "115200 without flow control, then upload again."),
    ROW("legacy.no_ack_init", "legacy: START acknowledged, the init packet not", no_ack_init,
        "The device acknowledged the START packet but not the init packet: its bootloader "
        "refused the start (the package's SoftDevice or bootloader does not fit the board's "
        "bootloader: an older bootloader, another SoftDevice) and reset, or its flash erase "
        "outlasted the host's wait.",
        "Update the board's bootloader first (Adafruit's bootloader update / Burn Bootloader), "
        "or build the package for the bootloader and SoftDevice the board has; then upload "
        "again."),
    ROW("legacy.no_ack_data", "legacy: no acknowledgement, or a reset, in the middle of the firmware",
        no_ack_data,
        "The device stopped acknowledging in the middle of the firmware: it reset or the link "
        "dropped (USB re-enumerated, cable, hub, power), or an acknowledgement came later than "
        "the host's 1 s. The image is incomplete and bank 0 invalid.",
        "Upload again over a short direct USB cable (a single-bank board stays in its bootloader: "
        "reset it first if the port is still there); if it stops at the same place every time, "
        "update the board's bootloader."),
    /* the transfer itself, in the host's words */
    ROW("link.init_corrupt", "nrfutil could not send the init packet (its CRC or offset check failed)",
        init_corrupt,
        "nrfutil gave up on the init packet: the CRC or offset the target reported did not match "
        "what was sent, so bytes were lost or changed on the line (no flow control at this "
        "speed, a USB-serial bridge or a VM dropping bytes).",
        "Use hardware flow control on both ends (-fc 1 with a bootloader built with it) or a "
        "lower baud rate, and avoid VMs and hubs between host and board."),
    /* the tools themselves */
    ROW("nrfutil.no_port_crash", "nrfutil 6 dfu serial without -p crashed before opening a port",
        no_port_crash,
        "nrfutil crashed before it opened any port: without -p it looks the device up by its "
        "USB serial number, and crashes on a device that reports none.",
        "Give the port with -p (e.g. -p COM5 or -p /dev/ttyACM0)."),
    ROW("host.tool_bug", "the host crashed on an error in its own code", tool_bug,
        "The host tool crashed on an error in its own code (see host: above), not on anything "
        "the device did.",
        "Update the host tool (or use another release of it), and keep the traceback for its "
        "maintainers."),
    ROW("host.interrupted", "the host was stopped (Ctrl-C)", interrupted,
        "The host was stopped by hand (KeyboardInterrupt) before the update ended.",
        "Run the update again and let it finish."),
    ROW("mcumgr.tool_crash", "mcumgr panicked", mcu_panic,
        "mcumgr itself crashed (a Go panic) after a timeout: a fault of the command-line tool's "
        "transport, set off when the device stopped answering or disconnected.",
        "Check that the device stays connected and answers (mcumgr echo), and use a newer "
        "mcumgr or another SMP client."),
    ROW("mcumgr.no_answer", "mcumgr: NMP timeout before any byte was uploaded", mcu_silent,
        "The device's SMP server never answered (NMP timeout): none runs on that port (the "
        "application lacks it, or MCUboot is not in serial recovery), or the line settings "
        "differ: baud rate, or hardware flow control built into the firmware (a "
        "CONFIG_UART_*_FLOW_CONTROL build waits for an RTS the host may not drive).",
        "Check with mcumgr echo on the same connection string; build the application with the "
        "SMP server on that UART (or enter MCUboot's serial recovery), and match baud rate and "
        "flow control (try a build without UART flow control)."),
    ROW("mcumgr.stalled", "mcumgr: NMP timeout in the middle of the upload", mcu_stalled,
        "The device's SMP server stopped answering in the middle of the upload.",
        "Raise mcumgr's timeout (-t), lower the chunk size (-m), and check the link."),
    /* logs that stop early */
    ROW("programmer.device_unknown", "Programmer: nrfjprog does not know the device, then the log stops",
        device_unknown,
        "Programmer's nrfjprog does not know this device (\"Device type is unknown\"): it is "
        "older than the chip or its firmware, and operations on the device may fail.",
        "Update nRF Command Line Tools (nrfjprog) and the J-Link software, then retry."),
    ROW("ble.adapter_ready", "BLE: the adapter opened and nothing failed", adapter_ready,
        "The BLE adapter was set up and opened without an error; the log ends there.",
        "Nothing failed in this log; if the update fails later, capture the log up to there."),
    ROW("log.one_sided", "a listing of the host's writes only", writes_only,
        "The log lists only the host's writes; the target's answers are not in it, so it cannot "
        "tell where the update failed.",
        "Capture the whole exchange (nrfutil -vvvv, or a sniffer)."),
    ROW("host.traceback", "the host stopped with a traceback whose exception is not in the log",
        traceback_cut,
        "The host stopped with a traceback, but its last line (the exception) is not in the log.",
        "Look at the traceback's last line in the full output; it names the error."),
    ROW("log.no_transfer", "the log shows host commands but no transfer", no_transfer,
        "The log shows the host's commands (packages, keys) but no transfer to a device.",
        "Capture the output of the transfer itself."),
    ROW("log.incomplete", "the log stops before the end of the update and shows no failure",
        stops_early,
        "The log stops before the end of the update and shows no failure up to there: it was cut "
        "(a paste, a page that kept its start only), or the tool was still running.",
        "Capture the whole output, up to the tool's last line."),
};

const dk_diag_row *dk_diag_host_table(unsigned *n)
{
    if (n)
        *n = (unsigned)(sizeof host_rows / sizeof host_rows[0]);
    return host_rows;
}
