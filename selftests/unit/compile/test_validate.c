/* Bad objects: every error names the file, the document, the object and the field. */
#include "helpers.h"

#include "controlplane/compile/k8s_endpointslice.h"
#include "controlplane/compile/k8s_json.h"
#include "controlplane/compile/k8s_service.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <errno.h>
#include <string.h>

static void expect_error(const char *fixture, const char *want)
{
	struct bl_errlist e;
	json_t *objs;

	bl_errlist_init(&e);
	cr_assert_eq(fixture_parse(fixture, &objs, &e), 1, "%s: expected one error", fixture);
	cr_assert_null(objs, "a bad file yields no objects at all");
	cr_assert_str_eq(e.msgs[0], want);
	bl_errlist_free(&e);
}

Test(validate, port_zero)
{
	expect_error("bad/port0.yaml", "bad/port0.yaml: document 2 (Service default/web): "
				       "spec.ports[0].port: must be an integer 1-65535");
}

Test(validate, port_too_large)
{
	expect_error("bad/port70000.yaml", "bad/port70000.yaml: document 1 (Service default/web): "
					   "spec.ports[1].port: must be an integer 1-65535");
}

Test(validate, quoted_port_is_a_string_not_a_number)
{
	expect_error("bad/port_string.yaml",
		     "bad/port_string.yaml: document 1 (Service default/web): "
		     "spec.ports[0].port: must be an integer 1-65535");
}

Test(validate, missing_name)
{
	expect_error("bad/noname.yaml", "bad/noname.yaml: document 1 (Service default/<no name>): "
					"metadata.name: required");
}

Test(validate, bad_cluster_ip)
{
	expect_error("bad/badip.yaml", "bad/badip.yaml: document 1 (Service default/web): "
				       "spec.clusterIP: \"10.96.8.300\" is not a valid IP address");
}

Test(validate, bad_protocol)
{
	expect_error("bad/protocol.yaml", "bad/protocol.yaml: document 1 (Service default/web): "
					  "spec.ports[0].protocol: must be one of TCP, UDP, SCTP");
}

Test(validate, bad_endpoint_address)
{
	expect_error("bad/slice_badip.yaml",
		     "bad/slice_badip.yaml: document 1 (EndpointSlice shop/web-1): "
		     "endpoints[1].addresses[0]: \"10.244.x.1\" is not a valid IP address");
}

Test(validate, quoted_condition_is_not_a_bool)
{
	expect_error("bad/slice_cond.yaml",
		     "bad/slice_cond.yaml: document 1 (EndpointSlice default/web-1): "
		     "endpoints[0].conditions.ready: must be true or false");
}

Test(validate, missing_kind)
{
	expect_error("bad/nokind.yaml", "bad/nokind.yaml: document 1 (object default/x): "
					"kind: required");
}

/* Direct parser checks on inline JSON: wrong types and the rules around ports. */
static int svc_err(const char *json, char *err, size_t len)
{
	struct bl_k8s_service s;
	json_error_t je;
	json_t *o = json_loads(json, 0, &je);
	int e;

	cr_assert(o, "%s", je.text);
	e = bl_k8s_service_parse(o, &s, err, len);
	if (!e)
		bl_k8s_service_free(&s);
	json_decref(o);
	return e;
}

#define SVC(spec) "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":" spec "}"

Test(validate, service_field_types)
{
	struct {
		const char *json, *err;
	} cases[] = {
		{SVC("[]"), "spec: must be an object"},
		{SVC("{\"ports\": {}}"), "spec.ports: must be a list"},
		{SVC("{\"ports\": [80]}"), "spec.ports[0]: must be an object"},
		{SVC("{\"ports\": [{}]}"), "spec.ports[0].port: required"},
		{SVC("{\"ports\": [{\"port\": 80.5}]}"), "spec.ports[0].port: must be an integer "
							 "1-65535"},
		{SVC("{\"type\": \"Magic\"}"), "spec.type: must be one of ClusterIP, NodePort, "
					       "LoadBalancer, ExternalName"},
		{SVC("{\"ports\": [{\"port\": 80}, {\"port\": 81}]}"), "spec.ports[0].name: "
								       "required when the "
								       "service has more than "
								       "one port"},
		{SVC("{\"ports\": [{\"name\":\"a\",\"port\": 80}, {\"name\":\"b\",\"port\": 80}]}"),
		 "spec.ports[1]: duplicate port 80/TCP"},
		{SVC("{\"ports\": [{\"port\": 80, \"targetPort\": \"HTTP\"}]}"),
		 "spec.ports[0].targetPort: \"HTTP\" is not a valid port name (1-15 of a-z, 0-9, "
		 "'-', with a letter)"},
		{SVC("{\"ports\": [{\"port\": 80, \"targetPort\": 65536}]}"),
		 "spec.ports[0].targetPort: must be an integer 1-65535"},
		{SVC("{\"ports\": [{\"port\": 80, \"targetPort\": true}]}"),
		 "spec.ports[0].targetPort: must be a port number or a port name"},
		{SVC("{\"clusterIP\": 5}"), "spec.clusterIP: must be a string"},
		{SVC("{\"clusterIP\": \"10.0.0.1\", \"clusterIPs\": [\"10.0.0.2\"]}"),
		 "spec.clusterIPs[0]: must match spec.clusterIP (10.0.0.1)"},
		{SVC("{\"sessionAffinity\": \"ClientIP\", \"sessionAffinityConfig\": "
		     "{\"clientIP\": "
		     "{\"timeoutSeconds\": 0}}}"),
		 "spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be an integer 1-86400"},
		{SVC("{\"externalIPs\": [\"1.2.3\"]}"),
		 "spec.externalIPs[0]: \"1.2.3\" is not a valid IP address"},
		{SVC("{\"internalTrafficPolicy\": \"local\"}"),
		 "spec.internalTrafficPolicy: must be one of Cluster, Local"},
		{"{\"metadata\":{\"name\":\"Web\"}}",
		 "metadata.name: \"Web\" must be lower case alphanumerics and '-', at most 63 "
		 "characters"},
		{"{\"metadata\":{\"name\":\"web\",\"labels\":{\"a\":1}}}",
		 "metadata.labels: value of \"a\" must be a string"},
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(svc_err(cases[i].json, err, sizeof(err)), -EINVAL, "case %zu", i);
		cr_assert_str_eq(err, cases[i].err, "case %zu", i);
	}
}

Test(validate, service_defaults_and_values)
{
	const char *json = "{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},\"spec\":{"
			   "\"clusterIPs\":[\"10.96.0.1\",\"fd00::1\"],\"sessionAffinity\":"
			   "\"ClientIP\",\"unknown\":{\"x\":1},\"ports\":[{\"name\":\"http\","
			   "\"port\":80,\"targetPort\":\"web\",\"nodePort\":30000},"
			   "{\"name\":\"q\",\"port\":81,\"protocol\":\"UDP\"}]}}";
	struct bl_k8s_service s;
	char err[256];
	json_t *o = json_loads(json, 0, NULL);

	cr_assert_eq(bl_k8s_service_parse(o, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s.ns, "default");
	cr_assert_eq(s.type, BL_SVC_CLUSTER_IP);
	cr_assert_eq(s.n_cluster_ips, 2);
	cr_assert_eq(s.cluster_ips[0].family, BPFLET_AF_INET);
	cr_assert_eq(s.cluster_ips[0].addr.addr[0], inet_addr("10.96.0.1"));
	cr_assert_eq(s.cluster_ips[1].family, BPFLET_AF_INET6);
	cr_assert(s.affinity_client_ip);
	cr_assert_eq(s.affinity_timeout, 10800);
	cr_assert_eq(s.n_ports, 2);
	cr_assert_str_eq(s.ports[0].target_port_name, "web");
	cr_assert_eq(s.ports[0].node_port, 30000);
	cr_assert_eq(s.ports[0].proto, IPPROTO_TCP);
	cr_assert_eq(s.ports[1].proto, IPPROTO_UDP);
	cr_assert_eq(s.ports[1].target_port, 81, "targetPort defaults to port");
	bl_k8s_service_free(&s);
	json_decref(o);
}

Test(validate, endpointslice_nil_defaults)
{
	const char *json = "{\"metadata\":{\"name\":\"s-1\",\"namespace\":\"ns\",\"labels\":{"
			   "\"kubernetes.io/service-name\":\"s\"}},\"addressType\":\"IPv4\","
			   "\"ports\":[{\"port\":8080},{\"name\":\"all\"}],\"endpoints\":[{"
			   "\"addresses\":[\"10.0.0.1\"]},{\"addresses\":[\"10.0.0.2\"],"
			   "\"conditions\":{\"ready\":false,\"serving\":null,\"terminating\":true},"
			   "\"nodeName\":\"n1\",\"zone\":\"z\"}]}";
	struct bl_k8s_endpointslice s;
	char err[256];
	json_t *o = json_loads(json, 0, NULL);

	cr_assert_eq(bl_k8s_endpointslice_parse(o, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s.service_name, "s");
	cr_assert_eq(s.n_ports, 2);
	cr_assert_str_eq(s.ports[0].name, "");
	cr_assert_eq(s.ports[0].proto, IPPROTO_TCP);
	cr_assert(s.ports[0].has_port);
	cr_assert_not(s.ports[1].has_port, "a nil port is kept but never matched");
	cr_assert_eq(s.n_endpoints, 2);
	cr_assert(s.endpoints[0].ready && s.endpoints[0].serving && !s.endpoints[0].terminating);
	cr_assert(!s.endpoints[1].ready && s.endpoints[1].serving && s.endpoints[1].terminating);
	cr_assert_str_eq(s.endpoints[1].node_name, "n1");
	cr_assert_str_eq(s.endpoints[1].zone, "z");
	cr_assert_eq(s.endpoints[1].addr.addr[0], inet_addr("10.0.0.2"));
	bl_k8s_endpointslice_free(&s);
	json_decref(o);
}

Test(validate, endpointslice_errors)
{
	struct {
		const char *json, *err;
	} cases[] = {
		{"{\"metadata\":{\"name\":\"x\"}}", "addressType: required"},
		{"{\"metadata\":{\"name\":\"x\"},\"addressType\":\"IPv5\"}",
		 "addressType: must be one of IPv4, IPv6, FQDN"},
		{"{\"metadata\":{\"name\":\"x\"},\"addressType\":\"IPv4\",\"endpoints\":[{}]}",
		 "endpoints[0].addresses: required (at least one address)"},
		{"{\"metadata\":{\"name\":\"x\"},\"addressType\":\"IPv4\",\"endpoints\":[{"
		 "\"addresses\":[\"fd00::1\"]}]}",
		 "endpoints[0].addresses[0]: must be an IPv4 address (addressType IPv4)"},
		{"{\"metadata\":{\"name\":\"x\"},\"addressType\":\"IPv4\",\"ports\":[{\"port\":0}]"
		 "}",
		 "ports[0].port: must be an integer 1-65535"},
		{"{\"metadata\":{\"name\":\"x\"},\"addressType\":\"IPv4\",\"ports\":[{\"name\":"
		 "\"a\","
		 "\"port\":1},{\"name\":\"a\",\"port\":2}]}",
		 "ports[1].name: duplicate port name \"a\""},
	};
	struct bl_k8s_endpointslice s;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o = json_loads(cases[i].json, 0, NULL);

		cr_assert(o, "case %zu", i);
		cr_assert_eq(bl_k8s_endpointslice_parse(o, &s, err, sizeof(err)), -EINVAL,
			     "case %zu", i);
		cr_assert_str_eq(err, cases[i].err, "case %zu", i);
		json_decref(o);
	}
}

Test(validate, invalid_objects_are_skipped_by_the_compiler_with_an_error)
{
	json_t *good = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
				  "{\"name\":\"ok\"},\"spec\":{\"clusterIP\":\"10.96.9.1\","
				  "\"ports\":[{\"port\":80}]}}",
				  0, NULL);
	json_t *bad = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
				 "{\"name\":\"bad\",\"namespace\":\"x\"},\"spec\":{\"ports\":"
				 "[{\"port\":0}]}}",
				 0, NULL);
	json_t *objs[] = {bad, good};
	struct bl_svc_table t;
	struct bl_errlist e;

	bl_errlist_init(&e);
	cr_assert_eq(bl_compile_objects(objs, 2, NULL, &t, &e), 0);
	cr_assert_eq(t.n, 1);
	cr_assert_str_eq(t.fe[0].name, "default/ok");
	cr_assert_eq(e.n, 1);
	cr_assert_str_eq(e.msgs[0], "Service x/bad: spec.ports[0].port: must be an integer "
				    "1-65535; skipped");
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
	json_decref(good);
	json_decref(bad);
}

/* Field paths as the API server writes them, parents cut at 90/100 and keys at 30. */
Test(validate, field_paths)
{
	char buf[BL_PATH_LEN], parent[200];

	cr_assert_str_eq(bl_kj_key(buf, "spec", "ports"), "spec.ports");
	cr_assert_str_eq(bl_kj_key(buf, "", "spec"), "spec");
	cr_assert_str_eq(bl_kj_key(buf, NULL, "spec"), "spec");
	cr_assert_str_eq(bl_kj_idx(buf, "spec.ports", 0), "spec.ports[0]");
	cr_assert_str_eq(bl_kj_idx(buf, "endpoints", 1234567), "endpoints[1234567]");
	memset(parent, 'p', sizeof(parent) - 1);
	parent[sizeof(parent) - 1] = 0;
	bl_kj_key(buf, parent, "0123456789012345678901234567890123456789");
	cr_assert_eq(strlen(buf), 90 + 1 + 30);
	cr_assert_eq(buf[90], '.');
	bl_kj_idx(buf, parent, (size_t)-1);
	cr_assert_eq(strlen(buf), 100 + 2 + 20);
	cr_assert_str_eq(buf + 100, "[18446744073709551615]");
}
