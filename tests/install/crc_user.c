/* crc_user.c - a program outside the project, built against an installed
 * libdfukit with pkg-config only: the CRC-32 check value, chained, from the
 * wire room; an init packet through nanopb (linked into libdfukit); a
 * capture format guess from the I/O room; the version it was built with. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <dfukit/capfile.h>
#include <dfukit/crc.h>
#include <dfukit/err.h>
#include <dfukit/initpkt.h>
#include <dfukit/version.h>

int main(void)
{
    uint32_t crc = dk_crc32(0, "123456789", 9);
    uint32_t chained = dk_crc32(dk_crc32(0, "1234", 4), "56789", 5);

    dk_initpkt out;
    memset(&out, 0, sizeof out);
    out.has_init = true;
    out.init.has_fw_version = true;
    out.init.fw_version = 7;
    uint8_t buf[512];
    size_t n = dk_initpkt_encode(&out, buf, sizeof buf);
    dk_initpkt pkt;
    dk_err err;
    int init_ok = n > 0 && dk_initpkt_decode(buf, n, &pkt, &err) == DK_OK && pkt.init.has_fw_version &&
                  pkt.init.fw_version == 7;

    static const uint8_t pcap_magic[] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
    int pcap_ok = dk_cap_sniff(pcap_magic, sizeof pcap_magic) == DK_FMT_PCAP;

    printf("crc32 %08X chained %08X init %s pcap %s dfukit %s/%s\n", (unsigned)crc, (unsigned)chained,
           init_ok ? "ok" : "bad", pcap_ok ? "ok" : "bad", DFUKIT_VERSION, dk_version());
    return crc == 0xCBF43926u && chained == crc && init_ok && pcap_ok && !strcmp(dk_version(), DFUKIT_VERSION)
               ? 0
               : 1;
}
