/* The result, error and VERSION documents, checked by shape after a round trip. */
#include "agent/cni/cni.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *load(char *s)
{
	json_t *o;

	cr_assert_not_null(s);
	o = json_loads(s, 0, NULL);
	free(s);
	cr_assert_not_null(o);
	return o;
}

static const char *str(json_t *o, const char *path)
{
	return json_string_value(json_object_get(o, path));
}

static void fixture(struct cni_conf *c, struct cni_env *env, struct cni_link_info *li)
{
	memset(c, 0, sizeof(*c));
	memset(env, 0, sizeof(*env));
	memset(li, 0, sizeof(*li));
	strcpy(c->cni_version, "1.0.0");
	strcpy(env->ifname, "eth0");
	strcpy(env->netns, "/var/run/netns/pod1");
	strcpy(li->host_ifname, "bl0123456789a");
	strcpy(li->host_mac, "aa:bb:cc:dd:ee:01");
	strcpy(li->pod_mac, "aa:bb:cc:dd:ee:02");
}

Test(result, add_result_shape)
{
	struct cni_conf c;
	struct cni_env env;
	struct cni_link_info li;
	json_t *o, *ifs, *ip, *routes;

	fixture(&c, &env, &li);
	o = load(cni_result_json(&c, &env, &li, 0x0af40005));
	cr_assert_str_eq(str(o, "cniVersion"), "1.0.0");
	ifs = json_object_get(o, "interfaces");
	cr_assert_eq(json_array_size(ifs), 2);
	cr_assert_str_eq(str(json_array_get(ifs, 0), "name"), "bl0123456789a");
	cr_assert_str_eq(str(json_array_get(ifs, 0), "mac"), "aa:bb:cc:dd:ee:01");
	cr_assert_null(json_object_get(json_array_get(ifs, 0), "sandbox"));
	cr_assert_str_eq(str(json_array_get(ifs, 1), "name"), "eth0");
	cr_assert_str_eq(str(json_array_get(ifs, 1), "mac"), "aa:bb:cc:dd:ee:02");
	cr_assert_str_eq(str(json_array_get(ifs, 1), "sandbox"), "/var/run/netns/pod1");
	cr_assert_eq(json_array_size(json_object_get(o, "ips")), 1);
	ip = json_array_get(json_object_get(o, "ips"), 0);
	cr_assert_str_eq(str(ip, "address"), "10.244.0.5/32");
	cr_assert_str_eq(str(ip, "gateway"), "169.254.1.1");
	cr_assert_eq(json_integer_value(json_object_get(ip, "interface")), 1);
	cr_assert_null(json_object_get(ip, "version"), "1.0.0 has no ips[].version");
	routes = json_object_get(o, "routes");
	cr_assert_eq(json_array_size(routes), 1);
	cr_assert_str_eq(str(json_array_get(routes, 0), "dst"), "0.0.0.0/0");
	cr_assert(json_is_object(json_object_get(o, "dns")));
	cr_assert_eq(json_object_size(json_object_get(o, "dns")), 0);
	json_decref(o);
}

Test(result, version_040_keeps_ip_version)
{
	struct cni_conf c;
	struct cni_env env;
	struct cni_link_info li;
	json_t *o;

	fixture(&c, &env, &li);
	strcpy(c.cni_version, "0.4.0");
	o = load(cni_result_json(&c, &env, &li, 0x0af40005));
	cr_assert_str_eq(str(o, "cniVersion"), "0.4.0");
	cr_assert_str_eq(str(json_array_get(json_object_get(o, "ips"), 0), "version"), "4");
	json_decref(o);
}

Test(result, error_document)
{
	struct cni_error e = {0};
	json_t *o;

	cni_set_error(&e, CNI_ERR_INVALID_CONFIG, "why", "network config: \"%s\" is required",
		      "instance");
	o = load(cni_error_json(NULL, &e));
	cr_assert_str_eq(str(o, "cniVersion"), "1.0.0");
	cr_assert_eq(json_integer_value(json_object_get(o, "code")), 7);
	cr_assert_str_eq(str(o, "msg"), "network config: \"instance\" is required");
	cr_assert_str_eq(str(o, "details"), "why");
	json_decref(o);
	memset(&e, 0, sizeof(e));
	o = load(cni_error_json("0.4.0", &e));
	cr_assert_str_eq(str(o, "cniVersion"), "0.4.0");
	cr_assert_eq(json_integer_value(json_object_get(o, "code")), 999, "no code means 999");
	json_decref(o);
}

Test(result, version_document)
{
	json_t *o = load(cni_version_json()), *v;

	cr_assert_str_eq(str(o, "cniVersion"), "1.0.0");
	v = json_object_get(o, "supportedVersions");
	cr_assert_eq(json_array_size(v), 2);
	cr_assert_str_eq(json_string_value(json_array_get(v, 0)), "0.4.0");
	cr_assert_str_eq(json_string_value(json_array_get(v, 1)), "1.0.0");
	json_decref(o);
}
