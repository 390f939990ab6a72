/* The pcap file bpfletctl monitor --pcap writes, through libpcap (kept apart: its
 * headers and the kernel's BPF headers both define struct bpf_insn). */
#ifndef BPFLETCTL_MON_PCAP_H
#define BPFLETCTL_MON_PCAP_H

#include <stdint.h>

struct mon_pcap;

/* An Ethernet capture file; NULL after printing what is wrong. */
struct mon_pcap *mon_pcap_open(const char *file, unsigned snaplen);
void mon_pcap_write(struct mon_pcap *p, int64_t real_ns, unsigned caplen, unsigned len,
		    const void *data);
void mon_pcap_flush(struct mon_pcap *p);
void mon_pcap_close(struct mon_pcap *p);

#endif
