/* line.c - termios <-> sn_line (see line.h). */
#include "line.h"

#include <stdio.h>
#include <string.h>

static const struct {
    speed_t speed;
    uint32_t baud;
} bauds[] = {
    {B0, 0},           {B50, 50},         {B75, 75},           {B110, 110},
    {B134, 134},       {B150, 150},       {B200, 200},         {B300, 300},
    {B600, 600},       {B1200, 1200},     {B1800, 1800},       {B2400, 2400},
    {B4800, 4800},     {B9600, 9600},     {B19200, 19200},     {B38400, 38400},
    {B57600, 57600},   {B115200, 115200}, {B230400, 230400},   {B460800, 460800},
    {B500000, 500000}, {B576000, 576000}, {B921600, 921600},   {B1000000, 1000000},
    {B1152000, 1152000}, {B1500000, 1500000}, {B2000000, 2000000}, {B2500000, 2500000},
    {B3000000, 3000000}, {B3500000, 3500000}, {B4000000, 4000000},
};

sn_line sn_line_default(uint32_t baud)
{
    return (sn_line){.baud = baud, .bits = 8, .parity = 'N', .stop = 1, .flow = SN_FLOW_NONE};
}

uint32_t sn_baud_of_speed(speed_t s)
{
    for (size_t i = 0; i < sizeof bauds / sizeof bauds[0]; i++)
        if (bauds[i].speed == s)
            return bauds[i].baud;
    return 0;
}

speed_t sn_speed_of_baud(uint32_t baud)
{
    for (size_t i = 1; i < sizeof bauds / sizeof bauds[0]; i++)
        if (bauds[i].baud == baud)
            return bauds[i].speed;
    return 0;
}

sn_line sn_line_from_termios(const struct termios *t)
{
    sn_line l;
    l.baud = sn_baud_of_speed(cfgetospeed(t));
    switch (t->c_cflag & CSIZE) {
    case CS5: l.bits = 5; break;
    case CS6: l.bits = 6; break;
    case CS7: l.bits = 7; break;
    default: l.bits = 8; break;
    }
    if (!(t->c_cflag & PARENB))
        l.parity = 'N';
    else if (t->c_cflag & CMSPAR)
        l.parity = (t->c_cflag & PARODD) ? 'M' : 'S';
    else
        l.parity = (t->c_cflag & PARODD) ? 'O' : 'E';
    l.stop = (t->c_cflag & CSTOPB) ? 2 : 1;
    int flow = 0;
    if (t->c_cflag & CRTSCTS)
        flow |= SN_FLOW_RTSCTS;
    if (t->c_iflag & (IXON | IXOFF))
        flow |= SN_FLOW_XONXOFF;
    l.flow = (sn_flow)flow;
    return l;
}

bool sn_line_to_termios(const sn_line *l, struct termios *t)
{
    speed_t sp = l->baud ? sn_speed_of_baud(l->baud) : B0;
    if (l->baud && !sp)
        return false;
    cfmakeraw(t);
    t->c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CMSPAR | CSTOPB | CRTSCTS);
    t->c_cflag |= CREAD | CLOCAL;
    switch (l->bits) {
    case 5: t->c_cflag |= CS5; break;
    case 6: t->c_cflag |= CS6; break;
    case 7: t->c_cflag |= CS7; break;
    default: t->c_cflag |= CS8; break;
    }
    switch (l->parity) {
    case 'E': t->c_cflag |= PARENB; break;
    case 'O': t->c_cflag |= PARENB | PARODD; break;
    case 'M': t->c_cflag |= PARENB | CMSPAR | PARODD; break;
    case 'S': t->c_cflag |= PARENB | CMSPAR; break;
    default: break;
    }
    if (l->stop == 2)
        t->c_cflag |= CSTOPB;
    if (l->flow & SN_FLOW_RTSCTS)
        t->c_cflag |= CRTSCTS;
    t->c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    if (l->flow & SN_FLOW_XONXOFF)
        t->c_iflag |= IXON | IXOFF;
    t->c_cc[VMIN] = 1;
    t->c_cc[VTIME] = 0;
    cfsetispeed(t, sp);
    cfsetospeed(t, sp);
    return true;
}

bool sn_line_eq(const sn_line *a, const sn_line *b)
{
    return a->baud == b->baud && a->bits == b->bits && a->parity == b->parity &&
           a->stop == b->stop && a->flow == b->flow;
}

const char *sn_line_str(const sn_line *l, char *buf, size_t cap)
{
    static const char *flows[] = {"none", "rtscts", "xonxoff", "rtscts+xonxoff"};
    snprintf(buf, cap, "%u %u%c%u %s", (unsigned)l->baud, (unsigned)l->bits, l->parity,
             (unsigned)l->stop, flows[l->flow & 3]);
    return buf;
}
