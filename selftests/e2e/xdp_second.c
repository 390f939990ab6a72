/*
 * xdp_second: attaches (or detaches) a second, trivial XDP program through libxdp on
 * an interface that already runs xdp_uplink, for the coexistence test.
 *   xdp_second attach|detach IFNAME OBJECT [skb]
 * Exit 0 done, 3 when the kernel cannot run two programs on one interface (libxdp's
 * dispatcher needs freplace/BPF trampolines), 1 on any other error.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <xdp/libxdp.h>

int main(int argc, char **argv)
{
	struct xdp_program *p;
	enum xdp_attach_mode mode;
	int ifindex, err;

	if (argc < 4 || (strcmp(argv[1], "attach") && strcmp(argv[1], "detach"))) {
		fprintf(stderr, "usage: xdp_second attach|detach IFNAME OBJECT [skb]\n");
		return 1;
	}
	ifindex = (int)if_nametoindex(argv[2]);
	mode = argc > 4 && !strcmp(argv[4], "skb") ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	if (!ifindex) {
		fprintf(stderr, "xdp_second: no interface %s\n", argv[2]);
		return 1;
	}
	p = xdp_program__open_file(argv[3], "xdp", NULL);
	err = libxdp_get_error(p);
	if (err) {
		fprintf(stderr, "xdp_second: opening %s: %s\n", argv[3], strerror(-err));
		return 1;
	}
	if (!strcmp(argv[1], "attach"))
		err = xdp_program__attach(p, ifindex, mode, 0);
	else
		err = xdp_program__detach(p, ifindex, mode, 0);
	xdp_program__close(p);
	if (err) {
		fprintf(stderr, "xdp_second: %s on %s: %s\n", argv[1], argv[2], strerror(-err));
		/* a legacy single program in place and no dispatcher support */
		return err == -EEXIST || err == -EOPNOTSUPP || err == -EPERM || err == -EBUSY ? 3
											      : 1;
	}
	return 0;
}
