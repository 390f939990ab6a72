/* Backend-selection (test_svc_lb.c), conntrack-hygiene (test_ct_gc.c) and ICMP error
 * (test_icmp_err.c) and fragment (test_frag.c) cases, run by
 * test_tc_pod.c's main on its skeleton. */
#ifndef BPFLET_TEST_SVC_LB_CASES_H
#define BPFLET_TEST_SVC_LB_CASES_H

#include "selftests/bpf/harness.h"

struct tc_pod;
extern struct tc_pod *svc_lb_skel; /* set before running the cases */
extern const struct test_case svc_lb_cases[];
extern const int svc_lb_n_cases;
extern const struct test_case ct_gc_cases[];
extern const int ct_gc_n_cases;
extern const struct test_case icmp_err_cases[];
extern const int icmp_err_n_cases;
extern const struct test_case frag_cases[];
extern const int frag_n_cases;
extern const struct test_case xdp_cases[];
extern const int xdp_n_cases;
extern const struct test_case policy_cases[];
extern const int policy_n_cases;
/* the MSS tc_pod is loaded with for DSR replies (an uplink MTU of 1500) */
#define DSR_TEST_MSS 1440
extern const struct test_case dsr_cases[];
extern const int dsr_n_cases;
extern const struct test_case ct_tcp_cases[];
extern const int ct_tcp_n_cases;
extern const struct test_case batch_cases[];
extern const int batch_n_cases;
extern const struct test_case monitor_cases[];
extern const int monitor_n_cases;

#endif
