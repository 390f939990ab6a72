#include "controlplane/apiserver/resources.h"

#include <stdio.h>
#include <string.h>

const struct bl_resource bl_resources[] = {
	{"", "v1", "namespaces", "namespace", "Namespace", "ns", NULL, "status.phase", false,
	 RES_STATUS},
	{"", "v1", "pods", "pod", "Pod", "po", "all",
	 "spec.nodeName,spec.restartPolicy,spec.schedulerName,spec.serviceAccountName,"
	 "spec.hostNetwork,status.phase,status.podIP,status.nominatedNodeName",
	 true, RES_STATUS | RES_GRACEFUL | RES_BINDING},
	{"", "v1", "services", "service", "Service", "svc", "all", NULL, true, RES_STATUS},
	{"", "v1", "endpoints", "endpoints", "Endpoints", "ep", NULL, NULL, true, 0},
	{"", "v1", "nodes", "node", "Node", "no", NULL, "spec.unschedulable", false, RES_STATUS},
	{"", "v1", "configmaps", "configmap", "ConfigMap", "cm", NULL, NULL, true, 0},
	{"", "v1", "secrets", "secret", "Secret", NULL, NULL, "type", true, 0},
	{"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", "sa", NULL, NULL, true,
	 0},
	{"", "v1", "events", "event", "Event", "ev", NULL,
	 "involvedObject.kind,involvedObject.namespace,involvedObject.name,involvedObject.uid,"
	 "involvedObject.apiVersion,involvedObject.resourceVersion,involvedObject.fieldPath,"
	 "reason,reportingComponent,source,type",
	 true, 0},
	{"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", NULL, NULL,
	 "addressType", true, 0},
	{"networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", "netpol",
	 NULL, NULL, true, RES_GENERATION},
	{"coordination.k8s.io", "v1", "leases", "lease", "Lease", NULL, NULL, NULL, true, 0},
};

const size_t bl_nresources = sizeof(bl_resources) / sizeof(bl_resources[0]);

const struct bl_resource *bl_resource_find(const char *group, const char *version, const char *name)
{
	for (size_t i = 0; i < bl_nresources; i++) {
		const struct bl_resource *r = &bl_resources[i];

		if (!strcmp(r->group, group) && !strcmp(r->version, version) &&
		    !strcmp(r->name, name))
			return r;
	}
	return NULL;
}

void bl_resource_api_version(const struct bl_resource *r, char *buf, size_t len)
{
	if (r->group[0])
		snprintf(buf, len, "%s/%s", r->group, r->version);
	else
		snprintf(buf, len, "%s", r->version);
}

void bl_resource_qualified(const struct bl_resource *r, char *buf, size_t len)
{
	if (r->group[0])
		snprintf(buf, len, "%s.%s", r->name, r->group);
	else
		snprintf(buf, len, "%s", r->name);
}

void bl_resource_key(const struct bl_resource *r, const char *ns, const char *name, char *buf,
		     size_t len)
{
	if (!r->namespaced || !ns)
		snprintf(buf, len, "/registry/%s/%s", r->name, name ? name : "");
	else
		snprintf(buf, len, "/registry/%s/%s/%s", r->name, ns, name ? name : "");
}
