/* line.h - dfusniff's names for lib's line settings (dfukit/serial.h).
 *
 * The settings, their termios mapping and their text live once, in lib
 * (dk_serial_cfg); dfusniff's code uses those names.  These aliases keep the
 * names tests/sniff/test_opts.c was written against.
 */
#ifndef DFUSNIFF_LINE_H
#define DFUSNIFF_LINE_H

#include "dfukit/serial.h"

typedef dk_serial_cfg sn_line;
typedef dk_serial_flow sn_flow;

#define SN_FLOW_NONE DK_SERIAL_FLOW_NONE
#define SN_FLOW_RTSCTS DK_SERIAL_FLOW_RTSCTS
#define SN_FLOW_XONXOFF DK_SERIAL_FLOW_XONXOFF
#define SN_FLOW_BOTH DK_SERIAL_FLOW_BOTH

#define sn_line_default dk_serial_cfg_default
#define sn_baud_of_speed dk_serial_baud_of_speed
#define sn_speed_of_baud dk_serial_speed_of_baud
#define sn_line_from_termios dk_serial_cfg_from_termios
#define sn_line_to_termios dk_serial_cfg_to_termios
#define sn_line_eq dk_serial_cfg_eq
#define sn_line_str dk_serial_cfg_str

#endif
