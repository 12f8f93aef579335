/* dk-logdump - print the records logread.h makes of a log, one per line:
 * the reader's view, for the expected files next to captures/logs/ samples
 * and for looking at a field log by hand.
 *
 *   LINE KIND [fmt] dir=.. t=.. (bytes | tool fields | why)
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dfukit/logread.h"
#include "dfukit/tables.h"

static const char *dirname_(dk_dir d)
{
    return d == DK_DIR_HOST ? "host" : d == DK_DIR_TARGET ? "target" : "?";
}

static void on_rec(void *ctx, const dk_logrec *r)
{
    (void)ctx;
    printf("%6" PRIu64 " %-7s", r->line, dk_lr_kind_name(r->kind));
    if (r->t_us >= 0)
        printf(" t=%" PRId64 "%s", r->t_us, r->t_abs ? "" : "(rel)");
    switch (r->kind) {
    case DK_LR_MSG:
    case DK_LR_RAW:
        printf(" %s", dirname_(r->dir));
        if (r->chan)
            printf(" chan=%u", r->chan);
        for (size_t i = 0; i < r->len; i++)
            printf(" %02x", r->data[i]);
        break;
    case DK_LR_TOOL: {
        const dk_tool_ev *e = r->tool;
        static const char *const k[] = { "text", "port", "image", "send_init", "send_fw",
                                         "image_sent", "set_prn", "selecting", "selected",
                                         "streaming", "no_ping", "progress", "traceback",
                                         "exception", "done", "prog_step", "prog_error",
                                         "command", "version", "legacy", "ble", "mcumgr" };
        printf(" %s", k[e->kind]);
        switch (e->kind) {
        case DK_TOOL_SELECTED:
            printf(" max_size=%u offset=%u crc=0x%08x", e->u.selected.max_size,
                   e->u.selected.offset, e->u.selected.crc);
            break;
        case DK_TOOL_STREAMING:
            printf(" len=%u offset=%u crc=0x%08x", e->u.stream.len, e->u.stream.offset,
                   e->u.stream.crc);
            break;
        case DK_TOOL_SET_PRN: printf(" prn=%u", e->u.prn.prn); break;
        case DK_TOOL_SELECTING: printf(" type=%u", e->u.select.type); break;
        case DK_TOOL_PROGRESS: printf(" %u%%", e->u.progress.percent); break;
        case DK_TOOL_IMAGE: printf(" fw_type=%d", e->u.image.fw_type); break;
        case DK_TOOL_IMAGE_SENT: printf(" ms=%u", e->u.sent.ms); break;
        case DK_TOOL_EXCEPTION:
            printf(" %s nx=%s", e->u.exc.cls, dk_nx_name(e->u.exc.nx));
            if (e->u.exc.nx == DK_NX_EXT_ERROR)
                printf(" ext=0x%02x(%s)", e->u.exc.ext, dk_ext_name(e->u.exc.ext));
            if (e->u.exc.nx == DK_NX_RESULT)
                printf(" result=0x%02x", e->u.exc.result);
            if (e->u.exc.has_values)
                printf(" expected=%u received=%u", e->u.exc.expected, e->u.exc.received);
            if (e->u.exc.stage)
                printf(" stage=%s", dk_host_stage_name(e->u.exc.stage));
            if (e->u.exc.func[0])
                printf(" in=%s", e->u.exc.func);
            break;
        case DK_TOOL_TRACEBACK:
            if (e->u.exc.stage)
                printf(" stage=%s", dk_host_stage_name(e->u.exc.stage));
            if (e->u.exc.func[0])
                printf(" in=%s", e->u.exc.func);
            break;
        case DK_TOOL_PROG_STEP:
            printf(" step=%d %u/%u", e->u.step.step, e->u.step.i, e->u.step.n);
            break;
        case DK_TOOL_COMMAND:
            printf(" tool=%s sub=%s%s", e->u.cmd.tool, e->u.cmd.sub, e->u.cmd.transfer ? " transfer" : "");
            if (e->u.cmd.has_port)
                printf(" port=%s", e->u.cmd.port);
            if (e->u.cmd.baud)
                printf(" baud=%u", e->u.cmd.baud);
            if (e->u.cmd.fc >= 0)
                printf(" fc=%d", e->u.cmd.fc);
            if (e->u.cmd.touch)
                printf(" touch=%u", e->u.cmd.touch);
            break;
        case DK_TOOL_VERSION: printf(" %s", e->u.ver.what); break;
        case DK_TOOL_LEGACY:
            printf(" %s", dk_lg_name(e->u.lg.what));
            if (e->u.lg.what == DK_LG_MARKS)
                printf(" marks=%u", e->u.lg.marks);
            if (e->u.lg.what == DK_LG_STARTING)
                printf(" type=%u sd=%u bl=%u app=%u", e->u.lg.type, e->u.lg.sd, e->u.lg.bl, e->u.lg.app);
            break;
        case DK_TOOL_BLE:
            printf(" %s", dk_ble_name(e->u.ble.what));
            if (e->u.ble.value)
                printf(" value=%u", e->u.ble.value);
            break;
        case DK_TOOL_MCUMGR:
            printf(" %s", dk_mcu_name(e->u.mcu.what));
            if (e->u.mcu.what == DK_MCU_PROGRESS)
                printf(" %" PRIu64 "/%" PRIu64, e->u.mcu.done, e->u.mcu.total);
            break;
        case DK_TOOL_PROG_ERROR:
            if (e->u.perr.has_code)
                printf(" code=%d(%s)", e->u.perr.code,
                       dk_progjs_err_name(e->u.perr.code) ? dk_progjs_err_name(e->u.perr.code) : "?");
            if (e->u.perr.has_lowlevel)
                printf(" lowlevel=%d(%s)", e->u.perr.lowlevel,
                       dk_jprog_err_name(e->u.perr.lowlevel) ? dk_jprog_err_name(e->u.perr.lowlevel)
                                                              : "?");
            if (e->u.perr.modem)
                printf(" modem");
            if (e->u.perr.ext >= 0)
                printf(" ext=0x%02x", e->u.perr.ext);
            if (e->u.perr.result >= 0)
                printf(" result=0x%02x", e->u.perr.result);
            if (e->u.perr.devlib >= 0)
                printf(" devlib=%d", e->u.perr.devlib);
            if (e->u.perr.mcuboot)
                printf(" mcuboot");
            if (e->u.perr.usb_probe)
                printf(" usb_probe");
            break;
        default: break;
        }
        if (e->text[0])
            printf(" \"%s\"", e->text);
        break;
    }
    default:
        printf(" %s", r->why ? r->why : "");
        break;
    }
    putchar('\n');
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: dk-logdump LOG [FORMAT]\n");
        return 2;
    }
    int fmt = argc == 3 ? dk_log_format_by_name(argv[2]) : DK_LOG_AUTO;
    if (fmt < 0) {
        fprintf(stderr, "dk-logdump: unknown format '%s'\n", argv[2]);
        return 2;
    }
    dk_err err = { 0 };
    dk_logrd_stats st;
    dk_status s = dk_logrd_file(argv[1], (dk_log_format)fmt, 0, on_rec, NULL, &st, &err);
    if (s != DK_OK) {
        fflush(stdout);
        dk_err_print(stderr, "dk-logdump", argv[1], &err);
        return 2;
    }
    printf("# format %s: %" PRIu64 " lines, %" PRIu64 " understood, %" PRIu64
           " unknown (first %" PRIu64 "), %" PRIu64 " too long, last understood %" PRIu64 "%s\n",
           dk_log_format_name(st.fmt), st.lines, st.understood, st.unknown, st.first_unknown,
           st.long_lines, st.last_understood, st.cut ? ", cut" : "");
    return 0;
}
