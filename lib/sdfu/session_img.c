/* session_img.c - images opened and completed (§6), and resumes after a SELECT (§5.2). */
#include "session_int.h"

#include <string.h>

/* ---- images -------------------------------------------------------------- */

void sess_open_image(dk_session *s, bool created, uint32_t cmd_size, int64_t t, uint64_t start,
                     uint64_t end)
{
    if (s->img.index > 0 && !s->img.active && !s->img.done) {
        /* Nothing happened in the current slot (e.g. only a SELECT): reuse it. */
    } else {
        if (s->img.index > 0 && s->cmd.known && s->cmd.off > 0) {
            s->img.prev_cmd_crc = s->cmd.crc;
            s->img.prev_cmd_len = s->cmd.off;
            s->img.prev_done = s->img.done;
        } else {
            s->img.prev_cmd_len = 0;
        }
        s->img.index++;
    }
    s->sum.n_images = s->img.index;
    s->img.sum =
        s->img.index <= DK_SESSION_MAX_IMAGES ? &s->sum.img[s->img.index - 1] : &s->img.over;
    if (s->img.sum) {
        memset(s->img.sum, 0, sizeof *s->img.sum);
        s->img.sum->index = s->img.index;
        s->img.sum->cmd_size = cmd_size;
    }
    s->img.active = false;
    s->img.done = false;
    s->img.completed = false;
    s->img.boot_checked = false;
    s->img.restart_counted = false;
    s->data.lost = false;
    s->init.state = created ? INIT_NONE : INIT_UNKNOWN;
    s->cmd.created = created;
    s->cmd.grounded = created;
    s->cmd.size = cmd_size;
    s->cmd.off = s->cmd.crc = 0;
    s->cmd.known = created;
    s->cmd.beyond_flagged = false;
    s->init.ev_due = false;
    s->img.size = 0;
    sess_reset_data(s, created);
    dk_event ev;
    sess_event_head(&ev, DK_EV_IMAGE, t, start, end, DK_DIR_HOST);
    ev.u.img.index = s->img.index;
    ev.u.img.cmd_size = cmd_size;
    sess_emit(s, &ev);
}

/* The capture shows object traffic before any command CREATE: open an image
 * whose beginning is not in the capture. */
void sess_ensure_image(dk_session *s, int64_t t, uint64_t start, uint64_t end)
{
    if (s->img.index == 0 || (s->img.done && s->img.active))
        sess_open_image(s, false, 0, t, start, end);
}

void sess_image_done(dk_session *s, int64_t t, uint64_t start, uint64_t end)
{
    s->img.done = true;
    s->img.completed = true;
    if (s->img.sum) {
        s->img.sum->completed = true;
        s->img.sum->offset = s->data.off;
    }
    dk_event ev;
    sess_event_head(&ev, DK_EV_IMAGE, t, start, end, DK_DIR_TARGET);
    ev.u.img.done = true;
    ev.u.img.index = s->img.index;
    ev.u.img.cmd_size = s->cmd.size;
    ev.u.img.has_type = s->img.sum && s->img.sum->has_type;
    ev.u.img.fw_type = s->img.sum ? s->img.sum->fw_type : 0;
    ev.u.img.size = s->data.off;
    ev.u.img.crc = s->data.crc;
    sess_emit(s, &ev);
}

/* ---- resume -------------------------------------------------------------- */

static void resume_emit(dk_session *s, dk_resume_how how, uint32_t from, int64_t t,
                        uint64_t start, uint64_t end)
{
    dk_event ev;
    sess_event_head(&ev, DK_EV_RESUME, t, start, end, DK_DIR_HOST);
    ev.u.resume.obj_type = s->resume.obj;
    ev.u.resume.offset = s->resume.off;
    ev.u.resume.crc = s->resume.crc;
    ev.u.resume.how = how;
    ev.u.resume.from = from;
    s->resume.on = false;
    if (how == DK_RESUME_RESTART) {
        s->sum.restarts++;
        s->img.restart_counted = true;
    } else if (!s->resume.open) {
        s->sum.resumes++;
        s->resume.open = true;
    }
    sess_emit(s, &ev);
}

/* The host's next step after a SELECT that reported offset > 0 says how it
 * used it (§5.2: send_init_packet / try_to_recover). */
void sess_resume_resolve(dk_session *s, const dk_msg *m, int64_t t, uint64_t start, uint64_t end)
{
    if (!s->resume.on)
        return;
    uint8_t op = m->op;
    uint8_t ctype = op == DK_OP_OBJECT_CREATE ? m->req.create.type : 0;
    if (op == DK_OP_OBJECT_CREATE && ctype == DK_OBJ_COMMAND) {
        resume_emit(s, DK_RESUME_RESTART, 0, t, start, end);
        return;
    }
    if (s->resume.obj == DK_OBJ_COMMAND) {
        if ((op == DK_OP_OBJECT_WRITE || op == DK_OP_OBJECT_EXECUTE) && s->sel == DK_OBJ_COMMAND)
            resume_emit(s, DK_RESUME_CONTINUE, s->cmd.off, t, start, end);
        return;
    }
    if ((op == DK_OP_OBJECT_WRITE || op == DK_OP_OBJECT_EXECUTE) && s->sel == DK_OBJ_DATA)
        resume_emit(s, DK_RESUME_CONTINUE, s->data.off, t, start, end);
    else if (op == DK_OP_OBJECT_CREATE && ctype == DK_OBJ_DATA)
        resume_emit(
            s, s->resume.off == s->data.last_off ? DK_RESUME_CONTINUE : DK_RESUME_OBJECT_RESTART,
            s->data.last_off, t, start, end);
}
