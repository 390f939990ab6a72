#include "tools/bpfletctl/mon_pcap.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

struct mon_pcap {
	pcap_t *handle;
	pcap_dumper_t *dump;
};

struct mon_pcap *mon_pcap_open(const char *file, unsigned snaplen)
{
	struct mon_pcap *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->handle = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (!p->handle) {
		fprintf(stderr, "bpfletctl: libpcap: cannot make a capture handle\n");
		free(p);
		return NULL;
	}
	p->dump = pcap_dump_open(p->handle, file);
	if (!p->dump) {
		fprintf(stderr, "bpfletctl: cannot write %s: %s\n", file, pcap_geterr(p->handle));
		pcap_close(p->handle);
		free(p);
		return NULL;
	}
	return p;
}

void mon_pcap_write(struct mon_pcap *p, int64_t real_ns, unsigned caplen, unsigned len,
		    const void *data)
{
	struct pcap_pkthdr h = {.caplen = caplen, .len = len};

	h.ts.tv_sec = real_ns / 1000000000;
	h.ts.tv_usec = real_ns % 1000000000 / 1000;
	pcap_dump((unsigned char *)p->dump, &h, data);
}

void mon_pcap_flush(struct mon_pcap *p)
{
	pcap_dump_flush(p->dump);
}

void mon_pcap_close(struct mon_pcap *p)
{
	if (!p)
		return;
	pcap_dump_close(p->dump);
	pcap_close(p->handle);
	free(p);
}
