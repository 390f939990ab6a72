/* Network config parsing: every rejection carries the spec's code and names the key. */
#include "agent/cni/cni.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define OK_CONF                                                                                    \
	"{\"cniVersion\":\"1.0.0\",\"name\":\"k8s\",\"type\":\"bpflet-cni\","                      \
	"\"instance\":\"node1\",\"podCIDR\":\"10.244.1.0/24\"}"

static struct cni_error parse_err(const char *json)
{
	struct cni_error e = {0};
	struct cni_conf c;

	cr_assert_neq(cni_conf_parse(json, &c, &e), 0, "accepted: %s", json);
	return e;
}

Test(config, defaults)
{
	struct cni_error e = {0};
	struct cni_conf c;

	cr_assert_eq(cni_conf_parse(OK_CONF, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c.instance, "node1");
	cr_assert_str_eq(c.cni_version, "1.0.0");
	cr_assert_eq(c.pod_cidr.net, 0x0af40100u);
	cr_assert_eq(c.pod_cidr.plen, 24);
	cr_assert_eq(c.mtu, 1500);
	cr_assert_str_eq(c.data_dir, "/var/lib/bpflet-cni/node1");
}

Test(config, optional_fields)
{
	struct cni_error e = {0};
	struct cni_conf c;

	cr_assert_eq(cni_conf_parse("{\"cniVersion\":\"0.4.0\",\"type\":\"bpflet-cni\","
				    "\"instance\":\"a_b-1\",\"podCIDR\":\"10.0.0.0/30\","
				    "\"mtu\":9000,\"dataDir\":\"/tmp/x\",\"prevResult\":{}}",
				    &c, &e),
		     0, "%s", e.msg);
	cr_assert_eq(c.mtu, 9000);
	cr_assert_str_eq(c.data_dir, "/tmp/x");
	cr_assert_str_eq(c.cni_version, "0.4.0");
}

Test(config, bad_json_is_decode_error)
{
	cr_assert_eq(parse_err("{\"cniVersion\":").code, CNI_ERR_DECODE);
	cr_assert_eq(parse_err("").code, CNI_ERR_DECODE);
	cr_assert_eq(parse_err("[1,2]").code, CNI_ERR_DECODE);
}

Test(config, missing_instance)
{
	struct cni_error e = parse_err("{\"cniVersion\":\"1.0.0\",\"type\":\"bpflet-cni\","
				       "\"podCIDR\":\"10.244.1.0/24\"}");

	cr_assert_eq(e.code, CNI_ERR_INVALID_CONFIG);
	cr_assert(strstr(e.msg, "\"instance\" is required"), "%s", e.msg);
}

Test(config, invalid_instance)
{
	const char *bad[] = {"\"../etc\"", "\"a b\"", "\"\"", "7",
			     "\"abcdefghijabcdefghijabcdefghijabc\""};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char json[256];
		struct cni_error e;

		snprintf(json, sizeof(json),
			 "{\"cniVersion\":\"1.0.0\",\"type\":\"bpflet-cni\",\"instance\":%s,"
			 "\"podCIDR\":\"10.244.1.0/24\"}",
			 bad[i]);
		e = parse_err(json);
		cr_assert_eq(e.code, CNI_ERR_INVALID_CONFIG, "%s", json);
		cr_assert(strstr(e.msg, "instance"), "%s", e.msg);
	}
}

Test(config, pod_cidr)
{
	const char *bad[] = {"10.244.1.0", "10.244.1.0/33",   "10.244.1.0/31", "10.0.0.0/7",
			     "fd00::/64",  "10.244.1.300/24", "x/24",	       "10.244.1.0/2x"};
	struct cni_error e = parse_err("{\"cniVersion\":\"1.0.0\",\"type\":\"bpflet-cni\","
				       "\"instance\":\"n\"}");

	cr_assert_eq(e.code, CNI_ERR_INVALID_CONFIG);
	cr_assert(strstr(e.msg, "\"podCIDR\" is required"), "%s", e.msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char json[256];

		snprintf(json, sizeof(json),
			 "{\"cniVersion\":\"1.0.0\",\"type\":\"bpflet-cni\",\"instance\":\"n\","
			 "\"podCIDR\":\"%s\"}",
			 bad[i]);
		e = parse_err(json);
		cr_assert_eq(e.code, CNI_ERR_INVALID_CONFIG, "%s", json);
		cr_assert(strstr(e.msg, "podCIDR"), "%s", e.msg);
		cr_assert(strstr(e.msg, bad[i]), "message names the value: %s", e.msg);
	}
	e = parse_err("{\"cniVersion\":\"1.0.0\",\"type\":\"bpflet-cni\",\"instance\":\"n\","
		      "\"podCIDR\":\"10.244.1.7/24\"}");
	cr_assert(strstr(e.msg, "did you mean 10.244.1.0/24"), "%s", e.msg);
}

Test(config, type_version_mtu_datadir)
{
	struct cni_error e;

	e = parse_err("{\"cniVersion\":\"1.0.0\",\"type\":\"bridge\",\"instance\":\"n\","
		      "\"podCIDR\":\"10.244.1.0/24\"}");
	cr_assert_eq(e.code, CNI_ERR_INVALID_CONFIG);
	cr_assert(strstr(e.msg, "type"), "%s", e.msg);
	e = parse_err("{\"cniVersion\":\"0.3.1\",\"type\":\"bpflet-cni\",\"instance\":\"n\","
		      "\"podCIDR\":\"10.244.1.0/24\"}");
	cr_assert_eq(e.code, CNI_ERR_INCOMPATIBLE);
	e = parse_err("{\"type\":\"bpflet-cni\",\"instance\":\"n\",\"podCIDR\":\"10.244.1.0/24\"}");
	cr_assert_eq(e.code, CNI_ERR_INVALID_CONFIG);
	cr_assert(strstr(e.msg, "cniVersion"), "%s", e.msg);
	e = parse_err("{\"cniVersion\":\"1.0.0\",\"type\":\"bpflet-cni\",\"instance\":\"n\","
		      "\"podCIDR\":\"10.244.1.0/24\",\"mtu\":\"1500\"}");
	cr_assert_eq(e.code, CNI_ERR_INVALID_CONFIG);
	cr_assert(strstr(e.msg, "mtu"), "%s", e.msg);
	e = parse_err("{\"cniVersion\":\"1.0.0\",\"type\":\"bpflet-cni\",\"instance\":\"n\","
		      "\"podCIDR\":\"10.244.1.0/24\",\"mtu\":100}");
	cr_assert(strstr(e.msg, "mtu"), "%s", e.msg);
	e = parse_err("{\"cniVersion\":\"1.0.0\",\"type\":\"bpflet-cni\",\"instance\":\"n\","
		      "\"podCIDR\":\"10.244.1.0/24\",\"dataDir\":\"rel/dir\"}");
	cr_assert_eq(e.code, CNI_ERR_INVALID_CONFIG);
	cr_assert(strstr(e.msg, "dataDir"), "%s", e.msg);
}
