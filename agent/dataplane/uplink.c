#include "agent/dataplane/uplink.h"
#include "agent/common/log.h"
#include "xdp_uplink.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>

static bool is_ours(const struct xdp_program *p)
{
	return p && !strcmp(xdp_program__name(p), BL_UPLINK_PROG_NAME);
}

static __u32 mode_flags(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

/* An earlier agent's program is attached alone: swap it atomically (no packet sees
 * the interface without a program). Returns 1 when there was nothing of ours. */
static int replace_legacy(struct xdp_multiprog *mp, int ifindex, int fd)
{
	struct xdp_program *old = xdp_multiprog__main_prog(mp);
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);

	if (!is_ours(old))
		return 1;
	o.old_prog_fd = xdp_program__fd(old);
	if (bpf_xdp_attach(ifindex, fd,
			   XDP_FLAGS_REPLACE | mode_flags(xdp_multiprog__attach_mode(mp)), &o))
		return -errno;
	return 0;
}

/* Under a dispatcher: take our old program out; libxdp re-builds the dispatcher. */
static void detach_from_dispatcher(struct xdp_multiprog *mp, int ifindex)
{
	struct xdp_program *p = NULL;

	while ((p = xdp_multiprog__next_prog(p, mp)))
		if (is_ours(p)) {
			int err =
				xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);

			if (err)
				log_warn("detaching the old %s from the dispatcher: %s",
					 BL_UPLINK_PROG_NAME, strerror(-err));
			return;
		}
}

static int attach(int ifindex, int fd, bool skb_mode)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *xp;
	int err;

	if (!libxdp_get_error(mp) && mp) {
		if (xdp_multiprog__is_legacy(mp)) {
			err = replace_legacy(mp, ifindex, fd);
			xdp_multiprog__close(mp);
			if (err <= 0)
				return err;
			/* someone else's program alone: libxdp below tells whether we can
			 * run beside it */
		} else {
			detach_from_dispatcher(mp, ifindex);
			xdp_multiprog__close(mp);
		}
	}
	xp = xdp_program__from_fd(fd);
	err = libxdp_get_error(xp);
	if (err)
		return err;
	err = xdp_program__attach(xp, ifindex, skb_mode ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
	xdp_program__close(xp);
	return err;
}

int bl_uplink_mtu(const char *ifname)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		err = -errno;
	close(fd);
	return err ? err : ifr.ifr_mtu;
}

int bl_uplink_attach(struct bl_dataplane *dp, const char *ifname, uint32_t node_ip, bool skb_mode,
		     bool dsr)
{
	int ifindex = (int)if_nametoindex(ifname), err;
	struct xdp_uplink *s;

	if (!ifindex) {
		log_err("--uplink %s: no such interface in this network namespace", ifname);
		return -ENODEV;
	}
	if (!node_ip) {
		log_err("--uplink needs --node-ip: the address north-south flows are SNATed to");
		return -EINVAL;
	}
	s = xdp_uplink__open();
	if (!s)
		return -errno;
	s->rodata->node_ip = node_ip;
	s->rodata->lb_dsr = dsr;
	if (dsr) { /* what fits the tunnel (a restart follows an MTU change) */
		int mtu = bl_uplink_mtu(ifname);

		s->rodata->uplink_mtu = mtu > 0 ? (uint32_t)mtu : 0;
	}
	err = bpf_map__set_max_entries(s->maps.bl_mg_v1, bl_dp_maglev_entries());
	if (!err)
		err = bl_dp_pin_maps(dp, s->obj);
	if (!err)
		err = xdp_uplink__load(s);
	if (err) {
		log_err("loading %s failed: %s", BL_UPLINK_PROG_NAME, strerror(-err));
		xdp_uplink__destroy(s);
		return err;
	}
	err = attach(ifindex, bpf_program__fd(s->progs.xdp_uplink), skb_mode);
	if (err) {
		log_err("attaching %s to %s failed: %s (another XDP program there that libxdp "
			"cannot share the interface with? try --xdp-mode skb)",
			BL_UPLINK_PROG_NAME, ifname, strerror(-err));
		xdp_uplink__destroy(s);
		return err;
	}
	dp->uplink = s;
	log_info("%s attached to %s (%s mode, %s)", BL_UPLINK_PROG_NAME, ifname,
		 skb_mode ? "generic" : "native", dsr ? "DSR" : "SNAT");
	return 0;
}

void bl_uplink_close(struct bl_dataplane *dp)
{
	if (dp->uplink)
		xdp_uplink__destroy(dp->uplink);
	dp->uplink = NULL;
}

int bl_uplink_detach_all(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int n = 0;

	for (i = ifs; i && i->if_index; i++) {
		struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex((int)i->if_index);
		struct xdp_program *p = NULL;

		if (libxdp_get_error(mp) || !mp)
			continue;
		if (xdp_multiprog__is_legacy(mp)) {
			p = xdp_multiprog__main_prog(mp);
			if (is_ours(p) &&
			    !bpf_xdp_detach((int)i->if_index,
					    mode_flags(xdp_multiprog__attach_mode(mp)), NULL))
				n++;
		} else {
			while ((p = xdp_multiprog__next_prog(p, mp)))
				if (is_ours(p) &&
				    !xdp_program__detach(p, (int)i->if_index,
							 xdp_multiprog__attach_mode(mp), 0)) {
					n++;
					break;
				}
		}
		xdp_multiprog__close(mp);
	}
	if (ifs)
		if_freenameindex(ifs);
	return n;
}
