/* Field tables of the core/v1 kinds that typed clients send as protobuf, numbered as in
 * k8s.io/api/core/v1 and k8s.io/apimachinery/pkg/apis/meta/v1 generated.proto. */
#include "controlplane/apiserver/pb_decode.h"

#include <string.h>

#define MSG(var, ...)                                                                              \
	static const struct pb_field var##_f[] = {__VA_ARGS__};                                    \
	static const struct pb_msg var = {#var, var##_f, sizeof(var##_f) / sizeof(var##_f[0])}

MSG(OwnerReference, {1, "kind", PB_STRING, NULL, 0}, {3, "name", PB_STRING, NULL, 0},
    {4, "uid", PB_STRING, NULL, 0}, {5, "apiVersion", PB_STRING, NULL, 0},
    {6, "controller", PB_BOOL, NULL, 1}, {7, "blockOwnerDeletion", PB_BOOL, NULL, 1});

MSG(ObjectMeta, {1, "name", PB_STRING, NULL, 0}, {2, "generateName", PB_STRING, NULL, 0},
    {3, "namespace", PB_STRING, NULL, 0}, {4, "selfLink", PB_STRING, NULL, 0},
    {5, "uid", PB_STRING, NULL, 0}, {6, "resourceVersion", PB_STRING, NULL, 0},
    {7, "generation", PB_INT, NULL, 0}, {8, "creationTimestamp", PB_TIME, NULL, 0},
    {9, "deletionTimestamp", PB_TIME, NULL, 0}, {10, "deletionGracePeriodSeconds", PB_INT, NULL, 1},
    {11, "labels", PB_MAP_STRING, NULL, 0}, {12, "annotations", PB_MAP_STRING, NULL, 0},
    {13, "ownerReferences", PB_MSG_LIST, &OwnerReference, 0},
    {14, "finalizers", PB_STRING_LIST, NULL, 0});

MSG(ConfigMap, {1, "metadata", PB_MSG, &ObjectMeta, 0}, {2, "data", PB_MAP_STRING, NULL, 0},
    {3, "binaryData", PB_MAP_BYTES, NULL, 0}, {4, "immutable", PB_BOOL, NULL, 1});

MSG(Secret, {1, "metadata", PB_MSG, &ObjectMeta, 0}, {2, "data", PB_MAP_BYTES, NULL, 0},
    {3, "type", PB_STRING, NULL, 0}, {4, "stringData", PB_MAP_STRING, NULL, 0},
    {5, "immutable", PB_BOOL, NULL, 1});

MSG(NamespaceSpec, {1, "finalizers", PB_STRING_LIST, NULL, 0});
MSG(NamespaceStatus, {1, "phase", PB_STRING, NULL, 0});
MSG(Namespace, {1, "metadata", PB_MSG, &ObjectMeta, 0}, {2, "spec", PB_MSG, &NamespaceSpec, 0},
    {3, "status", PB_MSG, &NamespaceStatus, 0});

MSG(ObjectReference, {1, "kind", PB_STRING, NULL, 0}, {2, "namespace", PB_STRING, NULL, 0},
    {3, "name", PB_STRING, NULL, 0}, {4, "uid", PB_STRING, NULL, 0},
    {5, "apiVersion", PB_STRING, NULL, 0}, {6, "resourceVersion", PB_STRING, NULL, 0},
    {7, "fieldPath", PB_STRING, NULL, 0});
MSG(LocalObjectReference, {1, "name", PB_STRING, NULL, 0});
MSG(ServiceAccount, {1, "metadata", PB_MSG, &ObjectMeta, 0},
    {2, "secrets", PB_MSG_LIST, &ObjectReference, 0},
    {3, "imagePullSecrets", PB_MSG_LIST, &LocalObjectReference, 0},
    {4, "automountServiceAccountToken", PB_BOOL, NULL, 1});

MSG(ServicePort, {1, "name", PB_STRING, NULL, 0}, {2, "protocol", PB_STRING, NULL, 0},
    {3, "port", PB_INT, NULL, 0}, {4, "targetPort", PB_INT_OR_STRING, NULL, 0},
    {5, "nodePort", PB_INT, NULL, 0}, {6, "appProtocol", PB_STRING, NULL, 1});
MSG(ClientIPConfig, {1, "timeoutSeconds", PB_INT, NULL, 1});
MSG(SessionAffinityConfig, {1, "clientIP", PB_MSG, &ClientIPConfig, 0});
MSG(ServiceSpec, {1, "ports", PB_MSG_LIST, &ServicePort, 0},
    {2, "selector", PB_MAP_STRING, NULL, 0}, {3, "clusterIP", PB_STRING, NULL, 0},
    {4, "type", PB_STRING, NULL, 0}, {5, "externalIPs", PB_STRING_LIST, NULL, 0},
    {7, "sessionAffinity", PB_STRING, NULL, 0}, {8, "loadBalancerIP", PB_STRING, NULL, 0},
    {9, "loadBalancerSourceRanges", PB_STRING_LIST, NULL, 0},
    {10, "externalName", PB_STRING, NULL, 0}, {11, "externalTrafficPolicy", PB_STRING, NULL, 0},
    {12, "healthCheckNodePort", PB_INT, NULL, 0},
    {13, "publishNotReadyAddresses", PB_BOOL, NULL, 0},
    {14, "sessionAffinityConfig", PB_MSG, &SessionAffinityConfig, 0},
    {17, "ipFamilyPolicy", PB_STRING, NULL, 1}, {18, "clusterIPs", PB_STRING_LIST, NULL, 0},
    {19, "ipFamilies", PB_STRING_LIST, NULL, 0},
    {20, "allocateLoadBalancerNodePorts", PB_BOOL, NULL, 1},
    {21, "loadBalancerClass", PB_STRING, NULL, 1},
    {22, "internalTrafficPolicy", PB_STRING, NULL, 1});
MSG(LoadBalancerIngress, {1, "ip", PB_STRING, NULL, 0}, {2, "hostname", PB_STRING, NULL, 0});
MSG(LoadBalancerStatus, {1, "ingress", PB_MSG_LIST, &LoadBalancerIngress, 0});
MSG(ServiceStatus, {1, "loadBalancer", PB_MSG, &LoadBalancerStatus, 0});
MSG(Service, {1, "metadata", PB_MSG, &ObjectMeta, 0}, {2, "spec", PB_MSG, &ServiceSpec, 0},
    {3, "status", PB_MSG, &ServiceStatus, 0});

const struct pb_msg *bl_pb_kind_msg(const char *api_version, const char *kind)
{
	static const struct pb_msg *const kinds[] = {&ConfigMap, &Secret, &Namespace,
						     &ServiceAccount, &Service};

	if (strcmp(api_version, "v1"))
		return NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i]->name, kind))
			return kinds[i];
	return NULL;
}
